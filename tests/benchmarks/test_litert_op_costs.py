"""Smoke test of benchmarks/litert_op_costs.py (it has no size options; 10 s).

Keeps the script running (it shares `convert` with litert_step_profile.py)
and checks its table: one row per op with a time per batch size, and the
ratio column equal to the batch-32 time over the batch-1 time.
"""

import pytest


@pytest.mark.slow
def test_litert_op_costs_prints_one_row_per_op(run_benchmark):
    lines = run_benchmark("litert_op_costs.py").splitlines()
    assert lines[0] == ("| op, in a WHILE over a (B, 64, 4, 32) cache "
                        "| B=1 ms | B=32 ms | B=128 ms | ratio 32/1 |")
    rows = [[cell.strip() for cell in line.split("|")[1:-1]] for line in lines[2:]]
    names = [row[0] for row in rows]
    assert names[0] == "loop alone" and len(names) == 10
    assert "beam reorder: GATHER rows" in names
    for name, one, thirty_two, _, ratio in rows:
        # The write by concatenation copies the whole cache: never free.
        if name == "write: concat of slices":
            assert float(thirty_two) > float(one) > 0
        if float(one) >= 0.001:  # 4 decimals: enough digits for the ratio
            assert float(ratio) == pytest.approx(
                float(thirty_two) / float(one), rel=0.1, abs=0.06), name

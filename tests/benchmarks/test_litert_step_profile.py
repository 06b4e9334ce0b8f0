"""Smoke test of benchmarks/litert_step_profile.py at a tiny size.

The benchmark is a script, not a test; this keeps its probe graphs, its
variants and its interpreter checks running, and checks that its tables
hold what it measured: every component per batch, two variants taking
turns with the same ids, the checks' reference row at ratio 1.
"""

import re

import pytest

COMPONENTS = ["generate", "encode", "loop bare", "state carry", "decoder step",
              "decode_step"]


def rows_after(lines, title):
    """The table rows (cells) that follow the line starting with `title`."""
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    rows = []
    for line in lines[start + 3:]:  # title, header, rule
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.split("|")[1:-1]])
    return rows


@pytest.mark.slow
def test_litert_step_profile_prints_components_variants_and_checks(run_benchmark):
    stdout = run_benchmark(
        "litert_step_profile.py", "--families", "bahdanau", "--methods", "greedy",
        "--steps", "3", "--rounds", "1", "--variants", "base,keys-every-step",
        "--checks")
    lines = stdout.splitlines()

    for variant in ("base", "keys-every-step"):
        rows = rows_after(lines, f"bahdanau [{variant}] greedy (3 steps")
        assert [row[0] for row in rows] == COMPONENTS
        for component, one, many, _ in rows:
            # Timed directly (the others are differences of timings, or
            # a few microseconds that print as 0.00x).
            if component in ("generate", "encode", "decode_step"):
                assert float(one) > 0 and float(many) > 0, component
        _, one, many, ratio = rows[0]  # generate: batch 32 over batch 1
        assert float(ratio) == pytest.approx(float(many) / float(one), rel=0.05, abs=0.06)

    rows = rows_after(lines, "bahdanau greedy: generate per variant")
    assert [row[0] for row in rows] == ["base", "keys-every-step"]
    assert rows[0][2] == rows[0][4] == "1.00"  # base against itself
    assert [row[-1] for row in rows] == ["yes", "yes"]  # the same ids

    rows = rows_after(lines, "bahdanau greedy generate (ms/call, 3 steps)")
    assert [(row[0], row[1]) for row in rows] == [
        (batch, case) for batch in ("1", "32") for case in (
            "same shape, 1 thread", "alternating width, 1 thread",
            "same shape, 2 threads")]
    assert [row[3] for row in rows[::3]] == ["1.00", "1.00"]
    assert re.search(r"tokens/s: batch 1 \d+, batch 32 \d+", stdout)

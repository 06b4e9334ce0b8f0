"""Smoke test of benchmarks/demo_recipes.py at a tiny size.

The benchmark is a script, not a test; this keeps it running and checks
that its table says what it measured: the four decoder recipes, the models
they build (input feeding widens the decoder cells' input by `units`), and
the baseline's ratio 1.
"""

import pytest


@pytest.mark.slow
def test_demo_recipes_prints_each_recipe_against_the_demo_before(run_benchmark):
    lines = run_benchmark(
        "demo_recipes.py", "--units", "8", "--batch-size", "16",
        "--batches", "3", "--rounds", "2", "--max-words", "1600").splitlines()
    assert any("CMUdict train split" in line and "batches of 16" in line for line in lines)
    rows = [[cell.strip() for cell in line.split("|")[1:-1]] for line in lines
            if line.startswith("| ") and "decoder |" not in line]
    assert [row[0] for row in rows] == [
        "bahdanau, with input feeding (the demo before; baseline)",
        "luong, with input feeding",
        "bahdanau, no input feeding",
        "luong, no input feeding (the demo)",
    ]
    params = {row[0].split(" (")[0]: int(row[1].replace(",", "")) for row in rows}
    # Input feeding adds units x 4 gates x units inputs to the first decoder
    # cell's kernel (LSTM, 8 units): 256 weights, whatever the attention.
    for attention in ("bahdanau", "luong"):
        assert params[f"{attention}, with input feeding"] - \
            params[f"{attention}, no input feeding"] == 8 * 4 * 8
    for row in rows:
        assert float(row[2].split()[0]) > 0  # training examples/s
    assert float(rows[0][3]) == 1.0  # the baseline against itself

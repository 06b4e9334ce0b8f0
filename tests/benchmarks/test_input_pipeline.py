"""Smoke test of benchmarks/input_pipeline.py at a tiny size.

The benchmark is a script, not a test; this keeps it running and checks
that its table says what it measured: one row per pipeline, each pipeline
producing an epoch's worth of batches, the baseline's ratio 1.
"""

import re

import pytest


@pytest.mark.slow
def test_input_pipeline_prints_one_row_per_pipeline_against_the_baseline(run_benchmark):
    lines = run_benchmark(
        "input_pipeline.py", "--units", "8", "--batch-size", "16",
        "--batches", "3", "--rounds", "1", "--max-words", "1600").splitlines()
    header = next(line for line in lines if "CMUdict train split" in line)
    examples, batches = map(int, re.search(
        r"(\d+) examples, (\d+) batches of 16", header).groups())
    # 1600 words less the 1000 test words and 5% of the rest for validation:
    # about 570 training words, one example per pronunciation.
    assert 550 <= examples <= 700
    assert -(-examples // 16) <= batches <= examples
    rows = [line.split("|")[1:-1] for line in lines
            if line.startswith("| ") and "pipeline |" not in line]
    names = [row[0].strip() for row in rows]
    assert names == [
        "per-example tf.data, index gather (make_dataset before; baseline)",
        "per-example tf.data, column slices",
        "keras_seq make_dataset",
    ]
    for row in rows:
        assert float(row[1]) > 0  # one epoch alone, seconds
        assert float(row[2].split()[0]) > 0  # training examples/s
    assert float(rows[0][3]) == 1.0  # the baseline against itself

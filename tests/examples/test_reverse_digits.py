"""Smoke test of the `make demo` example with a tiny configuration."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.slow
def test_reverse_digits_example_runs_and_exports_agree():
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "examples", "reverse_digits.py"),
         "--epochs", "1", "--examples", "200", "--units", "16"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "greedy" in out and "beam-4" in out
    assert "SavedModel agrees with Keras: True" in out
    assert "TFLite agrees with Keras:     True" in out
    assert "Flex" not in out.split("TFLite ops")[-1]

"""Fixtures for the benchmark scripts' smoke tests."""

import os
import subprocess
import sys

import pytest

BENCHMARKS = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    "benchmarks")


@pytest.fixture
def run_benchmark():
    """`run_benchmark("name.py", *args)`: run benchmarks/name.py with this
    Python, assert that it exits 0 (showing its stderr if not), return its
    stdout."""

    def run(script, *args):
        result = subprocess.run(
            [sys.executable, os.path.join(BENCHMARKS, script), *args],
            capture_output=True, text=True, timeout=600,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    return run

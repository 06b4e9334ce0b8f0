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
    """`run_benchmark("name.py", *args, returncode=0)`: run benchmarks/name.py
    with this Python and assert its exit status (showing its stderr if it
    differs). Returns its stdout, or its stderr where a non-zero status is
    expected (a refusal's message)."""

    def run(script, *args, returncode=0):
        result = subprocess.run(
            [sys.executable, os.path.join(BENCHMARKS, script), *args],
            capture_output=True, text=True, timeout=600,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        )
        assert result.returncode == returncode, result.stderr[-3000:]
        return result.stdout if returncode == 0 else result.stderr

    return run

"""Smoke test of examples/vanishing_gradients.py with a tiny configuration."""

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.slow
def test_vanishing_gradients_prints_the_table_and_writes_the_png(tmp_path):
    out_png = tmp_path / "gradients.png"
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "examples", "vanishing_gradients.py"),
         "--length", "6", "--units", "8", "--steps", "2", "--probe", "2",
         "--out", str(out_png)],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    # One table row per cell and condition, with finite positive norms.
    rows = re.findall(r"^ *(simple_rnn|lstm|gru) +(init|trained|trained\+clip) +(.*)$",
                      out, re.M)
    assert len(rows) == 9
    for _, _, values in rows:
        numbers = [float(v) for v in values.split()]
        assert all(0 < n < float("inf") for n in numbers)
    for condition in ("init", "trained", "trained+clip"):
        ranking = re.search(rf"fastest vanishing first \({re.escape(condition)}\): (.*)", out)
        assert sorted(p.split()[0] for p in ranking.group(1).split(", ")) == [
            "gru", "lstm", "simple_rnn"]
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

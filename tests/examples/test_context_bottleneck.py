"""Smoke test of examples/context_bottleneck.py with a tiny configuration."""

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.slow
def test_context_bottleneck_prints_the_table_and_writes_the_png(tmp_path):
    out_png = tmp_path / "bottleneck.png"
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "examples", "context_bottleneck.py"),
         "--epochs", "1", "--examples", "60", "--max-length", "12", "--units", "8",
         "--out", str(out_png)],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    for name in ("RNN", "RNN+attention", "Transformer"):
        assert re.search(rf"^{re.escape(name)}: exact match [01]\.\d{{3}}, ", out, re.M)
    assert "| bucket | count |   RNN | RNN+attention | Transformer |" in out
    buckets = re.findall(r"^\| (\d+-\d+) +\| +(\d+) \|", out, re.M)
    assert buckets and sum(int(count) for _, count in buckets) == 6  # the test split
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

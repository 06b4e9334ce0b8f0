"""Smoke test of the G2P example behind `make demo`, with a tiny config."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.slow
@pytest.mark.parametrize("flags, model", [
    ([], "model: luong attention, no input feeding, 16 units"),  # the demo
    (["--attention", "bahdanau", "--input-feeding"],  # the demo before #12
     "model: bahdanau attention, with input feeding, 16 units"),
], ids=["demo", "bahdanau-input-feeding"])
def test_g2p_example_trains_evaluates_exports_and_pronounces(tmp_path, flags, model):
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "examples", "g2p_cmudict.py"),
         "--minutes", "0.1", "--units", "16", "--max-words", "1500",
         "--test-size", "100", "--out", str(tmp_path), *flags],
        capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert model in out.splitlines()
    assert "test: 100 words, WER" in out
    assert "summary: WER" in out
    table = out.split("| TFLite\n")[1].split("\nsummary")[0].strip().splitlines()
    assert len(table) >= 5
    for row in table:  # Keras, SavedModel and TFLite agree word by word
        word, *runtimes = [cell.strip() for cell in row.split("|")]
        assert len(runtimes) == 3 and len(set(runtimes)) == 1, row
    assert os.path.isfile(tmp_path / "g2p_cmudict" / "1" / "saved_model.pb")
    assert os.path.isfile(tmp_path / "g2p_cmudict.tflite")
    assert (tmp_path / "g2p_attention.png").read_bytes()[:4] == b"\x89PNG"

"""Smoke tests of examples/tflite_inference.py on tiny exported models."""

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "examples", "tflite_inference.py")


def tiny_model():
    import keras_seq
    from keras_seq.text import CharTokenizer

    tokenizer = CharTokenizer.from_corpus(["abcdefgh"])
    model = keras_seq.models.rnn_seq2seq(
        tokenizer.vocab_size, tokenizer.vocab_size, cell="gru", units=8,
        attention="luong",
    )
    return tokenizer, model


def run(*args):
    return subprocess.run(
        [sys.executable, SCRIPT, *args], capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
def test_texts_through_generate_and_the_app_loop_agree_with_keras(tmp_path):
    import keras_seq

    tokenizer, model = tiny_model()
    path, vocab = tmp_path / "m.tflite", tmp_path / "m.vocab"
    keras_seq.export.export_tflite(model, path)
    tokenizer.save_vocabulary(vocab)
    texts = ["abc", "hag", "ｂe", "a?"]  # full-width b is "b"; "?" is UNK
    expected = model.generate(tokenizer.tokenize(texts))
    expected = tokenizer.detokenize(expected["ids"], expected["lengths"]).numpy()

    result = run(str(path), "--vocab", str(vocab), *texts)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "generate: encoder_ids -> ids, lengths, scores" in out
    assert "encode: encoder_ids -> memory, memory_mask" in out
    assert "decode_step: ids, memory, memory_mask" in out
    got = re.findall(r"^ *'(.*?)'  generate: '(.*?)' \(", out, re.M)
    assert got == [(t, e.decode()) for t, e in zip(texts, expected)]
    assert "generate and the app loop agree: True" in out


@pytest.mark.slow
def test_static_shape_export_pads_and_cuts_the_sources(tmp_path):
    import keras_seq

    _, model = tiny_model()
    path = tmp_path / "static.tflite"
    keras_seq.export.export_tflite(model, path, max_source_length=4, batch_size=3)
    # Two sources for a batch of 3; one longer than 4 (generate cuts it too).
    result = run(str(path), "4 5 6", "7 8 9 10 11 4")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "generate and the app loop agree: True" in result.stdout
    result = run(str(path), "4", "5", "6", "7")
    assert result.returncode == 2
    assert "decodes 3 sources at a time" in result.stderr

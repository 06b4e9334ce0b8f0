"""Smoke tests of examples/tflite_inference.py on tiny exported models."""

import os
import re
import subprocess
import sys

import numpy as np
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


@pytest.mark.slow
def test_the_app_loop_applies_the_controls_as_generate_does(tmp_path):
    """Streaming with min length, n-gram blocking, repetition penalty, a
    per-row bound and prefixes: the app loop gives exactly `generate`'s output."""
    import keras_seq

    tokenizer, model = tiny_model()  # untrained: it repeats itself, so the rules bite
    controls = dict(min_length=4, no_repeat_ngram_size=2, repetition_penalty=1.5,
                    max_length_a=1.0, max_length_b=3)
    path, vocab = tmp_path / "c.tflite", tmp_path / "c.vocab"
    keras_seq.export.export_tflite(model, path, target_prefix=True, **controls)
    tokenizer.save_vocabulary(vocab)
    texts, prefixes = ["abc", "hag", "e", "dcba"], ["bb", "", "h"]
    expected = model.generate(tokenizer.tokenize(texts), **controls,
                              target_prefix=tokenizer.tokenize(prefixes + [""]))
    expected_text = tokenizer.detokenize(expected["ids"], expected["lengths"]).numpy()
    free = model.generate(tokenizer.tokenize(texts))
    assert not np.array_equal(free["lengths"], expected["lengths"])  # the controls bite

    flags = ["--min-length", "4", "--no-repeat-ngram-size", "2", "--repetition-penalty",
             "1.5", "--max-length-a", "1", "--max-length-b", "3"]
    prefix_flags = [arg for p in prefixes for arg in ("--prefix", p)]
    result = run(str(path), "--vocab", str(vocab), *texts, *flags, *prefix_flags)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "generate and the app loop agree: True" in out
    got = re.findall(r"^ *'(.*?)'  generate: '(.*?)' \(.*app loop: '(.*?)'", out, re.M)
    assert got == [(t, e.decode(), e.decode()) for t, e in zip(texts, expected_text)]
    assert got[0][1].startswith("bb") and got[2][1].startswith("h")
    # The tokens came one step at a time.
    assert re.search(r"^  step 0: 'abc'\+'b'", out, re.M)
    # Without the same controls the app loop disagrees: the check can fail.
    result = run(str(path), "--vocab", str(vocab), *texts, *prefix_flags)
    assert "generate and the app loop agree: False" in result.stdout

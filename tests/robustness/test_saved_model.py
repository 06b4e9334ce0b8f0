"""Hostile inputs through the exported SavedModel's `text` and `generate_ids`."""

import numpy as np
import pytest
import tensorflow as tf


@pytest.fixture(scope="module")
def signatures(exports):
    return tf.saved_model.load(exports["saved_model"]).signatures


def reference_ids(ids, hostile):
    """What the export promises to decode: bad ids as UNK, sources cut."""
    ids = np.where((ids >= 0) & (ids < hostile.V), ids, 1)
    return ids[:, : hostile.MAX_SOURCE_LENGTH].astype(np.int32)


@pytest.mark.slow
def test_text_signature(text_case, hostile, signatures, model, tokenizer):
    texts = hostile.TEXTS[text_case]
    out = signatures["serving_default"](text=tf.constant(texts, tf.string))
    got, scores = [t.decode() for t in out["text"].numpy()], out["score"].numpy()
    assert len(got) == scores.shape[0] == len(texts)
    assert np.all(np.isfinite(scores))
    # The same as the Python API on the source cut to max_source_length.
    ids = tokenizer.tokenize(texts, max_length=hostile.MAX_SOURCE_LENGTH)
    expected = model.generate(ids)
    want = tokenizer.detokenize(expected["ids"], expected["lengths"]).numpy()
    assert got == [t.decode() for t in want]
    np.testing.assert_allclose(scores, expected["scores"], atol=1e-4)
    for i, text in enumerate(texts):
        if not text:  # empty input, empty output, score 0
            assert got[i] == "" and scores[i] == 0.0


@pytest.mark.slow
def test_generate_ids_signature(ids_case, hostile, signatures, model):
    ids = hostile.IDS[ids_case]
    if ids.dtype.kind == "f":  # refused by the signature's int32 input
        with pytest.raises(
            tf.errors.InvalidArgumentError, match="expected to be a int32 tensor"
        ):
            signatures["generate_ids"](encoder_ids=tf.constant(ids))
        return
    out = signatures["generate_ids"](encoder_ids=tf.constant(ids))
    hostile.assert_defined(out, len(ids))
    expected = model.generate(reference_ids(ids, hostile))
    np.testing.assert_array_equal(out["ids"], expected["ids"])
    np.testing.assert_array_equal(out["lengths"], expected["lengths"])
    np.testing.assert_allclose(out["scores"], expected["scores"], atol=1e-4)
    empty_rows = ~np.any(ids != 0, axis=1)
    assert np.all(out["lengths"].numpy()[empty_rows] == 0)
    assert np.all(out["scores"].numpy()[empty_rows] == 0.0)


@pytest.mark.slow
def test_a_30_mb_text_is_refused_by_its_bytes_before_tokenizing(signatures):
    huge = "abcdefghij" * 3_000_000  # 30 MB
    with pytest.raises(tf.errors.InvalidArgumentError) as error:
        signatures["serving_default"](text=tf.constant(["a", huge]))
    assert ("Expected texts of at most 262144 bytes (16 per token of "
            "max_input_length=16384), checked before tokenizing. Received: a text "
            "of 30000000 bytes") in str(error.value)
    # Within the byte bound, the token bound still speaks (tokens, not bytes).
    with pytest.raises(tf.errors.InvalidArgumentError, match="an input of 100000 tokens"):
        signatures["serving_default"](text=tf.constant(["abcdefghij" * 10_000]))
    out = signatures["serving_default"](text=tf.constant(["abc"]))
    assert out["text"].shape == (1,)  # and it keeps serving

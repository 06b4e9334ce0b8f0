"""Request bounds: a SavedModel refuses, a .tflite file cuts, memory stays bounded."""

import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

from keras_seq.export import assert_builtins_only, export_saved_model, export_tflite
from keras_seq.export.serving_module import ServingModule

SMALL = dict(max_batch_size=8, max_input_length=64, max_batch_tokens=100)
HUGE = 100_000


@pytest.fixture(scope="module")
def signatures(exports):
    return tf.saved_model.load(exports["saved_model"]).signatures


@pytest.fixture(scope="module")
def small(model, tmp_path_factory):
    """`generate_ids` and the TFLite `generate` under SMALL bounds."""
    root = tmp_path_factory.mktemp("small_bounds")
    saved = export_saved_model(model, str(root / "m" / "1"), **SMALL)
    lite = str(root / "m.tflite")
    export_tflite(model, lite, **SMALL)
    return {
        "generate_ids": tf.saved_model.load(saved).signatures["generate_ids"],
        "tflite": lite,
    }


def ids_of(batch, length):
    return np.tile(np.arange(4, 14, dtype=np.int32), length // 10 + 1)[None, :length] \
        .repeat(batch, axis=0)


def assert_answers(out, model, ids):
    expected = model.generate(ids)
    np.testing.assert_array_equal(np.asarray(out["ids"])[:, : expected["ids"].shape[1]],
                                  expected["ids"])
    np.testing.assert_array_equal(out["lengths"], expected["lengths"])
    np.testing.assert_allclose(out["scores"], expected["scores"], atol=1e-4)


@pytest.mark.slow
def test_100000_token_input_is_refused_and_the_model_keeps_serving(
    signatures, model, tokenizer
):
    with pytest.raises(
        tf.errors.InvalidArgumentError,
        match=r"Invalid shape for argument `encoder_ids`\. Expected inputs of at "
              r"most max_input_length=16384 tokens.*Received: an input of 100000 tokens",
    ):
        signatures["generate_ids"](encoder_ids=tf.constant(ids_of(1, HUGE)))
    with pytest.raises(
        tf.errors.InvalidArgumentError,
        match=r"Invalid shape for argument `text`\. Expected inputs of at most "
              r"max_input_length=16384 tokens.*Received: an input of 100000 tokens",
    ):
        signatures["serving_default"](text=tf.constant(["abcdefghij" * (HUGE // 10)]))
    # The same process answers the next, normal request.
    out = signatures["generate_ids"](encoder_ids=tf.constant(ids_of(2, 5)))
    assert_answers(out, model, ids_of(2, 5))
    text = signatures["serving_default"](text=tf.constant(["abc", ""]))
    expected = model.generate(tokenizer.tokenize(["abc", ""]))
    want = tokenizer.detokenize(expected["ids"], expected["lengths"]).numpy()
    assert text["text"].numpy().tolist() == want.tolist()


@pytest.mark.slow
def test_a_batch_past_max_batch_size_is_refused(signatures):
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"`encoder_ids`.*max_batch_size=1024.*1025 inputs"):
        signatures["generate_ids"](encoder_ids=tf.constant(ids_of(1025, 3)))
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"`text`.*max_batch_size=1024.*1025 inputs"):
        signatures["serving_default"](text=tf.constant(["abc"] * 1025))


@pytest.mark.slow
def test_small_bounds_refuse_in_the_saved_model(small, model):
    generate = small["generate_ids"]
    for batch, length, message in [
        (9, 3, r"max_batch_size=8.*9 inputs"),
        (1, 65, r"max_input_length=64 tokens\..*65 tokens"),
        (4, 30, r"max_batch_tokens=100.*4 inputs x 30 tokens"),
    ]:
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            generate(encoder_ids=tf.constant(ids_of(batch, length)))
    for batch, length in [(8, 3), (1, 64), (3, 30)]:  # at the bounds: answered
        out = generate(encoder_ids=tf.constant(ids_of(batch, length)))
        assert_answers(out, model, ids_of(batch, length))


@pytest.mark.slow
def test_tflite_cuts_instead_of_refusing(small, model):
    assert "WHILE" in assert_builtins_only(small["tflite"])  # no Assert op
    runner = Interpreter(small["tflite"]).get_signature_runner("generate")
    # Rows past max_batch_size are dropped.
    out = runner(encoder_ids=ids_of(10, 3))
    assert out["lengths"].shape == (8,)
    assert_answers(out, model, ids_of(8, 3))
    # Inputs are cut to max_input_length, then to max_batch_tokens // B.
    for batch, length, kept in [(1, 200, 64), (4, 30, 25), (2, HUGE, 50)]:
        out = runner(encoder_ids=ids_of(batch, length))
        assert_answers(out, model, ids_of(batch, kept))


def test_bounds_must_be_positive_integers(model):
    for name in ("max_batch_size", "max_input_length", "max_batch_tokens"):
        with pytest.raises(ValueError, match=rf"`{name}`.*positive integer"):
            ServingModule(model, **{name: 0})

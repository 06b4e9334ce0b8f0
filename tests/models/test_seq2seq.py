"""Seq2Seq and its builders: fit, evaluate, save/load, precision, errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_seq.metrics import MaskedSparseCrossEntropy, SequenceAccuracy, TokenAccuracy
from keras_seq.models import Seq2Seq, rnn_seq2seq, transformer_seq2seq

V = 12

BUILDERS = {
    "rnn-lstm": lambda: rnn_seq2seq(V, V, cell="lstm", units=32),
    "rnn-gru-bidi": lambda: rnn_seq2seq(V, V, cell="gru", units=32, bidirectional=True),
    "rnn-simple": lambda: rnn_seq2seq(V, V, cell="simple_rnn", units=32),
    "bahdanau-lstm": lambda: rnn_seq2seq(V, V, units=32, attention="bahdanau"),
    "luong-gru-2layers": lambda: rnn_seq2seq(
        V, V, cell="gru", units=32, num_layers=2, attention="luong"
    ),
    "transformer": lambda: transformer_seq2seq(
        V, V, num_layers=1, dim=32, num_heads=2, ff_dim=64, max_length=16
    ),
}


def compiled(model, lr=1e-2):
    model.compile(
        keras.optimizers.Adam(lr),
        MaskedSparseCrossEntropy(),
        metrics=[TokenAccuracy(), SequenceAccuracy()],
    )
    return model


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_builder_learns_copy_task(name, copy_task):
    x, y = copy_task(512)
    model = compiled(BUILDERS[name]())
    history = model.fit(x, y, batch_size=64, epochs=8, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses))
    assert losses[-1] < 0.6 * losses[0], losses
    assert history.history["token_accuracy"][-1] > 0.4


def test_fit_and_evaluate_with_tf_data(copy_task):
    x, y = copy_task(128)
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
    model = compiled(rnn_seq2seq(V, V, units=16, attention="luong"))
    model.fit(data, epochs=1, verbose=0)
    results = model.evaluate(data, verbose=0, return_dict=True)
    assert set(results) >= {"loss", "token_accuracy", "sequence_accuracy"}
    assert np.isfinite(results["loss"])


@pytest.mark.slow
@pytest.mark.parametrize("name", ["bahdanau-lstm", "rnn-gru-bidi", "transformer"])
def test_trained_model_saves_and_loads_with_safe_mode(name, copy_task, tmp_path):
    x, y = copy_task(128)
    model = compiled(BUILDERS[name]())
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)  # safe_mode on, no custom_objects
    assert isinstance(loaded, Seq2Seq)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.evaluate(x, y, verbose=0)[0] == pytest.approx(
        model.evaluate(x, y, verbose=0)[0], rel=1e-6
    )


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_config_round_trip(name, copy_task):
    x, _ = copy_task(4)
    model = BUILDERS[name]()
    expected = model(x)
    clone = Seq2Seq.from_config(model.get_config())
    clone(x)
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(clone(x), expected)
    assert clone.get_config()["encoder"] == model.get_config()["encoder"]


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
@pytest.mark.parametrize("name", ["bahdanau-lstm", "rnn-gru-bidi", "transformer"])
def test_mixed_precision_runs_with_float32_logits_and_loss(name, policy, copy_task):
    keras.mixed_precision.set_global_policy(policy)
    x, y = copy_task(64)
    model = compiled(BUILDERS[name](), lr=1e-3)
    assert model.encoder.compute_dtype == policy.split("_")[1]
    logits = model(x)
    assert logits.dtype == "float32"
    assert MaskedSparseCrossEntropy()(y, logits).dtype == "float32"
    history = model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][-1])


def test_return_attention_for_plots(copy_task):
    x, _ = copy_task(3)
    model = rnn_seq2seq(V, V, units=16, attention="bahdanau")
    logits, weights = model(x, return_attention=True)
    assert weights.shape == (3, x["decoder_ids"].shape[1], x["encoder_ids"].shape[1])


def test_bad_input_errors_name_the_argument(copy_task):
    x, _ = copy_task(2)
    model = rnn_seq2seq(V, V, units=16)
    with pytest.raises(TypeError, match="`encoder_ids`"):
        model({"encoder_ids": x["encoder_ids"].astype("float32"),
               "decoder_ids": x["decoder_ids"]})
    with pytest.raises(ValueError, match="`decoder_ids`.*rank-2"):
        model({"encoder_ids": x["encoder_ids"], "decoder_ids": x["decoder_ids"][0]})
    with pytest.raises(ValueError, match="`inputs`"):
        model({"source": x["encoder_ids"]})
    with pytest.raises(ValueError, match="`cell`.*'rnn'"):
        rnn_seq2seq(V, V, cell="rnn")
    with pytest.raises(ValueError, match="`attention`.*'additive'"):
        rnn_seq2seq(V, V, attention="additive")
    with pytest.raises(ValueError, match="`units`.*even"):
        rnn_seq2seq(V, V, units=7, bidirectional=True)
    transformer = transformer_seq2seq(V, V, num_layers=1, dim=8, num_heads=2,
                                      ff_dim=8, max_length=4)
    with pytest.raises(Exception, match="max_length"):
        transformer({"encoder_ids": np.ones((1, 9), "int32"),
                     "decoder_ids": np.ones((1, 3), "int32")})

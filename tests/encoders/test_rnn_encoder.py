"""RNNEncoder: cell math against NumPy, masking, functional use, fit."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_seq.encoders import EncoderOutput, RNNEncoder
from testing import run_layer_test

RNG = np.random.default_rng(0)
IDS = np.array([[5, 6, 7, 8], [9, 4, 0, 0]], "int32")


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_cell(kind, cell, x, state):
    """One step of Keras' SimpleRNN/LSTM/GRU cell equations in NumPy."""
    w = {v.path.split("/")[-1]: v.numpy() for v in cell.weights}
    W, U, b = w["kernel"], w["recurrent_kernel"], w["bias"]
    if kind == "simple_rnn":
        (h,) = state
        h = np.tanh(x @ W + h @ U + b)
        return h, (h,)
    if kind == "lstm":
        h, c = state
        z = x @ W + h @ U + b
        i, f, g, o = np.split(z, 4, axis=-1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        return h, (h, c)
    (h,) = state  # GRU, reset_after=True: bias rows are (input, recurrent).
    xz, xr, xh = np.split(x @ W + b[0], 3, axis=-1)
    hz, hr, hh = np.split(h @ U + b[1], 3, axis=-1)
    z = sigmoid(xz + hz)
    r = sigmoid(xr + hr)
    h = z * h + (1 - z) * np.tanh(xh + r * hh)
    return h, (h,)


def np_encoder(encoder, ids):
    """Reference forward pass with masks (carry state, zero output)."""
    x = encoder.embedding.embeddings.numpy()[ids]
    mask = ids != 0
    batch, steps = ids.shape
    n_states = 2 if encoder.cell == "lstm" else 1
    finals = []
    for layer_cells in encoder.cells:
        outs, layer_final = [], []
        for direction, cell in enumerate(layer_cells):
            state = tuple(np.zeros((batch, encoder.units)) for _ in range(n_states))
            out = np.zeros((batch, steps, encoder.units))
            order = range(steps - 1, -1, -1) if direction else range(steps)
            for t in order:
                h, new = np_cell(encoder.cell, cell, x[:, t], state)
                keep = mask[:, t : t + 1]
                state = tuple(np.where(keep, n, s) for n, s in zip(new, state))
                out[:, t] = np.where(keep, h, 0.0)
            outs.append(out)
            layer_final.append(state)
        x = np.concatenate(outs, -1)
        finals.append(tuple(np.concatenate(s, -1) for s in zip(*layer_final)))
    return x, finals


@pytest.mark.parametrize("cell", ["simple_rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_matches_numpy_reference(cell, bidirectional):
    encoder = RNNEncoder(12, 6, cell=cell, num_layers=2, bidirectional=bidirectional)
    encoder(IDS)
    for v in encoder.weights:
        v.assign(RNG.normal(scale=0.5, size=v.shape).astype("float32"))
    out = encoder(IDS)
    sequence, finals = np_encoder(encoder, IDS)
    np.testing.assert_allclose(out.sequence, sequence, atol=1e-5)
    for got, want in zip(out.state, finals):
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, atol=1e-5)
    np.testing.assert_array_equal(out.padding_mask, IDS != 0)


def test_simple_rnn_uses_the_same_weights_at_every_step():
    """h_t = tanh(W_x x_t + W_h h_{t-1} + b), written out for three steps."""
    encoder = RNNEncoder(10, 3, cell="simple_rnn", embedding_dim=2)
    ids = np.array([[4, 5, 6]], "int32")
    encoder(ids)
    embed = encoder.embedding.embeddings.numpy()
    wx, wh, b = (v.numpy() for v in encoder.cells[0][0].weights)
    h = np.zeros(3)
    expected = []
    for token in ids[0]:
        h = np.tanh(embed[token] @ wx + h @ wh + b)
        expected.append(h)
    np.testing.assert_allclose(encoder(ids).sequence[0], np.stack(expected), atol=1e-6)


@settings(max_examples=8, deadline=None)
@given(
    cell=st.sampled_from(["simple_rnn", "lstm", "gru"]),
    extra=st.integers(1, 4),
    bidirectional=st.booleans(),
)
def test_appended_padding_changes_nothing(cell, extra, bidirectional):
    encoder = RNNEncoder(12, 5, cell=cell, bidirectional=bidirectional)
    padded = np.pad(IDS, ((0, 0), (0, extra)))
    a, b = encoder(IDS), encoder(padded)
    np.testing.assert_allclose(a.sequence, b.sequence[:, : IDS.shape[1]], atol=1e-6)
    assert np.all(b.sequence.numpy()[:, IDS.shape[1] :] == 0)
    for sa, sb in zip(a.state, b.state):
        for x, y in zip(sa, sb):
            np.testing.assert_allclose(x, y, atol=1e-6)


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
@pytest.mark.parametrize("cell", ["simple_rnn", "lstm", "gru"])
def test_all_padding_row_finite_outputs_and_gradients(policy, cell):
    keras.mixed_precision.set_global_policy(policy)
    encoder = RNNEncoder(12, 5, cell=cell, bidirectional=True)
    ids = np.array([[0, 0, 0], [4, 5, 0]], "int32")
    with tf.GradientTape() as tape:
        out = encoder(ids, training=True)
        loss = tf.reduce_sum(tf.cast(out.sequence, "float32")) + sum(
            tf.reduce_sum(tf.cast(s, "float32")) for s in out.state[0]
        )
    grads = tape.gradient(loss, encoder.trainable_weights)
    assert np.all(np.isfinite(tf.cast(out.sequence, "float32").numpy()))
    grads = [tf.convert_to_tensor(g) for g in grads]  # embeddings: IndexedSlices
    assert all(np.all(np.isfinite(tf.cast(g, "float32").numpy())) for g in grads)
    assert out.sequence.dtype == encoder.compute_dtype


def test_returns_encoder_output_with_per_layer_states():
    encoder = RNNEncoder(12, 4, cell="lstm", num_layers=3, bidirectional=True)
    out = encoder(IDS)
    assert isinstance(out, EncoderOutput)
    assert out.sequence.shape == (2, 4, 8)
    assert len(out.state) == 3 and all(len(s) == 2 for s in out.state)
    assert all(t.shape == (2, 8) for s in out.state for t in s)


def test_sequence_classifier_in_a_functional_model():
    ids = keras.Input((None,), dtype="int32")
    encoded = RNNEncoder(12, 8, cell="gru")(ids)
    logits = keras.layers.Dense(2)(encoded.state[-1][0])
    model = keras.Model(ids, logits)
    model.compile(
        keras.optimizers.Adam(0.03),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    rng = np.random.default_rng(1)
    x = rng.integers(4, 12, (256, 6)).astype("int32")
    x[rng.random(x.shape) < 0.2] = 0
    y = (x == 7).any(axis=1).astype("int32")  # "does token 7 occur?"
    model.fit(x, y, epochs=15, batch_size=64, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] > 0.9


@pytest.mark.parametrize("cell", ["simple_rnn", "lstm", "gru"])
def test_layer_checks(cell):
    """Config round trip, build() creates every weight, symbolic == eager,
    mixed precision (tests/testing.py)."""
    output = run_layer_test(
        lambda: RNNEncoder(12, 4, cell=cell, num_layers=2, bidirectional=True,
                           dropout=0.1, embedding_dim=3), (IDS,))
    assert output.sequence.shape == (*IDS.shape, 8)


def test_bad_input_errors_name_the_argument():
    with pytest.raises(ValueError, match="`cell`.*'rnn'"):
        RNNEncoder(12, 4, cell="rnn")
    encoder = RNNEncoder(12, 4)
    with pytest.raises(TypeError, match="`encoder_ids`"):
        encoder(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match="`encoder_ids`.*rank-2"):
        encoder(np.ones((2, 3, 1), "int32"))
    with pytest.raises(ValueError, match="`dropout`"):
        RNNEncoder(12, 4, dropout=1.5)

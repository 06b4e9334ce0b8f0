"""Bahdanau and Luong attention against NumPy references."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_seq.layers import BahdanauAttention, LuongAttention
from testing import run_layer_test

RNG = np.random.default_rng(0)
QUERY = RNG.normal(size=(2, 3, 4)).astype("float32")  # (B, T, Dq)
MEMORY = RNG.normal(size=(2, 5, 6)).astype("float32")  # (B, S, Dm)
MASK = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)


def np_softmax_masked(scores, mask):
    scores = np.where(mask[:, None, :], scores, -np.inf)
    e = np.exp(scores - scores.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def np_bahdanau(layer, q, m):
    w = {v.path.split("/")[-1]: v.numpy() for v in layer.weights}
    hidden = (q @ w["query_kernel"])[:, :, None] + (m @ w["key_kernel"])[:, None]
    v = w["score_vector"]
    if layer.normalize:
        hidden = hidden + w["score_bias"]
        v = w["score_scale"] * v / np.linalg.norm(v)
    return np.tanh(hidden) @ v  # (B, T, S)


def np_luong(layer, q, m):
    w = {v.path.split("/")[-1]: v.numpy() for v in layer.weights}
    if layer.score == "dot":
        scores = q @ m.transpose(0, 2, 1)
    elif layer.score == "general":
        scores = q @ (m @ w["kernel"]).transpose(0, 2, 1)
    else:
        hidden = (q @ w["query_kernel"])[:, :, None] + (m @ w["key_kernel"])[:, None]
        scores = np.tanh(hidden) @ w["score_vector"]
    if layer.scale:
        scores = scores * w["score_scale"]
    return scores


def randomize(layer):
    for v in layer.weights:
        v.assign(RNG.normal(size=v.shape).astype("float32"))


CASES = [
    (lambda: BahdanauAttention(7), np_bahdanau, 6),
    (lambda: BahdanauAttention(7, normalize=True), np_bahdanau, 6),
    (lambda: LuongAttention(score="dot"), np_luong, 4),
    (lambda: LuongAttention(score="general"), np_luong, 6),
    (lambda: LuongAttention(score="general", scale=True), np_luong, 6),
    (lambda: LuongAttention(5, score="concat"), np_luong, 6),
    (lambda: LuongAttention(5, score="concat", scale=True), np_luong, 6),
]


@pytest.mark.parametrize("make,reference,memory_dim", CASES)
def test_matches_numpy_reference(make, reference, memory_dim):
    layer = make()
    memory = MEMORY[..., :memory_dim]
    layer(QUERY, memory, MASK)
    randomize(layer)
    context, weights = layer(QUERY, memory, MASK)
    expected_w = np_softmax_masked(reference(layer, QUERY, memory), MASK)
    np.testing.assert_allclose(weights, expected_w, atol=1e-5)
    np.testing.assert_allclose(context, expected_w @ memory, atol=1e-5)
    # Padded source positions get exactly zero weight.
    assert np.all(weights.numpy()[0, :, 3:] == 0.0)


@pytest.mark.parametrize("make,reference,memory_dim", CASES)
def test_rank2_query_equals_rank3_slice(make, reference, memory_dim):
    layer = make()
    memory = MEMORY[..., :memory_dim]
    context3, weights3 = layer(QUERY, memory, MASK)
    context2, weights2 = layer(QUERY[:, 1], memory, MASK)
    assert weights2.shape == (2, 5)
    np.testing.assert_allclose(context2, context3[:, 1], atol=1e-6)
    np.testing.assert_allclose(weights2, weights3[:, 1], atol=1e-6)


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16", "mixed_float16"])
@pytest.mark.parametrize("make,reference,memory_dim", CASES)
def test_all_padding_row_is_finite_with_zero_weights(
    make, reference, memory_dim, policy
):
    keras.mixed_precision.set_global_policy(policy)
    layer = make()
    memory = tf.constant(MEMORY[..., :memory_dim])
    query = tf.constant(QUERY)
    mask = np.array([[0, 0, 0, 0, 0], [1, 1, 0, 0, 0]], bool)
    with tf.GradientTape() as tape:
        tape.watch([query, memory])
        context, weights = layer(query, memory, mask)
        loss = tf.reduce_sum(tf.cast(context, "float32") ** 2)
    grads = tape.gradient(loss, [query, memory] + layer.trainable_weights)
    assert np.all(tf.cast(weights, "float32").numpy()[0] == 0.0)
    assert np.all(tf.cast(context, "float32").numpy()[0] == 0.0)
    for g in grads:
        assert np.all(np.isfinite(tf.cast(g, "float32").numpy()))


@pytest.mark.parametrize("make,reference,memory_dim", CASES)
def test_layer_checks(make, reference, memory_dim):
    """Config round trip, build() creates every weight, symbolic == eager,
    mixed precision (tests/testing.py)."""
    context, weights = run_layer_test(make, (QUERY, MEMORY[..., :memory_dim], MASK))
    assert weights.shape == (2, 3, 5) and context.shape[:2] == (2, 3)


def test_fit_step_learns_through_attention():
    query = keras.Input((4,))
    memory = keras.Input((5, 6))
    context, _ = BahdanauAttention(8)(query, memory)
    model = keras.Model([query, memory], keras.layers.Dense(1)(context))
    model.compile(keras.optimizers.Adam(0.05), "mse")
    q = RNG.normal(size=(64, 4)).astype("float32")
    m = RNG.normal(size=(64, 5, 6)).astype("float32")
    y = m[:, 0, :1] * 2.0  # learnable only by attending to position 0
    before = model.evaluate([q, m], y, verbose=0)
    model.fit([q, m], y, epochs=30, batch_size=64, verbose=0)
    after = model.evaluate([q, m], y, verbose=0)
    assert after < 0.5 * before


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="`score`.*'cosine'"):
        LuongAttention(score="cosine")
    with pytest.raises(ValueError, match="`units`"):
        LuongAttention(score="concat")
    with pytest.raises(ValueError, match="`units`"):
        BahdanauAttention(0)
    with pytest.raises(ValueError, match="'dot' score"):
        LuongAttention(score="dot")(QUERY, MEMORY)

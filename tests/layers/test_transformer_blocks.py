import functools

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from keras_seq.layers.transformer_decoder_block import TransformerDecoderBlock
from keras_seq.layers.transformer_encoder_block import TransformerEncoderBlock
from testing import run_layer_test

D = 8


def randomize(layer, seed=0, scale=0.3):
    """Random weights everywhere (biases, layer-norm gammas/betas too)."""
    rng = np.random.default_rng(seed)
    layer.set_weights(
        [1.0 * (w.ndim == 1 and "gamma" in path) + scale * rng.normal(size=w.shape)
         for w, path in zip(layer.get_weights(),
                            [v.path for v in layer.weights])]
    )


def encoder_block(num_heads=2, normalize_first=False, seed=0, **kwargs):
    block = TransformerEncoderBlock(num_heads, ff_dim=16,
                                    normalize_first=normalize_first, **kwargs)
    block.build((None, None, D))
    randomize(block, seed)
    return block


def decoder_block(num_heads=2, normalize_first=False, seed=0, **kwargs):
    block = TransformerDecoderBlock(num_heads, ff_dim=16,
                                    normalize_first=normalize_first, **kwargs)
    block.build((None, None, D), (None, None, D))
    randomize(block, seed)
    return block


# NumPy reference ---------------------------------------------------------


def np_attention(attention, query, value, mask):
    """Multi-head attention from a Keras MHA layer's weights; mask (B, T, S)."""
    w = lambda layer: [np.asarray(v) for v in layer.weights]  # noqa: E731
    (wq, bq), (wk, bk) = w(attention.query_dense), w(attention.key_dense)
    (wv, bv), (wo, bo) = w(attention.value_dense), w(attention.output_dense)
    q = np.einsum("btd,dhk->bthk", query, wq) + bq
    k = np.einsum("bsd,dhk->bshk", value, wk) + bk
    v = np.einsum("bsd,dhk->bshk", value, wv) + bv
    scores = np.einsum("bthk,bshk->bhts", q, k) / np.sqrt(q.shape[-1])
    scores = np.where(mask[:, None], scores, -1e9)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    out = np.einsum("bhts,bshk->bthk", weights, v)
    return np.einsum("bthk,hkd->btd", out, wo) + bo


def np_layer_norm(norm, x):
    gamma, beta = [np.asarray(v) for v in norm.weights]
    mean = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + norm.epsilon) * gamma + beta


def np_encoder_block(block, x, padding_mask):
    mask = np.broadcast_to(padding_mask[:, None, :],
                           (x.shape[0], x.shape[1], x.shape[1]))

    def ffn(h):
        w1, b1 = [np.asarray(v) for v in block.ffn_hidden.weights]
        w2, b2 = [np.asarray(v) for v in block.ffn_output.weights]
        return np.maximum(h @ w1 + b1, 0) @ w2 + b2

    attend = lambda h: np_attention(block.self_attention, h, h, mask)  # noqa
    for sublayer, norm in [(attend, block.self_attention_norm),
                           (ffn, block.ffn_norm)]:
        if block.normalize_first:
            x = x + sublayer(np_layer_norm(norm, x))
        else:
            x = np_layer_norm(norm, x + sublayer(x))
    return x


@pytest.mark.parametrize("num_heads,normalize_first",
                         [(1, False), (2, False), (2, True)])
def test_encoder_block_matches_numpy_reference(num_heads, normalize_first):
    block = encoder_block(num_heads, normalize_first)
    x = np.random.default_rng(1).normal(size=(2, 5, D)).astype("float32")
    padding_mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    expected = np_encoder_block(block, x.astype("float64"), padding_mask)
    np.testing.assert_allclose(block(x, padding_mask=padding_mask), expected,
                               atol=1e-5)
    # Without a mask every position is attended.
    np.testing.assert_allclose(
        block(x), np_encoder_block(block, x, np.ones((2, 5), bool)), atol=1e-5
    )


@functools.lru_cache(maxsize=None)
def cached_encoder_block(normalize_first):
    return encoder_block(2, normalize_first, seed=3)


@settings(max_examples=10, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    extra=st.integers(1, 3),
    normalize_first=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_encoder_block_padding_invariance(lengths, extra, normalize_first,
                                         seed):
    """Appending padded positions (with garbage values) changes nothing real."""
    block = cached_encoder_block(normalize_first)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(len(lengths), 5 + extra, D)).astype("float32")
    mask = np.arange(5)[None, :] < np.array(lengths)[:, None]
    short = block(x[:, :5], padding_mask=mask).numpy()
    long_mask = np.pad(mask, [(0, 0), (0, extra)])
    long = block(x, padding_mask=long_mask).numpy()
    np.testing.assert_allclose(long[:, :5][mask], short[mask], atol=1e-5)


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"],
                         indirect=True)
def test_encoder_block_all_padding_row_is_finite(policy):
    block = TransformerEncoderBlock(2, ff_dim=16, normalize_first=True)
    block.build((None, None, D))
    x = tf.constant(np.random.default_rng(0).normal(size=(2, 4, D)),
                    "float32")
    mask = np.array([[0, 0, 0, 0], [1, 1, 0, 0]], bool)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = block(x, padding_mask=mask, training=True)
        loss = tf.reduce_sum(tf.cast(y, "float32") ** 2)
    grads = tape.gradient(loss, [x] + block.trainable_variables)
    assert y.dtype == keras.mixed_precision.Policy(policy).compute_dtype
    assert np.isfinite(tf.cast(y, "float32")).all()
    for g in grads:
        assert g is not None and np.isfinite(tf.cast(g, "float32")).all()


def test_encoder_block_bad_arguments():
    with pytest.raises(ValueError, match="`num_heads`.*D=8, num_heads=3"):
        TransformerEncoderBlock(3, ff_dim=16).build((None, None, 8))
    with pytest.raises(ValueError, match="argument `dropout`"):
        TransformerEncoderBlock(2, ff_dim=16, dropout=1.5)
    with pytest.raises(ValueError, match="argument `ff_dim`"):
        TransformerDecoderBlock(2, ff_dim=0)


# Decoder block -----------------------------------------------------------


def decoder_inputs(seed=0, batch=2, target=5, source=4):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, target, D)).astype("float32")
    memory = rng.normal(size=(batch, source, D)).astype("float32")
    memory_mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], bool)[:batch]
    return x, memory, memory_mask


def empty_cache(max_length=7, batch=2, heads=2):
    return tuple(np.zeros((batch, max_length, heads, D // heads), "float32")
                 for _ in range(2))


@pytest.mark.parametrize("normalize_first", [False, True])
def test_decoder_block_cache_matches_teacher_forcing(normalize_first):
    block = decoder_block(2, normalize_first)
    x, memory, memory_mask = decoder_inputs()
    full, attention = block(x, memory, memory_mask=memory_mask,
                            return_attention=True)
    max_length = 7
    cache = empty_cache(max_length)
    memory_cache = block.memory_cache(memory)
    for t in range(x.shape[1]):
        y, new_cache, step_attention = block(
            x[:, t : t + 1], memory, memory_mask=memory_mask, cache=cache,
            cache_index=tf.constant(t), memory_cache=memory_cache,
            return_attention=True,
        )
        assert isinstance(new_cache, tuple) and len(new_cache) == 2
        for old, new in zip(cache, new_cache):
            assert new.shape == old.shape
            # Only position t was written.
            changed = np.any(new.numpy() != old, axis=(0, 2, 3))
            np.testing.assert_array_equal(changed, np.arange(max_length) == t)
        np.testing.assert_allclose(y[:, 0], full[:, t], atol=1e-5)
        np.testing.assert_allclose(step_attention[:, 0], attention[:, t],
                                   atol=1e-6)
        cache = tuple(c.numpy() for c in new_cache)


def test_decoder_block_memory_cache_is_the_projected_memory():
    """A step given `memory_cache` equals a step that projects the memory."""
    block = decoder_block(2, False)
    x, memory, memory_mask = decoder_inputs()
    keys, values = block.memory_cache(memory)
    assert keys.shape == values.shape == (2, 4, 2, D // 2)
    cache = tuple(np.random.default_rng(3).normal(size=(2, 7, 2, D // 2))
                  .astype("float32") for _ in range(2))
    again, (k1, v1), weights = block(
        x[:, 4:5], memory, memory_mask=memory_mask, cache=cache,
        cache_index=4, return_attention=True)
    cached, (k2, v2), cached_weights = block(
        x[:, 4:5], memory, memory_mask=memory_mask, cache=cache,
        cache_index=4, memory_cache=(keys, values), return_attention=True)
    np.testing.assert_allclose(cached, again, atol=1e-5)
    np.testing.assert_allclose(cached_weights, weights, atol=1e-6)
    np.testing.assert_array_equal(k1, k2)
    np.testing.assert_array_equal(v1, v2)


def test_decoder_block_is_causal_and_ignores_padded_targets():
    block = decoder_block(2)
    x, memory, memory_mask = decoder_inputs()
    full = block(x, memory, memory_mask=memory_mask).numpy()
    changed = x.copy()
    changed[:, 3:] += 5.0  # the future and the padding
    decoder_mask = np.array([[1, 1, 1, 0, 0]] * 2, bool)
    out = block(changed, memory, memory_mask=memory_mask,
                decoder_mask=decoder_mask).numpy()
    np.testing.assert_allclose(out[:, :3], full[:, :3], atol=1e-5)


def test_decoder_block_cross_attention_zero_on_padding():
    block = decoder_block(2)
    x, memory, _ = decoder_inputs()
    memory_mask = np.array([[1, 1, 0, 0], [0, 0, 0, 0]], bool)
    y, attention = block(x, memory, memory_mask=memory_mask,
                         return_attention=True)
    attention = attention.numpy()
    assert attention.shape == (2, 5, 4) and attention.dtype == np.float32
    assert np.all(attention[~np.broadcast_to(memory_mask[:, None], (2, 5, 4))]
                  == 0.0)
    np.testing.assert_allclose(attention[0].sum(-1), 1.0, atol=1e-6)
    assert np.all(attention[1] == 0.0)  # an all-padding source row
    assert np.isfinite(y.numpy()).all()


def test_decoder_block_argument_errors():
    block = decoder_block(2)
    x, memory, memory_mask = decoder_inputs()
    cache = empty_cache()
    with pytest.raises(ValueError, match="`cache_index`"):
        block(x, memory, cache_index=0)
    with pytest.raises(ValueError, match="`memory_cache`"):
        block(x, memory, memory_cache=block.memory_cache(memory))
    with pytest.raises(ValueError, match="`cache_index`"):
        block(x[:, :1], memory, cache=cache)
    with pytest.raises(ValueError, match="`decoder_mask`"):
        block(x[:, :1], memory, cache=cache, cache_index=0,
              decoder_mask=np.ones((2, 1), bool))
    with pytest.raises(ValueError, match="`x`.*one position.*\\(2, 5, 8\\)"):
        block(x, memory, cache=cache, cache_index=0)
    with pytest.raises(ValueError, match="`cache`.*`\\(keys, values\\)` pair"):
        block(x[:, :1], memory, cache=np.stack(cache, axis=1), cache_index=0)
    with pytest.raises(ValueError, match="`memory_cache`.*`\\(keys, values\\)`"):
        block(x[:, :1], memory, cache=cache, cache_index=0,
              memory_cache=np.zeros((2, 2, 4, 2, D // 2), "float32"))


# Serialisation -----------------------------------------------------------


@pytest.mark.parametrize("cls", [TransformerEncoderBlock,
                                 TransformerDecoderBlock])
def test_block_layer_checks(cls):
    """Config values, then the shared checks: JSON round trip, build()
    creates every weight, symbolic == eager, mixed precision."""
    def new():
        return cls(2, ff_dim=16, dropout=0.1, normalize_first=True,
                   layer_norm_epsilon=1e-6, name="block")

    config = new().get_config()
    assert {k: config[k] for k in ("num_heads", "ff_dim", "dropout",
                                   "normalize_first", "layer_norm_epsilon")} \
        == {"num_heads": 2, "ff_dim": 16, "dropout": 0.1,
            "normalize_first": True, "layer_norm_epsilon": 1e-6}
    x, memory, memory_mask = decoder_inputs()
    if cls is TransformerEncoderBlock:
        padding_mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
        inputs, kwargs = (x,), {"padding_mask": padding_mask}
    else:
        inputs, kwargs = (x, memory), {"memory_mask": memory_mask}
    output = run_layer_test(new, inputs, kwargs)
    assert output.shape == x.shape
    # Weight names are those saved models hold: one MHA per attention.
    block = new()
    block(*inputs, **kwargs)
    names = [w.path.split("/", 1)[1] for w in block.weights]
    assert names[:2] == ["self_attention/query/kernel", "self_attention/query/bias"]
    assert names[-2:] == ["ffn_norm/gamma", "ffn_norm/beta"]

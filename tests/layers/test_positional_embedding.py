import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_seq.layers.positional_embedding import PositionalEmbedding
from testing import run_layer_test

IDS = np.array([[2, 5, 7, 9, 3, 0], [2, 4, 3, 0, 0, 0]], dtype="int32")


def make(positions="sinusoidal", **kwargs):
    layer = PositionalEmbedding(vocab_size=20, max_length=8, dim=8, positions=positions,
                                **kwargs)
    layer.build()
    return layer


def sinusoids(length, dim):
    """Vaswani et al.: sin on even features, cos on odd, shared frequency."""
    positions = np.arange(length)[:, None]
    pairs = np.arange(dim)[None, :] // 2
    angles = positions / np.power(10000.0, 2 * pairs / dim)
    return np.where(np.arange(dim) % 2 == 0, np.sin(angles), np.cos(angles))


def test_sinusoidal_values_match_formula():
    layer = make()
    layer.token_embedding.embeddings.assign(np.zeros((20, 8), "float32"))
    out = layer(IDS)
    np.testing.assert_allclose(out[0], sinusoids(6, 8), atol=1e-5)
    np.testing.assert_allclose(out[1], sinusoids(6, 8), atol=1e-5)


@pytest.mark.parametrize("positions", ["sinusoidal", "learned"])
def test_token_embedding_is_scaled_by_sqrt_dim(positions):
    layer = make(positions)
    table = np.random.default_rng(0).normal(size=(20, 8)).astype("float32")
    layer.token_embedding.embeddings.assign(table)
    positions = layer(np.zeros((1, 6), "int32"))[0] - np.sqrt(8) * table[0]
    out = layer(IDS)
    np.testing.assert_allclose(
        out, np.sqrt(8) * table[IDS] + positions[None], atol=1e-5
    )


def test_weights_exist_after_build():
    assert len(make("sinusoidal").weights) == 1
    learned = make("learned")
    assert sorted(tuple(w.shape) for w in learned.weights) == [(8, 8), (20, 8)]


def test_mask_is_ids_not_pad():
    layer = make()
    out = layer(IDS)
    np.testing.assert_array_equal(out._keras_mask, IDS != 0)
    np.testing.assert_array_equal(layer.compute_mask(IDS), IDS != 0)


@pytest.mark.parametrize("positions", ["sinusoidal", "learned"])
def test_start_index_matches_slicing_full_sequence(positions):
    layer = make(positions)
    full = layer(IDS).numpy()
    for start in range(IDS.shape[1]):
        step = layer(IDS[:, start : start + 1],
                     start_index=tf.constant(start))
        np.testing.assert_allclose(step, full[:, start : start + 1],
                                   atol=1e-6)
    tail = layer(IDS[:, 2:], start_index=2)
    np.testing.assert_allclose(tail, full[:, 2:], atol=1e-6)


def test_start_index_tensor_in_tf_function():
    layer = make("learned")
    full = layer(IDS).numpy()

    @tf.function(input_signature=[tf.TensorSpec([None, 1], tf.int32),
                                  tf.TensorSpec([], tf.int32)])
    def embed(ids, index):
        return layer(ids, start_index=index)

    np.testing.assert_allclose(embed(IDS[:, 3:4], 3), full[:, 3:4], atol=1e-6)


def test_too_long_static_raises_value_error():
    layer = make()
    with pytest.raises(ValueError, match="`max_length`=8"):
        layer(np.ones((1, 9), "int32"))
    with pytest.raises(ValueError, match="start_index=5"):
        layer(np.ones((1, 4), "int32"), start_index=5)


def test_too_long_dynamic_raises_at_run_time():
    layer = make("learned")
    embed = tf.function(
        lambda ids, index: layer(ids, start_index=index),
        input_signature=[tf.TensorSpec([None, None], tf.int32),
                         tf.TensorSpec([], tf.int32)],
    )
    assert embed(np.ones((1, 1), "int32"), 7).shape == (1, 1, 8)
    with pytest.raises(tf.errors.InvalidArgumentError, match="`max_length`"):
        embed(np.ones((1, 1), "int32"), 8)
    with pytest.raises(tf.errors.InvalidArgumentError, match="`ids`"):
        embed(np.ones((1, 9), "int32"), 0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="argument `positions`.*positions='rope'"):
        PositionalEmbedding(20, 8, 8, positions="rope")
    with pytest.raises(ValueError, match="argument `dim`"):
        PositionalEmbedding(20, 8, 0)
    layer = make()
    with pytest.raises(TypeError, match="`ids`"):
        layer(IDS.astype("float32"))
    with pytest.raises(ValueError, match="`ids`"):
        layer(IDS[0])


@pytest.mark.parametrize("positions", ["sinusoidal", "learned"])
def test_layer_checks(positions):
    """Config values, then the shared checks: JSON round trip, build()
    creates every weight, symbolic == eager, mixed precision."""
    def new():
        return PositionalEmbedding(20, 8, 8, positions=positions, name="embed")

    config = new().get_config()
    assert {k: config[k] for k in ("vocab_size", "max_length", "dim", "positions")} \
        == {"vocab_size": 20, "max_length": 8, "dim": 8, "positions": positions}
    output = run_layer_test(new, (IDS,), atol=1e-2)
    assert output.shape == (*IDS.shape, 8)


def test_config_saved_before_the_rename_loads():
    """Configs saved when `positions` was called `kind` still load."""
    config = make("learned").get_config()
    config["kind"] = config.pop("positions")
    clone = PositionalEmbedding.from_config(config)
    assert clone.positions == "learned" and "kind" not in clone.get_config()

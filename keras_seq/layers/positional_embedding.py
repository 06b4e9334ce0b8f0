"""Token embedding plus position embedding, with the padding mask."""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_seq.arguments import check_choice, check_ids, check_int, renamed_argument
from keras_seq.constants import PAD

# How positions are embedded: fixed sinusoids (Vaswani et al.) or learned rows.
POSITIONS = ("sinusoidal", "learned")


def sinusoid_table(length, dim):
    """Vaswani et al.'s encodings, float32 `(length, dim)`: sine at even
    features, cosine at odd ones, wavelengths from 2*pi to 10000*2*pi."""
    positions = np.arange(length)[:, None]
    features = np.arange(dim)[None, :]
    angles = positions / np.power(10000.0, 2 * (features // 2) / dim)
    return np.where(features % 2 == 0, np.sin(angles), np.cos(angles)).astype(
        "float32"
    )


def check_fits_positions(ids, max_length, name, start_index=0):
    """Check that `ids` fit in `max_length` positions; return `ids`.

    Raises `ValueError` when the length of `ids` (axis 1) and `start_index`
    are known when tracing; otherwise adds a `tf.debugging` assertion that
    raises `InvalidArgumentError` at run time (the TFLite converter drops it)
    and returns `ids` behind it, so that ops using the result run after the
    check. Both messages name the argument and `max_length`.

    Args:
        ids: int tensor `(B, T)`.
        max_length: int. The number of positions available.
        name: str. The argument name to put in the message.
        start_index: int or scalar int tensor. The position of `ids[:, 0]`.
    """
    message = (
        f"Invalid shape for argument `{name}`. Expected at most "
        f"`max_length`={max_length} positions (start_index + sequence "
        f"length). Truncate the sequence or build the layer with a larger "
        f"`max_length`."
    )
    length = ids.shape[1]
    if length is not None and isinstance(start_index, int):
        if start_index + length > max_length:
            raise ValueError(
                f"{message} Received: {name}.shape={tuple(ids.shape)}, "
                f"start_index={start_index}"
            )
        return ids
    end = tf.shape(ids)[1] + ops.cast(start_index, "int32")
    check = tf.debugging.assert_less_equal(end, max_length, message=message)
    with tf.control_dependencies([check]):
        return tf.identity(ids)


@keras.saving.register_keras_serializable(package="keras_seq")
class PositionalEmbedding(keras.layers.Layer):
    """Token embedding plus sinusoidal or learned position embedding.

    The token embedding is initialised with standard deviation
    `dim ** -0.5` and multiplied by `sqrt(dim)`, so token vectors start with
    unit scale, the same scale as the sinusoids (Vaswani et al., 2017). The
    sinusoids are computed in float32 and cast to the compute dtype, so
    positions stay exact under mixed precision.

    The layer produces the padding mask `ids != PAD` as its Keras mask
    (`compute_mask`), so downstream Keras layers see it.

    Args:
        vocab_size: int. The number of token ids.
        max_length: int. The number of positions: `start_index` plus the
            sequence length may not exceed it.
        dim: int. The embedding width D.
        positions: str. How positions are embedded: `"sinusoidal"` (fixed,
            Vaswani et al.) or `"learned"` (one trained vector per
            position). Defaults to `"sinusoidal"`.
        **kwargs: other `keras.layers.Layer` arguments (`name`, `dtype`...).

    Call arguments:
        ids: int tensor `(B, T)`, PAD=0.
        start_index: int or scalar int tensor. The position of `ids[:, 0]`;
            incremental decoding embeds one token at its position. Defaults
            to `0`.

    Returns:
        Float tensor `(B, T, D)` in the compute dtype, with Keras mask
        `ids != PAD` `(B, T)`.

    Raises:
        ValueError: when `start_index + T > max_length` is known statically;
            otherwise `tf.errors.InvalidArgumentError` at run time.

    Example:
    >>> layer = keras_seq.layers.PositionalEmbedding(
    ...     vocab_size=20, max_length=16, dim=8)
    >>> layer(np.array([[2, 5, 7, 0]])).shape
    TensorShape([1, 4, 8])

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)
    """

    def __init__(self, vocab_size, max_length, dim, positions="sinusoidal", **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size = check_int("vocab_size", vocab_size)
        self.max_length = max_length = check_int("max_length", max_length)
        self.dim = dim = check_int("dim", dim)
        self.positions = check_choice("positions", positions, POSITIONS)
        self.supports_masking = True
        self.token_embedding = keras.layers.Embedding(
            vocab_size,
            dim,
            embeddings_initializer=keras.initializers.RandomNormal(
                stddev=dim**-0.5
            ),
            dtype=self.dtype_policy,
            name="token_embedding",
        )

    def build(self, ids_shape=None):
        self.token_embedding.build((None, None))
        if self.positions == "learned":
            self.position_embeddings = self.add_weight(
                name="position_embeddings",
                shape=(self.max_length, self.dim),
                initializer=keras.initializers.RandomNormal(stddev=0.02),
            )
        else:
            # A NumPy constant, turned into a tensor in `call` (a tensor made
            # here could belong to a graph that is gone by then).
            self.position_embeddings = sinusoid_table(self.max_length, self.dim)
        self.built = True

    def call(self, ids, start_index=0):
        ids = check_ids(ids, "ids")
        ids = check_fits_positions(ids, self.max_length, "ids", start_index)
        if not isinstance(start_index, int):
            start_index = ops.cast(start_index, "int32")
        x = self.token_embedding(ids)  # (B, T, D)
        x = x * ops.cast(self.dim**0.5, x.dtype)
        # A gather of rows, not keras-hub's position layers: their
        # broadcast_to over dynamic shapes fails in LiteRT's XNNPack delegate.
        positions = start_index + ops.arange(ops.shape(ids)[1], dtype="int32")
        table = ops.convert_to_tensor(self.position_embeddings)  # (L, D)
        table = ops.take(table, positions, axis=0)  # (T, D)
        return x + ops.cast(table, x.dtype)  # (B, T, D)

    def compute_mask(self, ids, mask=None):
        return ops.not_equal(ids, PAD)

    def compute_output_shape(self, ids_shape):
        return tuple(ids_shape) + (self.dim,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocab_size": self.vocab_size,
                "max_length": self.max_length,
                "dim": self.dim,
                "positions": self.positions,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        # Configs written before `positions` had its name call it `kind`.
        return super().from_config(renamed_argument(config, "kind", "positions"))

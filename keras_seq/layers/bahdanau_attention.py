"""Additive (Bahdanau) attention with learned query and key projections."""

import keras
from keras import ops

from keras_seq.arguments import check_int
from keras_seq.layers.attention_base import AttentionBase


@keras.saving.register_keras_serializable(package="keras_seq")
class BahdanauAttention(AttentionBase):
    """Additive attention: `score(q, k) = v . tanh(W_q q + W_k k + b)`.

    The query and the memory are projected to `units` by their own kernels,
    summed, squashed with tanh and reduced by a learned score vector `v`.
    The context is the weighted sum of the (unprojected) memory.

    With `normalize=True` the score vector is weight-normalised,
    `v = g * v / ||v||` with a learned scalar `g` (initialised to
    `sqrt(1 / units)`), and a bias `b` is added inside the tanh.

    Masking: positions where `memory_mask` is False get exactly zero weight;
    a row whose memory is all padding gets all-zero weights and a zero
    context, never NaN.

    Args:
        units: int. Width of the projected query and keys.
        normalize: bool. Weight-normalise the score vector. Defaults to
            `False`.

    Call arguments:
        query: float tensor `(B, Dq)` or `(B, T, Dq)`.
        memory: float tensor `(B, S, Dm)`.
        memory_mask: optional boolean tensor `(B, S)`, True at real positions.
        keys: optional float tensor `(B, S, K)`, `keys(memory)` computed
            beforehand (a decoding loop projects them once per source).

    Returns:
        `(context, weights)`: `(B, Dm)` and `(B, S)` for a rank-2 query,
        `(B, T, Dm)` and `(B, T, S)` for a rank-3 one.

    Example:

    >>> attention = keras_seq.layers.BahdanauAttention(8)
    >>> context, weights = attention(
    ...     np.ones((2, 4)), np.ones((2, 5, 6)), np.ones((2, 5), bool))
    >>> context.shape, weights.shape
    (TensorShape([2, 6]), TensorShape([2, 5]))

    References:
        - [Bahdanau et al., 2015](https://arxiv.org/abs/1409.0473)
        - [Salimans and Kingma, 2016](https://arxiv.org/abs/1602.07868)
    """

    def __init__(self, units, normalize=False, **kwargs):
        super().__init__(**kwargs)
        self.units = units = check_int("units", units)
        self.normalize = bool(normalize)

    def build(self, query_shape, memory_shape=None, memory_mask_shape=None):
        self.query_kernel = self.add_weight(
            name="query_kernel",
            shape=(query_shape[-1], self.units),
            initializer="glorot_uniform",
        )
        self.key_kernel = self.add_weight(
            name="key_kernel",
            shape=(memory_shape[-1], self.units),
            initializer="glorot_uniform",
        )
        self.score_vector = self.add_weight(
            name="score_vector", shape=(self.units,), initializer="glorot_uniform"
        )
        if self.normalize:
            self.score_scale = self.add_weight(
                name="score_scale",
                shape=(),
                initializer=keras.initializers.Constant((1.0 / self.units) ** 0.5),
            )
            self.score_bias = self.add_weight(
                name="score_bias", shape=(self.units,), initializer="zeros"
            )
        self.built = True

    def _keys(self, memory):
        kernel = ops.cast(self.key_kernel, memory.dtype)  # no autocast outside calls
        return ops.matmul(memory, kernel)  # (B, S, U)

    def _score(self, query, keys):
        projected = ops.matmul(query, self.query_kernel)  # (B, T, U)
        hidden = ops.expand_dims(projected, 2) + ops.expand_dims(keys, 1)
        v = self.score_vector
        if self.normalize:
            hidden = hidden + self.score_bias
            v = self.score_scale * v / ops.sqrt(ops.sum(ops.square(v)))
        return ops.sum(ops.tanh(hidden) * v, axis=-1)  # (B, T, S)

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units, "normalize": self.normalize})
        return config

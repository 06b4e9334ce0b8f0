"""Multiplicative (Luong) attention with dot, general and concat scores."""

import keras
import tensorflow as tf
from keras import ops

from keras_seq.arguments import check_choice, check_int
from keras_seq.layers.attention_base import AttentionBase

SCORES = ("dot", "general", "concat")


@keras.saving.register_keras_serializable(package="keras_seq")
class LuongAttention(AttentionBase):
    """Luong attention with the three scores of the paper.

    - `"dot"`: `score(q, k) = q . k` (query and memory widths must match).
    - `"general"`: `score(q, k) = q . (W k)` with a learned `W (Dm, Dq)`.
    - `"concat"`: `score(q, k) = v . tanh(W [q; k])`, with `W` split into a
      query and a key kernel of width `units`.

    With `scale=True` the score is multiplied by a learned scalar `g`
    (initialised to 1). The context is the weighted sum of the memory.

    Masking: positions where `memory_mask` is False get exactly zero weight;
    an all-padding memory row gives zero weights and a zero context.

    Args:
        units: int or None. Width of the hidden layer of the `"concat"`
            score; required there and unused by the others. Defaults to
            `None`.
        score: str. One of `"dot"`, `"general"`, `"concat"`. Defaults to
            `"dot"`.
        scale: bool. Learn a scalar multiplier of the score. Defaults to
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

    >>> attention = keras_seq.layers.LuongAttention(score="general")
    >>> context, weights = attention(
    ...     np.ones((2, 4)), np.ones((2, 5, 6)), np.ones((2, 5), bool))
    >>> context.shape, weights.shape
    (TensorShape([2, 6]), TensorShape([2, 5]))

    References:
        - [Luong et al., 2015](https://arxiv.org/abs/1508.04025)
    """

    def __init__(self, units=None, score="dot", scale=False, **kwargs):
        super().__init__(**kwargs)
        self.score = score = check_choice("score", score, SCORES)
        self.units = units = check_int("units", units, allow_none=True)
        if score == "concat" and units is None:
            raise ValueError(
                "Invalid value for argument `units`. The 'concat' score needs "
                "a positive integer width. Received: units=None"
            )
        self.scale = bool(scale)

    def build(self, query_shape, memory_shape=None, memory_mask_shape=None):
        query_dim, memory_dim = query_shape[-1], memory_shape[-1]
        if self.score == "dot" and query_dim != memory_dim:
            raise ValueError(
                "The 'dot' score needs the query and memory widths to match. "
                f"Received: query width {query_dim}, memory width {memory_dim}. "
                "Use score='general' or score='concat' instead."
            )
        if self.score == "general":
            self.kernel = self.add_weight(
                name="kernel",
                shape=(memory_dim, query_dim),
                initializer="glorot_uniform",
            )
        if self.score == "concat":
            self.query_kernel = self.add_weight(
                name="query_kernel",
                shape=(query_dim, self.units),
                initializer="glorot_uniform",
            )
            self.key_kernel = self.add_weight(
                name="key_kernel",
                shape=(memory_dim, self.units),
                initializer="glorot_uniform",
            )
            self.score_vector = self.add_weight(
                name="score_vector",
                shape=(self.units,),
                initializer="glorot_uniform",
            )
        if self.scale:
            self.score_scale = self.add_weight(
                name="score_scale", shape=(), initializer="ones"
            )
        self.built = True

    def _keys(self, memory):
        if self.score == "general":
            kernel = ops.cast(self.kernel, memory.dtype)  # no autocast outside calls
            return ops.matmul(memory, kernel)  # (B, S, Dq)
        if self.score == "concat":
            kernel = ops.cast(self.key_kernel, memory.dtype)
            return ops.matmul(memory, kernel)  # (B, S, U)
        return memory

    def _score(self, query, keys):
        if self.score == "concat":
            projected = ops.matmul(query, self.query_kernel)  # (B, T, U)
            hidden = ops.expand_dims(projected, 2) + ops.expand_dims(keys, 1)
            scores = ops.sum(ops.tanh(hidden) * self.score_vector, axis=-1)
        else:
            # One BatchMatMul with adj_y: no transpose of the keys per step.
            scores = tf.linalg.matmul(query, keys, transpose_b=True)  # (B,T,S)
        if self.scale:
            scores = scores * self.score_scale
        return scores

    def get_config(self):
        config = super().get_config()
        config.update(
            {"units": self.units, "score": self.score, "scale": self.scale}
        )
        return config

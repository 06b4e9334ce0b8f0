"""Attention of one query position over cached keys and values.

A decoding step has one query per row, so its attention is a weighted sum,
not a matrix product. Written as broadcast multiplies and sums it needs no
TRANSPOSE of the cache and no BATCH_MATMUL: in LiteRT, inside the decoding
WHILE loop (which runs without the XNNPack delegate), those were the
costliest ops of a Transformer step.
"""

import math

from keras import ops

from keras_seq.layers.masking import masked_softmax


def single_query_attention(attention, query, keys, values, mask=None):
    """Multi-head attention of `query` (one position) over `keys`/`values`.

    Uses the projections of a Keras `MultiHeadAttention` (`attention`'s
    `query_dense` and `output_dense`) and computes what its call computes
    at inference (no dropout), with the masked softmax
    of `keras_seq.layers.masking` (exact zeros at masked positions).

    Args:
        attention: a built `keras.layers.MultiHeadAttention`.
        query: float tensor `(B, 1, D)`.
        keys: float tensor `(B, L, H, Dh)`, already projected.
        values: float tensor `(B, L, H, Dh)`, already projected.
        mask: optional bool tensor broadcastable to `(B, L)`, True where the
            key may be attended.

    Returns:
        `(output, weights)`: `(B, 1, D)` and the attention weights
        `(B, H, 1, L)` (the layout of Keras' attention scores).
    """
    q = attention.query_dense(query)  # (B, 1, H, Dh)
    q = ops.multiply(q, ops.cast(1.0 / math.sqrt(int(q.shape[-1])), q.dtype))
    scores = ops.sum(q * ops.cast(keys, q.dtype), axis=-1)  # (B, L, H)
    scores = ops.transpose(scores, (0, 2, 1))  # (B, H, L)
    if mask is not None:
        mask = ops.expand_dims(ops.cast(mask, "bool"), 1)  # (B, 1, L)
    weights = masked_softmax(scores, mask)  # (B, H, L)
    weighted = ops.expand_dims(ops.transpose(weights, (0, 2, 1)), -1)  # (B, L, H, 1)
    output = ops.sum(weighted * ops.cast(values, weights.dtype), axis=1)  # (B, H, Dh)
    output = attention.output_dense(ops.expand_dims(output, 1))  # (B, 1, D)
    return output, ops.expand_dims(weights, 2)  # (B, H, 1, L)

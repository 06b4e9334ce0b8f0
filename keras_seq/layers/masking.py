"""The masked softmax shared by the attention layers."""

from keras import ops

# Large enough to zero a softmax entry, small enough for float16's range.
_NEG = -1e9


def masked_softmax(scores, mask=None):
    """Softmax over the last axis that gives exactly 0 where `mask` is False.

    The softmax runs in float32 whatever the compute dtype, so the fill value
    is safe under mixed precision; a fully masked row gives all zeros, never
    NaN. The result has the dtype of `scores`.

    Args:
        scores: float tensor `(..., S)`.
        mask: optional boolean tensor broadcastable to `scores`.
    """
    dtype = scores.dtype
    scores = ops.cast(scores, "float32")
    if mask is None:
        return ops.cast(ops.softmax(scores, axis=-1), dtype)
    mask = ops.broadcast_to(ops.cast(mask, "bool"), ops.shape(scores))
    filled = ops.where(mask, scores, ops.full_like(scores, _NEG))
    weights = ops.softmax(filled, axis=-1) * ops.cast(mask, "float32")
    return ops.cast(weights, dtype)

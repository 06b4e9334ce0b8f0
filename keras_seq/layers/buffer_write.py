"""Write into preallocated fixed-shape buffers, export-safely.

`keras.ops.slice_update` lowers to XlaDynamicUpdateSlice on TensorFlow: it
has no gradient outside XLA, and the stock TF Serving model server runs it
only with XLA JIT enabled. These writes use a position mask and a select
instead (RANGE, comparisons, PAD, SELECT_V2): core TensorFlow ops with
gradients, and TFLite builtins. Each write costs one pass over the buffer's
written axis, the same order as reading it.
"""

import tensorflow as tf
from keras import ops


def _positions(length, axis, rank):
    """int32 positions along `axis`, shaped to broadcast over `rank` dims."""
    shape = [1] * rank
    shape[axis] = -1
    return ops.reshape(ops.arange(length, dtype="int32"), shape)


def write_step(buffer, t, value):
    """Return `buffer` `(T, ...)` with row `t` replaced by `value` `(...)`."""
    t = ops.cast(t, "int32")
    value = ops.expand_dims(ops.cast(value, buffer.dtype), 0)  # (1, ...)
    hit = ops.equal(_positions(ops.shape(buffer)[0], 0, len(buffer.shape)), t)
    return ops.where(hit, value, buffer)


def write_slice(buffer, start, update, axis=1):
    """Return `buffer` with `update` written at `start` along `axis`.

    Args:
        buffer: tensor, e.g. a key cache `(B, L, H, Dh)`.
        start: int or scalar int tensor, the first position written.
        update: tensor with the shape of `buffer` except along `axis`, where
            it has `n <= L - start` positions.
    """
    start = ops.cast(start, "int32")
    update = ops.cast(update, buffer.dtype)
    rank = len(buffer.shape)
    length = ops.shape(buffer)[axis]
    if update.shape[axis] == 1:  # one position (a decoding step): broadcast it
        hit = ops.equal(_positions(length, axis, rank), start)
        return ops.where(hit, update, buffer)
    count = ops.shape(update)[axis]
    zero = tf.constant(0, "int32")
    pads = [tf.stack([zero, zero])] * rank
    pads[axis] = tf.stack([start, length - start - count])
    placed = tf.pad(update, tf.stack(pads))  # dynamic pad widths
    positions = _positions(length, axis, rank)
    hit = ops.logical_and(positions >= start, positions < start + count)
    return ops.where(hit, placed, buffer)

"""Write one time step into a preallocated buffer, with a gradient.

`keras.ops.slice_update` lowers to XlaDynamicUpdateSlice, which converts to
TFLite's builtin DYNAMIC_UPDATE_SLICE but has no registered gradient in
TensorFlow. This wraps it with its (linear) gradient so the same export-safe
loops also train with `fit`.
"""

import tensorflow as tf
from keras import ops


@tf.custom_gradient
def _update_row(buffer, t, value):
    # buffer (T, ...), value (1, ...), t scalar int32.
    rank = len(buffer.shape)
    start = [t] + [0] * (rank - 1)
    result = ops.slice_update(buffer, start, value)

    def grad(upstream):
        grad_buffer = ops.slice_update(upstream, start, ops.zeros_like(value))
        grad_value = ops.slice(upstream, start, ops.shape(value))
        return grad_buffer, None, grad_value

    return result, grad


def write_step(buffer, t, value):
    """Return `buffer` (T, ...) with row `t` replaced by `value` (...)."""
    t = ops.cast(t, "int32")
    value = ops.expand_dims(ops.cast(value, buffer.dtype), 0)
    return _update_row(buffer, t, value)

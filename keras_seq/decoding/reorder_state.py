"""Gather the rows of a decoder state nest."""

import tensorflow as tf


def reorder_state(state, indices):
    """Gather rows `indices` from every tensor of a nest (along axis 0).

    Beam search calls this after each step so that row `n` of the state
    belongs to the hypothesis that now occupies beam slot `n`.

    Args:
        state: nest (`tf.nest`) of tensors, each with leading dimension `N`.
        indices: int32 tensor `(M,)`. Flat row indices into axis 0.

    Returns:
        The same nest with each tensor of shape `(M, ...)`.

    Example:

    >>> state = {"h": tf.constant([[1.0], [2.0], [3.0]])}
    >>> keras_seq.decoding.reorder_state(state, [2, 2, 0])["h"].numpy()
    array([[3.],
           [3.],
           [1.]], dtype=float32)
    """
    indices = tf.convert_to_tensor(indices, tf.int32)
    return tf.nest.map_structure(lambda x: tf.gather(x, indices), state)

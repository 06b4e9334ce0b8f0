"""Repeat every tensor of a nest once per beam."""

import numbers

import tensorflow as tf


def tile_beams(tree, beam_size):
    """Repeat every tensor of a nest `beam_size` times along axis 0.

    Row `b` of the input becomes rows `b * K, ..., b * K + K - 1` of the
    output, the layout `keras_seq.decoding.beam_search` uses for its `B * K`
    hypotheses. `beam_search` tiles its `initial_state` itself; use this
    function for whatever the step function closes over (an encoder output,
    a padding mask) so that it lines up with the state.

    Args:
        tree: nest (`tf.nest`) of tensors, each with a leading batch
            dimension `B`.
        beam_size: int. `K`, the number of beams.

    Returns:
        The same nest with each tensor of shape `(B * K, ...)`.

    Example:

    >>> x = tf.constant([[1, 2], [3, 4]])
    >>> keras_seq.decoding.tile_beams({"x": x}, 2)["x"].numpy().tolist()
    [[1, 2], [1, 2], [3, 4], [3, 4]]
    """
    if (
        not isinstance(beam_size, numbers.Integral)
        or isinstance(beam_size, bool)
        or beam_size < 1
    ):
        raise ValueError(
            "Invalid value for argument `beam_size`. Expected a positive "
            f"integer. Received: beam_size={beam_size!r}"
        )
    return tf.nest.map_structure(
        lambda x: tf.repeat(x, int(beam_size), axis=0), tree
    )

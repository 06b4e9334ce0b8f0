"""Repeat every tensor of a nest once per beam."""

import tensorflow as tf

from keras_seq.arguments import check_int


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
    beam_size = check_int("beam_size", beam_size)
    return tf.nest.map_structure(lambda x: tf.repeat(x, beam_size, axis=0), tree)

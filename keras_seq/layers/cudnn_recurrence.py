"""Run one LSTM or GRU direction through Keras' cuDNN kernel (GPU only).

Keras' TensorFlow backend exposes the cuDNN path of its `LSTM` and `GRU`
layers as functions of the cell's weights (`kernel`, `recurrent_kernel`,
`bias`); keras_seq's cells are Keras cells, so the same weights run there.
cuDNN needs right-padded masks with at least one real token per row; any
other batch takes keras_seq's fast loop instead, chosen in the graph.
"""

import importlib

import keras
import tensorflow as tf
from keras import ops

from keras_seq.layers.fast_recurrence import cell_kind, run_directions


def _keras_rnn():
    """Keras' TensorFlow `rnn` module, which holds the cuDNN entry points.

    `from keras.src.backend.tensorflow import rnn` would give the package's
    `rnn` *function* (its `__init__` re-exports it under the module's name),
    which has no `cudnn_ok`; the module must be imported by its full name.
    """
    return importlib.import_module("keras.src.backend.tensorflow.rnn")


def cudnn_supports(cell):
    """True when Keras would run `cell` (an LSTM or GRU cell) on cuDNN."""
    kind = cell_kind(cell)
    if kind == "simple_rnn":
        return False
    try:
        rnn = _keras_rnn()
    except ImportError:  # pragma: no cover - another Keras layout
        return False
    return rnn.cudnn_ok(
        cell.activation,
        cell.recurrent_activation,
        False,
        use_bias=cell.use_bias,
        reset_after=cell.reset_after if kind == "gru" else None,
    )


def cudnn_mask_ok(mask):
    """Scalar bool: every row right-padded with at least one real token."""
    lengths = ops.sum(ops.cast(mask, "int32"), axis=1)  # (B,)
    right_padded = tf.sequence_mask(lengths, tf.shape(mask)[1])
    return ops.logical_and(
        ops.all(ops.equal(ops.cast(mask, "bool"), right_padded)),
        ops.all(lengths > 0),
    )


def run_cudnn(cell, inputs, mask, initial_states, reverse=False):
    """`recurrence.run_rnn`'s result for one direction, on cuDNN where it can.

    Args:
        cell: a built Keras `LSTMCell` or `GRUCell` with `cudnn_supports`.
        inputs: float tensor `(B, S, F)`.
        mask: bool tensor `(B, S)`.
        initial_states: tuple of `(B, U)` tensors.
        reverse: Python bool.

    Returns:
        `(outputs (B, S, U), final_states tuple)`.
    """
    rnn = _keras_rnn()
    kind = cell_kind(cell)
    dtype = initial_states[0].dtype
    inputs = ops.cast(inputs, dtype)

    def on_cudnn():
        common = dict(
            mask=mask,
            kernel=cell.kernel,
            recurrent_kernel=cell.recurrent_kernel,
            bias=cell.bias,
            activation=cell.activation,
            recurrent_activation=cell.recurrent_activation,
            return_sequences=True,
            go_backwards=reverse,
        )
        if kind == "lstm":
            _, outputs, states = rnn.lstm(
                inputs, initial_states[0], initial_states[1], **common
            )
        else:
            _, outputs, states = rnn.gru(
                inputs, initial_states[0], reset_after=cell.reset_after, **common
            )
        if reverse:  # Keras returns a backward pass in processing order
            outputs = ops.flip(outputs, 1)
        states = states if isinstance(states, (list, tuple)) else [states]
        return ops.cast(outputs, dtype), tuple(ops.cast(s, dtype) for s in states)

    def on_loop():
        return run_directions([cell], inputs, mask, [initial_states], [reverse])[0]

    return tf.cond(cudnn_mask_ok(mask), on_cudnn, on_loop)


def uses_cudnn(cells):
    """True when `cells` (one layer's directions) would run on cuDNN now."""
    return all(
        isinstance(c, (keras.layers.LSTMCell, keras.layers.GRUCell))
        and cudnn_supports(c)
        for c in cells
    )

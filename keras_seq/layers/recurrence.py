"""An export-safe loop that runs a Keras RNN cell over a masked sequence.

Keras' own `RNN` layer loops with TensorArrays, which TFLite runs only through
Flex ops. This loop writes each step into a preallocated time-major buffer
with a slice update inside one while loop, which converts to TFLite builtins
(WHILE, DYNAMIC_UPDATE_SLICE, ...) with dynamic batch and length.
"""

import keras
from keras import ops

from keras_seq.arguments import check_choice
from keras_seq.layers import cudnn_recurrence, fast_recurrence, kernels
from keras_seq.layers.buffer_write import write_step

CELLS = {
    "simple_rnn": keras.layers.SimpleRNNCell,
    "lstm": keras.layers.LSTMCell,
    "gru": keras.layers.GRUCell,
}


def make_cell(cell, units, dtype=None, name=None):
    """Build the Keras cell named `cell` ('simple_rnn', 'lstm' or 'gru')."""
    check_choice("cell", cell, tuple(CELLS))
    return CELLS[cell](units, dtype=dtype, name=name)


def num_states(cell):
    """How many state tensors the cell named `cell` carries (LSTM: h and c)."""
    return 2 if cell == "lstm" else 1


def zero_states(cell, batch_size, units, dtype):
    """Zero initial states `(B, units)` for the cell named `cell`."""
    zeros = ops.zeros((batch_size, units), dtype=dtype)
    return tuple(zeros for _ in range(num_states(cell)))


def cell_step(cell, x_t, states, mask_t=None, training=False):
    """One masked cell step.

    Where `mask_t` (B,) is False the states are carried over unchanged and
    the output is zero, so padding never changes a real position.

    Returns:
        `(output (B, U), new_states tuple)`.
    """
    output, new_states = cell(x_t, list(states), training=training)
    new_states = tuple(new_states) if isinstance(new_states, (list, tuple)) else (
        new_states,
    )
    if mask_t is not None:
        keep = ops.expand_dims(mask_t, -1)  # (B, 1)
        new_states = tuple(
            ops.where(keep, new, old) for new, old in zip(new_states, states)
        )
        output = ops.where(keep, output, ops.zeros_like(output))
    return output, new_states


def counted_loop(steps, body, init):
    """`body(i, carry) -> carry` for `i` in `[0, steps)`, as one bounded loop.

    Like `keras.ops.fori_loop(0, steps, body, init)`, but the while loop
    carries `maximum_iterations=steps`. Keras' `fori_loop` leaves it unset,
    and then XLA cannot compile the loop's gradient ("XLA compilation
    requires a fixed tensor list size"); `compile(jit_compile="auto")` turns
    XLA on wherever a GPU is visible, so `fit` would fail there.

    Args:
        steps: int or scalar int tensor. Number of iterations.
        body: callable `(i, carry) -> carry`, `carry` a nest of tensors.
        init: the initial carry.

    Returns:
        The carry after `steps` iterations.
    """
    _, carry = ops.while_loop(
        lambda i, carry: i < steps,
        lambda i, carry: (i + 1, body(i, carry)),
        (0, init),
        maximum_iterations=steps,
    )
    return carry


def run_rnn(cell, inputs, mask, initial_states, reverse=False, training=False):
    """Run `cell` over `inputs` (B, S, F) with a boolean `mask` (B, S).

    Args:
        cell: a built Keras RNN cell.
        inputs: float tensor `(B, S, F)`.
        mask: boolean tensor `(B, S)`, True at real tokens.
        initial_states: tuple of `(B, U)` tensors.
        reverse: Python bool. Process positions from last to first.
        training: Python bool.

    Returns:
        `(outputs (B, S, U), final_states tuple)`; outputs are zero where the
        mask is False, and the final states are those after the last real
        token in processing order.
    """
    steps = ops.shape(inputs)[1]
    time_inputs = ops.transpose(inputs, (1, 0, 2))  # (S, B, F)
    time_mask = ops.transpose(mask, (1, 0))  # (S, B)
    batch = ops.shape(inputs)[0]
    units = cell.units
    outputs = ops.zeros((steps, batch, units), dtype=initial_states[0].dtype)

    def body(i, carry):
        outputs, states = carry
        t = steps - 1 - i if reverse else i
        output, states = cell_step(
            cell, time_inputs[t], states, time_mask[t], training=training
        )
        outputs = write_step(outputs, t, output)
        return outputs, states

    outputs, states = counted_loop(steps, body, (outputs, tuple(initial_states)))
    return ops.transpose(outputs, (1, 0, 2)), states


def run_layer(cells, inputs, mask, initial_states, reverses=None, training=False):
    """Run one recurrent layer (one cell per direction) with the kernel in force.

    The seam of `keras_seq.layers.kernels`: under `use_kernel("export")` each
    direction runs `run_rnn` (export-safe); otherwise the directions run in
    one fast loop (`fast_recurrence.run_directions`), or, for LSTM and GRU
    cells where a GPU is visible and the kernel is `"auto"`, through Keras'
    cuDNN kernel. All give the same numbers.

    Args:
        cells: list of built Keras cells, one per direction.
        inputs: float tensor `(B, S, F)`.
        mask: bool tensor `(B, S)`.
        initial_states: list (one per direction) of state tuples `(B, U)`.
        reverses: list of Python bools, one per direction; `None` runs every
            direction forward.
        training: Python bool.

    Returns:
        List (one per direction) of `(outputs (B, S, U), final_states)`.
    """
    reverses = list(reverses or [False] * len(cells))
    if kernels.export_safe():
        return [
            run_rnn(cell, inputs, mask, states, reverse=reverse, training=training)
            for cell, states, reverse in zip(cells, initial_states, reverses)
        ]
    if kernels.cudnn_possible() and cudnn_recurrence.uses_cudnn(cells):
        return [
            cudnn_recurrence.run_cudnn(cell, inputs, mask, states, reverse)
            for cell, states, reverse in zip(cells, initial_states, reverses)
        ]
    return fast_recurrence.run_directions(
        cells, inputs, mask, [tuple(s) for s in initial_states], reverses
    )

"""The fast training kernel of keras_seq's recurrences (see `kernels.py`).

Computes exactly what a Keras `SimpleRNNCell`, `LSTMCell` or `GRUCell`
computes, over the cell's own weights, but arranged for training speed:

- the input projection `x_t W + b` of every time step is one matmul
  before the loop; only `h_{t-1} U` stays inside;
- the directions of a bidirectional layer run in one loop (a reversed
  direction reads and writes position `S - 1 - t` at step `t`, so nothing
  is flipped);
- the loop reads its inputs from and writes its outputs to TensorArrays
  (no slice of the whole sequence per step, whose gradient is a full-size
  tensor per step, and no full-buffer select per write), and the outputs
  are zeroed at padding once, after the loop.

TensorArrays convert to TFLite only through Flex ops, so this kernel is for
training graphs (and SavedModels); exports trace `recurrence.run_rnn`.
"""

import keras
import tensorflow as tf
from keras import ops

def cell_kind(cell):
    """`"simple_rnn"`, `"lstm"` or `"gru"` for a Keras cell."""
    if isinstance(cell, keras.layers.LSTMCell):
        return "lstm"
    if isinstance(cell, keras.layers.GRUCell):
        return "gru"
    if isinstance(cell, keras.layers.SimpleRNNCell):
        return "simple_rnn"
    raise ValueError(
        "Invalid value for argument `cell`. Expected a keras.layers "
        f"SimpleRNNCell, LSTMCell or GRUCell. Received: cell={cell!r}"
    )


def _input_bias(cell, kind):
    if not cell.use_bias:
        return None
    if kind == "gru" and cell.reset_after:
        return cell.bias[0]
    return cell.bias


def recurrent_bias(cell):
    """The bias added to `h_{t-1} U` (a GRU's with `reset_after`), or None."""
    if cell_kind(cell) == "gru" and cell.use_bias and cell.reset_after:
        return cell.bias[1]
    return None


def recurrent_product(cell, h, recurrent_kernel=None, bias=None):
    """`h_{t-1} U` plus the recurrent bias, as `recurrent_update` takes it."""
    kernel = cell.recurrent_kernel if recurrent_kernel is None else recurrent_kernel
    product = ops.matmul(h, ops.cast(kernel, h.dtype))
    bias = recurrent_bias(cell) if bias is None else bias
    return product if bias is None else product + ops.cast(bias, product.dtype)


def input_projection(cell, inputs, kernel=None):
    """`inputs @ W + b` for all positions: `(..., F)` to `(..., G * U)`.

    Args:
        cell: a built Keras cell.
        inputs: float tensor `(..., F)`.
        kernel: optional rows of the cell's kernel to use (for a cell whose
            input is a concatenation, part of which is known in advance).
    """
    kind = cell_kind(cell)
    kernel = cell.kernel if kernel is None else kernel
    z = ops.matmul(inputs, ops.cast(kernel, inputs.dtype))
    bias = _input_bias(cell, kind)
    if bias is not None:
        z = z + ops.cast(bias, z.dtype)
    return z


def recurrent_update(cell, xw, h_kernel_product, states):
    """One step of `cell` given its input projection and `h_{t-1} U`.

    Args:
        cell: the Keras cell (its kind and activations).
        xw: `(..., G * U)`, the input projection with the input bias.
        h_kernel_product: `(..., G * U)`, from `recurrent_product` (with a
            GRU's recurrent bias).
        states: tuple of `(..., U)` tensors, `(h,)` or `(h, c)`.

    Returns:
        The new states tuple (its first entry is the output `h_t`).
    """
    kind = cell_kind(cell)
    if kind == "simple_rnn":
        h = xw + h_kernel_product
        return ((cell.activation(h) if cell.activation is not None else h),)
    if kind == "lstm":
        z = xw + h_kernel_product
        z0, z1, z2, z3 = ops.split(z, 4, axis=-1)
        i = cell.recurrent_activation(z0)
        f = cell.recurrent_activation(z1)
        c = f * states[1] + i * cell.activation(z2)
        o = cell.recurrent_activation(z3)
        return (o * cell.activation(c), c)
    inner = h_kernel_product
    x_z, x_r, x_h = ops.split(xw, 3, axis=-1)
    r_z, r_r, r_h = ops.split(inner, 3, axis=-1)
    z = cell.recurrent_activation(x_z + r_z)
    r = cell.recurrent_activation(x_r + r_r)
    if not cell.reset_after:
        raise ValueError(
            "The fast kernel needs GRUCell(reset_after=True) (Keras' "
            "default); keras_seq builds its GRU cells that way."
        )
    hh = cell.activation(x_h + r * r_h)
    return (z * states[0] + (1 - z) * hh,)


def masked_update(cell, xw, h_kernel_product, states, keep):
    """`recurrent_update` where rows with `keep` False carry `states` over.

    Args:
        cell, xw, h_kernel_product, states: as for `recurrent_update`.
        keep: bool tensor `(B, 1)`, False on rows past their sequence.

    Returns:
        `(output, states)`: the update's `h_t` `(B, U)` on every row, and
        the states to carry (the old ones where `keep` is False).
    """
    new = recurrent_update(cell, xw, h_kernel_product, states)
    return new[0], tuple(ops.where(keep, n, o) for n, o in zip(new, states))


def run_directions(cells, inputs, mask, initial_states, reverses):
    """Run one cell per direction over `inputs`, all in one while loop.

    Each direction `d` runs `cells[d]` from the first position to the last
    (or from the last to the first where `reverses[d]`), with the semantics
    of `recurrence.run_rnn`: where `mask` is False the states are carried
    over and the output is zero.

    Args:
        cells: list of built Keras cells of one kind and width.
        inputs: float tensor `(B, S, F)`.
        mask: bool tensor `(B, S)`.
        initial_states: list (one per direction) of state tuples `(B, U)`.
        reverses: list of Python bools, one per direction.

    Returns:
        List (one per direction) of `(outputs (B, S, U), final_states)`.
    """
    dtype = initial_states[0][0].dtype
    steps = tf.shape(inputs)[1]
    time_inputs = ops.transpose(ops.cast(inputs, dtype), (1, 0, 2))  # (S, B, F)
    keep = ops.expand_dims(ops.transpose(mask, (1, 0)), -1)  # (S, B, 1)
    keep_ta = tf.TensorArray(
        tf.bool, size=steps, clear_after_read=False, element_shape=keep.shape[1:]
    ).unstack(keep)
    # A reversed direction reads and writes position S - 1 - t at step t:
    # no flipped copies of its inputs or outputs.
    inputs_tas = []
    for cell in cells:
        projected = input_projection(cell, time_inputs)  # (S, B, G*U)
        inputs_tas.append(
            tf.TensorArray(dtype, size=steps, element_shape=projected.shape[1:])
            .unstack(projected)
        )
    kernels = [ops.cast(c.recurrent_kernel, dtype) for c in cells]
    biases = [recurrent_bias(c) for c in cells]
    biases = [None if b is None else ops.cast(b, dtype) for b in biases]

    def body(t, outputs_tas, states):
        new_tas, new_states = [], []
        for d, cell in enumerate(cells):
            position = steps - 1 - t if reverses[d] else t
            keep_t = keep_ta.read(position)  # (B, 1)
            product = recurrent_product(cell, states[d][0], kernels[d], biases[d])
            output, carried = masked_update(
                cell, inputs_tas[d].read(position), product, states[d], keep_t
            )
            new_states.append(carried)
            new_tas.append(outputs_tas[d].write(position, output))
        return t + 1, new_tas, new_states

    outputs_tas = [
        tf.TensorArray(dtype, size=steps, element_shape=s[0].shape)
        for s in initial_states
    ]
    _, outputs_tas, states = tf.while_loop(
        lambda t, *_: t < steps,
        body,
        (tf.constant(0), outputs_tas, [tuple(s) for s in initial_states]),
        maximum_iterations=steps,
    )
    real = ops.expand_dims(ops.cast(mask, "bool"), -1)  # (B, S, 1)
    results = []
    for ta, final in zip(outputs_tas, states):
        outputs = ops.transpose(ta.stack(), (1, 0, 2))  # (B, S, U)
        results.append((ops.where(real, outputs, ops.zeros_like(outputs)), tuple(final)))
    return results

"""The fast training loop of an `AttentionRNNDecoder` with input feeding."""

import tensorflow as tf
from keras import ops

from keras_seq.constants import PAD
from keras_seq.layers.fast_recurrence import (
    input_projection,
    masked_update,
    recurrent_product,
)


def input_feeding_loop(decoder, ids, encoder_output, training, return_attention):
    """The decoder's teacher-forced attentional vectors, arranged for speed.

    The same numbers as stepping `decoder.step` over `ids` (the export-safe
    kernel), in less work: the loop computes only what depends on the
    previous step, which is the cells' recurrent matmuls, the attention
    over keys computed once per sequence, and the attentional vector. The
    embedding half of the first cell's input projection is one matmul
    before the loop, the vocabulary projection is left to the caller, and
    outputs gather in TensorArrays (training graphs and SavedModels only;
    the exporters trace the export-safe kernel).

    Args:
        decoder: a built `AttentionRNNDecoder` with `input_feeding=True`.
        ids: int tensor (B, T). Decoder inputs, PAD-padded.
        encoder_output: the encoder's `EncoderOutput`.
        training: bool. Dropout on or off.
        return_attention: bool. Whether to gather the attention weights.

    Returns:
        `(attentional, weights)`: (B, T, U) and (B, T, S), or `None` for
        the weights unless `return_attention`.
    """
    memory = ops.cast(encoder_output.sequence, decoder.compute_dtype)
    memory_mask = encoder_output.padding_mask
    keys = decoder.attention_layer.keys(memory)  # once per sequence
    state = decoder.initial_state(encoder_output)
    steps = tf.shape(ids)[1]
    keep = ops.expand_dims(ops.transpose(ops.not_equal(ids, PAD), (1, 0)), -1)
    embedded = decoder.dropout_layer(decoder.embedding(ids), training=training)
    embedded = ops.transpose(ops.cast(embedded, decoder.compute_dtype), (1, 0, 2))
    first = decoder.cells[0]
    width = embedded.shape[-1]
    projected = input_projection(first, embedded, first.kernel[:width])
    embedded_ta = tf.TensorArray(
        decoder.compute_dtype, size=steps, element_shape=projected.shape[1:]
    ).unstack(projected)  # (T, B, G*U)
    keep_ta = tf.TensorArray(
        tf.bool, size=steps, element_shape=keep.shape[1:]
    ).unstack(keep)  # (T, B, 1)
    # Only arrays that get written travel in the loop (XLA cannot take the
    # gradient of one left empty).
    batch = ids.shape[0]
    outputs = [  # the attentional vectors (T, B, U)
        tf.TensorArray(decoder.compute_dtype, size=steps,
                       element_shape=(batch, decoder.units))
    ]
    if return_attention:  # and the weights (T, B, S)
        outputs.append(tf.TensorArray(decoder.compute_dtype, size=steps,
                                      element_shape=(batch, memory.shape[1])))

    def body(t, outputs, feed, rnn_state):
        keep_t, embedded_t = keep_ta.read(t), embedded_ta.read(t)
        x, new_rnn_state = None, []
        for i, (cell, states) in enumerate(zip(decoder.cells, rnn_state)):
            with tf.name_scope(f"cell_{i}"):  # named for profiles
                if i == 0:  # the embedding half of the projection is done
                    xw = embedded_t + ops.matmul(
                        feed, ops.cast(cell.kernel[width:], feed.dtype))
                else:
                    xw = input_projection(cell, x)
                x, layer_state = masked_update(
                    cell, xw, recurrent_product(cell, states[0]), states, keep_t)
                x = ops.where(keep_t, x, ops.zeros_like(x))  # (B, U)
            new_rnn_state.append(layer_state)
        with tf.name_scope("attention"):  # named for profiles
            context, weights = decoder.attention_layer.attend(x, memory, keys, memory_mask)
        attentional = decoder.attentional_layer(ops.concatenate([x, context], -1))
        feed = ops.where(keep_t, attentional, feed)
        written = [attentional, ops.cast(weights, decoder.compute_dtype)]
        outputs = [ta.write(t, value) for ta, value in zip(outputs, written)]
        return t + 1, outputs, feed, tuple(new_rnn_state)

    _, outputs, _, _ = tf.while_loop(
        lambda t, *_: t < steps,
        body,
        (tf.constant(0), outputs, state["feed"], state["rnn"]),
        maximum_iterations=steps,
    )
    outputs = [ops.transpose(ta.stack(), (1, 0, 2)) for ta in outputs]
    return outputs[0], (outputs[1] if return_attention else None)


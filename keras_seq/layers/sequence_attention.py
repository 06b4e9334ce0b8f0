"""Multi-head attention over whole sequences, for training speed.

Keras' `MultiHeadAttention` projects with `EinsumDense` layers, which run on
TensorFlow as a rank-3 by rank-2 `BatchMatMulV2`. The gradient of that
broadcast product with respect to the kernel is a batched product per
example followed by a sum over the batch: on the CPU, 60% to 70% of a
Transformer training step (`benchmarks/profile_training_step.py`'s
costliest ops). Here the same kernels multiply a `(B * T, D)` matrix, whose
gradient is one plain `MatMul`, and the attention itself uses the masked
softmax of `keras_seq.layers.masking` (exact zeros at masked keys, all
zeros for a row with none), as the one-query decoding step does.
"""

import math

from keras import ops

from keras_seq.layers.masking import masked_softmax


def project(dense, x):
    """An `EinsumDense` of Keras MHA applied as one rank-2 matmul.

    Handles the two shapes Keras' attention uses: the input projections
    (kernel `(D, H, Dh)`, `(B, T, D)` to `(B, T, H, Dh)`) and the output
    projection (kernel `(H, Dh, D)`, `(B, T, H, Dh)` to `(B, T, D)`).

    Args:
        dense: a built `keras.layers.EinsumDense` of a Keras MHA.
        x: float tensor.

    Returns:
        What `dense(x)` returns, computed with the same weights.
    """
    kernel = ops.cast(dense.kernel, x.dtype)
    if len(kernel.shape) != 3:
        raise ValueError(
            "Expected an EinsumDense kernel of rank 3 (Keras "
            f"MultiHeadAttention's). Received: kernel shape {kernel.shape}"
        )
    if len(x.shape) == 3:  # (B, T, D) @ (D, H, Dh)
        in_width, out_shape = kernel.shape[0], tuple(kernel.shape[1:])
    else:  # (B, T, H, Dh) @ (H, Dh, D)
        in_width, out_shape = kernel.shape[0] * kernel.shape[1], (kernel.shape[2],)
    out_width = math.prod(out_shape)
    batch, steps = ops.shape(x)[0], ops.shape(x)[1]
    flat = ops.reshape(x, (-1, in_width))  # (B * T, in)
    y = ops.matmul(flat, ops.reshape(kernel, (in_width, out_width)))
    if dense.bias is not None:
        y = y + ops.reshape(ops.cast(dense.bias, y.dtype), (out_width,))
    return ops.reshape(y, (batch, steps) + out_shape)


def sequence_attention(attention, query, value, mask=None, training=False):
    """What `attention(query, value, attention_mask=mask)` computes.

    Args:
        attention: a built Keras `MultiHeadAttention`; its projections
            (`query_dense`, `key_dense`, `value_dense`, `output_dense`) and
            dropout are used.
        query: float tensor `(B, T, D)`.
        value: float tensor `(B, S, D)` (keys and values).
        mask: optional bool tensor broadcastable to `(B, T, S)`, True where
            the query may attend to the key.
        training: Python bool. Dropout on the attention weights.

    Returns:
        `(output (B, T, D), weights (B, H, T, S))`, the weights before
        dropout (the layout of Keras' attention scores).
    """
    q = project(attention.query_dense, query)  # (B, T, H, Dh)
    k = project(attention.key_dense, value)  # (B, S, H, Dh)
    v = project(attention.value_dense, value)  # (B, S, H, Dh)
    q = ops.multiply(q, ops.cast(1.0 / math.sqrt(int(q.shape[-1])), q.dtype))
    scores = ops.matmul(
        ops.transpose(q, (0, 2, 1, 3)), ops.transpose(k, (0, 2, 3, 1))
    )  # (B, H, T, S)
    if mask is not None:
        mask = ops.expand_dims(ops.cast(mask, "bool"), 1)  # (B, 1, T|1, S)
    weights = masked_softmax(scores, mask)
    # Keras names no public accessor for the attention's dropout layer (it
    # holds the seed): this is the one private attribute keras_seq reads.
    dropped = attention._dropout_layer(weights, training=training)
    output = ops.matmul(dropped, ops.transpose(v, (0, 2, 1, 3)))  # (B, H, T, Dh)
    output = project(attention.output_dense, ops.transpose(output, (0, 2, 1, 3)))
    return output, weights  # (B, T, D), (B, H, T, S)

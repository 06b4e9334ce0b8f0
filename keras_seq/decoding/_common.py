"""Private helpers shared by the decoding strategies.

Everything here is written with core TensorFlow ops that convert to TFLite
builtins: no TensorArray/TensorList, no Python control flow on tensor values.
"""

import tensorflow as tf

from keras_seq.arguments import check_int, is_int

# Large finite negative used instead of -inf, so that sums and softmaxes of
# "impossible" entries never produce NaN.
NEG_INF = -1e9


def check_size(name, value):
    """Return `value` as a scalar int32 tensor; Python ints must be positive.

    Accepts a positive Python int or a scalar integer tensor (e.g.
    `tf.shape(x)[0]` for a dynamic batch in an exported graph).
    """
    if is_int(value):
        return tf.constant(check_int(name, value), tf.int32)
    if isinstance(value, (tf.Tensor, tf.Variable)) and value.dtype.is_integer:
        if value.shape.rank not in (None, 0):
            raise ValueError(
                f"Invalid shape for argument `{name}`. Expected a scalar. "
                f"Received: {name}.shape={value.shape}"
            )
        return tf.cast(tf.reshape(value, []), tf.int32)
    raise ValueError(
        f"Invalid value for argument `{name}`. Expected a positive integer or "
        f"a scalar integer tensor. Received: {name}={value!r}"
    )


def check_token_id(name, value):
    """Return `value` as a Python int after checking it is a valid token id."""
    return check_int(name, value, 0, note="a token id")


def check_step_fn(step_fn):
    """Raise `TypeError` unless `step_fn` is callable."""
    if not callable(step_fn):
        raise TypeError(
            "Invalid value for argument `step_fn`. Expected a callable "
            "`step_fn(ids_t, state) -> (logits, new_state)`. "
            f"Received: step_fn={step_fn!r}"
        )


def state_invariants(state):
    """Shape invariants that leave the leading (batch) dimension free."""

    def relax(x):
        shape = x.shape
        if shape.rank is None or shape.rank == 0:
            return shape
        return tf.TensorShape([None]).concatenate(shape[1:])

    return tf.nest.map_structure(relax, state)


def log_probs(logits):
    """Log-softmax of `logits` computed in float32. (N, V) -> (N, V)."""
    return tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)


def pick(values, ids):
    """Return `values[n, ids[n]]` for each row. (N, V), (N,) -> (N,).

    Written as a select and a sum so that `-inf` entries of other columns
    cannot turn into NaN, and so that it converts to TFLite builtins.
    """
    columns = tf.range(tf.shape(values)[-1], dtype=tf.int32)
    hit = tf.equal(columns[None, :], ids[:, None])
    return tf.reduce_sum(tf.where(hit, values, tf.zeros_like(values)), axis=-1)


def write_column(buffer, t, column):
    """Return `buffer` with column `t` set to `column`. (N, L) -> (N, L)."""
    positions = tf.range(tf.shape(buffer)[-1], dtype=tf.int32)
    return tf.where(positions[None, :] == t, column[:, None], buffer)


def trim_to_longest(ids, lengths):
    """Cut the last axis of `ids` to `max(lengths)` (0 for an empty batch)."""
    longest = tf.maximum(tf.reduce_max(lengths), 0)
    return ids[..., :longest]

"""Private: the decoding controls as tensor ops inside a loop's step.

Everything converts to TFLite builtins (SCATTER_ND, SELECT_V2, slices) and
keeps shapes fixed; a control that is off adds no op, so a loop without
controls traces the same graph as before.
"""

import tensorflow as tf

from keras_seq.constants import PAD
from keras_seq.decoding._common import NEG_INF
from keras_seq.decoding.tile_beams import tile_beams


class RowInputs:
    """The per-row tensors the controls read, tiled to the loop's rows.

    Args:
        controls: a `Controls`.
        source_mask: bool or int `(B, S)` or None. Non-zero where the source
            has a token; needed for a per-row bound and for attention.
        target_prefix: int `(B, P)` or None. PAD-padded forced first tokens.
        rows: int. How many loop rows each source has (beam size, or 1).
    """

    def __init__(self, controls, source_mask=None, target_prefix=None, rows=1):
        self.caps = self.mask = None
        if source_mask is not None:
            mask = tf.convert_to_tensor(source_mask)
            if mask.shape.rank != 2:
                raise ValueError(
                    "Invalid shape for argument `source_mask`. Expected (B, S). "
                    f"Received: source_mask.shape={mask.shape}")
            # Only the controls read it: without them, no op (a plain beam
            # search would otherwise tile it for nothing).
            if controls.bounds_rows or controls.uses_attention:
                self.mask = _repeat_rows(
                    tf.not_equal(mask, tf.zeros_like(mask)), rows)  # (N, S)
        elif controls.bounds_rows or controls.uses_attention:
            raise ValueError(
                "Invalid value for argument `source_mask`. A per-row bound "
                "(`max_length_a`/`max_length_b`), `return_attention` and "
                "`coverage_penalty` need the source's positions. "
                "Received: source_mask=None")
        if controls.bounds_rows:
            lengths = tf.reduce_sum(tf.cast(self.mask, tf.float32), axis=1)
            caps = tf.floor(controls.max_length_a * lengths + float(controls.max_length_b or 0))
            self.caps = tf.cast(caps, tf.int32)  # (N,)
        self.prefix = self.prefix_lengths = None
        if target_prefix is not None:
            prefix = tf.cast(tf.convert_to_tensor(target_prefix), tf.int32)  # (B, P)
            if prefix.shape.rank != 2:
                raise ValueError(
                    "Invalid shape for argument `target_prefix`. Expected int ids "
                    f"(B, P), PAD-padded. Received: target_prefix.shape={prefix.shape}")
            # A row's prefix ends at its first PAD.
            is_pad = tf.cast(tf.equal(prefix, PAD), tf.int32)
            ends = tf.concat([is_pad, tf.ones_like(is_pad[:, :1])], axis=1)
            lengths = tf.argmax(ends, axis=1, output_type=tf.int32)  # (B,)
            self.prefix = _repeat_rows(prefix, rows)  # (N, P)
            self.prefix_lengths = _repeat_rows(lengths, rows)  # (N,)


def split_step(step_fn, ids_t, state, controls):
    """Call `step_fn`: `(logits, state, attention or None)`."""
    out = step_fn(ids_t, state)
    if not controls.uses_attention:
        return out[0], out[1], None
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise ValueError(
            "Invalid value for argument `step_fn`. With `return_attention` or "
            "`coverage_penalty` it must return `(logits, new_state, attention)`, "
            "attention (N, S). Received a result of "
            f"{len(out) if isinstance(out, (tuple, list)) else type(out).__name__} parts")
    return out[0], out[1], tf.cast(out[2], tf.float32)


def output_buffers(rows, max_length, mask, controls):
    """The per-step outputs the controls ask for, as zeros: a dict with
    `token_scores` `(N, L)` and `attention` `(N, L, S)`, or neither."""
    buffers = {}
    if controls.return_token_scores:
        buffers["token_scores"] = tf.zeros(tf.stack([rows, max_length]), tf.float32)
    if controls.return_attention:
        buffers["attention"] = tf.zeros(
            tf.stack([rows, max_length, tf.shape(mask)[1]]), tf.float32)
    return buffers


def free_shapes(buffers):
    """Shape invariants with every dimension free, for a dict of tensors."""
    return {name: tf.TensorShape([None] * value.shape.rank)
            for name, value in buffers.items()}


def write_step(buffer, t, values):
    """`buffer` `(N, L, S)` with `[:, t]` set to `values` `(N, S)`."""
    # expand_dims, not `[:, None]`: TFLite has no builtin for a strided
    # slice that inserts an inner axis.
    here = tf.reshape(tf.equal(tf.range(tf.shape(buffer)[1], dtype=tf.int32), t), [1, -1, 1])
    return tf.where(here, tf.expand_dims(values, 1), buffer)


def trim_steps(alignments, lengths):
    """Cut the step axis (-2) of `alignments` to `max(lengths)`."""
    longest = tf.maximum(tf.reduce_max(lengths), 0)
    return alignments[..., :longest, :]


def coverage_penalty(coverage, mask, beta):
    """GNMT: `beta * sum_i log(min(coverage_i, 1))` over the source's tokens.

    Coverage below 1e-10 counts as 1e-10, so scores stay finite. `(N, S)`
    -> `(N,)`.
    """
    clipped = tf.clip_by_value(coverage, 1e-10, 1.0)
    logs = tf.where(mask, tf.math.log(clipped), tf.zeros_like(clipped))
    return beta * tf.reduce_sum(logs, axis=1)


def _repeat_rows(x, rows):
    """Row b becomes rows b*K .. b*K+K-1 (the beam layout)."""
    return x if rows == 1 else tile_beams(x, rows)


def token_mask(tokens, keep, vocab_size):
    """bool `(N, V)`: which tokens occur in `tokens` `(N, L)` where `keep`.

    A scatter into one extra (dropped) column for the entries not kept, so
    that every written value is 1 whether duplicates add or overwrite.
    """
    rows = tf.broadcast_to(tf.range(tf.shape(tokens)[0])[:, None], tf.shape(tokens))
    columns = tf.where(keep, tokens, vocab_size)
    indices = tf.reshape(tf.stack([rows, columns], axis=-1), [-1, 2])
    updates = tf.ones(tf.shape(indices)[:1], tf.int32)
    counts = tf.scatter_nd(indices, updates, tf.stack([tf.shape(tokens)[0], vocab_size + 1]))
    return counts[:, :vocab_size] > 0


def column(ids, position):
    """`ids[:, position]` for a scalar tensor position (0 when out of range)."""
    positions = tf.range(tf.shape(ids)[1], dtype=tf.int32)
    return tf.reduce_sum(tf.where(positions[None, :] == position, ids, tf.zeros_like(ids)), 1)


def _shift_left(ids, k):
    """`ids[:, j + k]` at column j, PAD past the end."""
    if k == 0:
        return ids
    return tf.pad(ids[:, k:], [[0, 0], [0, k]])


def repeated_ngrams(ids, t, n, vocab_size):
    """bool `(N, V)`: tokens that would repeat an n-gram of `ids[:, :t]`.

    For every j with `j + n - 1 < t` whose n-1 tokens equal the last n-1,
    the token at `j + n - 1` is forbidden (n = 1 forbids every earlier
    token).
    """
    positions = tf.range(tf.shape(ids)[1], dtype=tf.int32)
    match = tf.broadcast_to(positions[None, :] <= t - n, tf.shape(ids))
    for k in range(n - 1):
        last = column(ids, t - n + 1 + k)  # (N,)
        match = tf.logical_and(match, tf.equal(_shift_left(ids, k), last[:, None]))
    return token_mask(_shift_left(ids, n - 1), match, vocab_size)


def step_log_probs(logits, t, ids, eos_id, controls, row_inputs):
    """The log-probabilities a loop chooses and scores with at step `t`.

    Args:
        logits: float `(N, V)`, the model's.
        t: int32 scalar, the step (tokens emitted so far).
        ids: int32 `(N, L)`, each row's tokens so far at columns `< t`,
            PAD from column `t` on.
        eos_id: int.
        controls: a `Controls`.
        row_inputs: the `RowInputs` of this search.

    Returns:
        float32 `(N, V)`: log-softmax of the (penalised) logits, NEG_INF
        where a control forbids the token.
    """
    logits = tf.cast(logits, tf.float32)
    vocab_size = tf.shape(logits)[-1]
    if controls.repetition_penalty != 1:
        # Columns from t on are still PAD: the loops fill their buffers so.
        seen = token_mask(ids, tf.not_equal(ids, PAD), vocab_size)
        penalty = controls.repetition_penalty
        penalised = tf.where(logits > 0, logits / penalty, logits * penalty)
        logits = tf.where(seen, penalised, logits)
    log_probs = tf.nn.log_softmax(logits, axis=-1)
    if not (controls.min_length or controls.no_repeat_ngram_size or row_inputs.caps is not None
            or row_inputs.prefix is not None):
        return log_probs  # nothing to forbid or force: no op added
    columns = tf.range(vocab_size, dtype=tf.int32)
    is_eos = tf.equal(columns, eos_id)[None, :]  # (1, V)
    banned = None
    if controls.min_length:
        banned = tf.logical_and(is_eos, t < controls.min_length)
    if controls.no_repeat_ngram_size:
        repeats = repeated_ngrams(ids, t, controls.no_repeat_ngram_size, vocab_size)
        banned = repeats if banned is None else tf.logical_or(banned, repeats)
    values = log_probs
    if banned is not None:
        values = tf.where(banned, NEG_INF, log_probs)
        # A row with nothing left ends.
        stuck = tf.reduce_all(banned, axis=-1, keepdims=True)
        values = tf.where(tf.logical_and(stuck, is_eos), log_probs, values)
    if row_inputs.caps is not None:
        at_cap = (t >= row_inputs.caps)[:, None]  # (N, 1)
        values = tf.where(at_cap, tf.where(is_eos, log_probs, NEG_INF), values)
    if row_inputs.prefix is not None:
        forced = column(row_inputs.prefix, t)  # (N,)
        in_prefix = (t < row_inputs.prefix_lengths)[:, None]
        only = tf.where(tf.equal(columns[None, :], forced[:, None]), log_probs, NEG_INF)
        values = tf.where(in_prefix, only, values)
    return values

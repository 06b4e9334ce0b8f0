"""Greedy search: pick the most likely token at every step."""

import tensorflow as tf

from keras_seq.constants import BOS, EOS
from keras_seq.decoding import _single_path


def greedy_search(
    step_fn, initial_state, batch_size, max_length, bos_id=BOS, eos_id=EOS,
    controls=None, source_mask=None, target_prefix=None,
):
    """Decode by taking the highest-scoring token at every step.

    The whole loop is one `tf.while_loop` over preallocated buffers, so it
    traces once inside a `tf.function`, exports to a SavedModel and converts
    to TFLite with builtin ops only (WHILE, ARG_MAX, SELECT_V2, ...).

    Each row stops at its own EOS: from then on its ids are PAD and its score
    no longer changes. The loop ends when every row has produced EOS or after
    `max_length` steps, whichever comes first. The strategy knows nothing of
    models; it only drives `step_fn`.

    Args:
        step_fn: callable. `step_fn(ids_t, state) -> (logits, new_state)`
            with `ids_t` int32 `(B,)`, `logits` float `(B, V)` (cast to
            float32 here) and `state` any nest of tensors with leading
            dimension `B`. The first call receives `bos_id` for every row.
        initial_state: nest of tensors, each with leading dimension `B`
            (may be empty, e.g. `()`).
        batch_size: int or scalar int tensor. `B`. Use `tf.shape(x)[0]` for a
            dynamic batch.
        max_length: int or scalar int tensor. Maximum number of steps,
            counting the step that produces EOS.
        bos_id: int. Token fed at the first step. Defaults to
            `keras_seq.BOS`.
        eos_id: int. Token that ends a row. Defaults to `keras_seq.EOS`.
        controls: a `keras_seq.decoding.Controls` (min length, per-row
            length bound, n-gram blocking, repetition penalty, per-token
            scores) or None for none. Defaults to `None`.
        source_mask: bool or int `(B, S)` or None. Which source positions
            hold tokens (non-zero): the row's source length `S` of the bound
            `max_length_a * S + max_length_b`, and the width of attention
            outputs. Needed by those controls only.
        target_prefix: int `(B, P)` or None. Tokens each row must start
            with (PAD-padded: a row's prefix ends at its first PAD); the
            search is free after them. Defaults to `None`.

    Returns:
        Dict with
        - `"ids"`: int32 `(B, T)`, the generated tokens without EOS, PAD after
          each row's end; `T = max(lengths)`.
        - `"lengths"`: int32 `(B,)`, number of tokens before EOS (`max_length`
          for a row that never produced EOS).
        - `"scores"`: float32 `(B,)`, the sum of the log-softmax
          log-probabilities of the chosen tokens, including the EOS token's.

    Example:

    >>> import tensorflow as tf
    >>> table = tf.math.log(tf.constant([[0.1, 0.1, 0.1, 0.2, 0.5]]))
    >>> def step_fn(ids_t, state):
    ...     # Token 4 once, then EOS (3).
    ...     logits = tf.tile(table, [tf.shape(ids_t)[0], 1])
    ...     later = tf.roll(logits, -1, axis=1)
    ...     logits = tf.where(state[:, None] > 0, later, logits)
    ...     return logits, state + 1
    >>> out = keras_seq.decoding.greedy_search(
    ...     step_fn, tf.zeros([2], tf.int32), batch_size=2, max_length=5)
    >>> out["ids"].numpy().tolist(), out["lengths"].numpy().tolist()
    ([[4], [4]], [1, 1])
    """

    def choose(log_probs, t):
        return tf.math.argmax(log_probs, axis=-1, output_type=tf.int32)

    return _single_path.decode_single_path(
        step_fn, initial_state, batch_size, max_length, bos_id, eos_id, choose,
        controls=controls, source_mask=source_mask, target_prefix=target_prefix,
    )

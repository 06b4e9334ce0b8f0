"""Private loop shared by greedy search and sampling: one hypothesis per row."""

import tensorflow as tf

from keras_seq.constants import PAD
from keras_seq.decoding import _common


def decode_single_path(
    step_fn, initial_state, batch_size, max_length, bos_id, eos_id, choose,
    min_length=0,
):
    """Run `step_fn` in one `tf.while_loop`, picking tokens with `choose`.

    Args:
        step_fn: callable. `step_fn(ids_t, state) -> (logits, new_state)`.
        initial_state: nest of tensors with leading dimension `batch_size`.
        batch_size: positive int or scalar int tensor.
        max_length: positive int or scalar int tensor.
        bos_id: int. Token fed at the first step.
        eos_id: int. Token that ends a row (not written to `ids`).
        choose: callable. `choose(logits, t) -> ids`, with float32 logits
            (N, V), the int32 step `t`, and int32 ids (N,).
        min_length: int >= 0. EOS is never chosen before step `min_length`
            (its logit is NEG_INF there); scores stay the model's own
            log-probabilities of the chosen tokens.

    Returns:
        Dict with `ids` (B, T) int32, `lengths` (B,) int32 and `scores`
        (B,) float32, as documented by `greedy_search`.
    """
    _common.check_step_fn(step_fn)
    batch_size = _common.check_size("batch_size", batch_size)
    max_length = _common.check_size("max_length", max_length)
    bos_id = _common.check_token_id("bos_id", bos_id)
    eos_id = _common.check_token_id("eos_id", eos_id)
    min_length = _common.check_min_length(min_length)
    initial_state = tf.nest.map_structure(tf.convert_to_tensor, initial_state)

    ids = tf.fill(tf.stack([batch_size, max_length]), PAD)  # (B, L)
    lengths = tf.zeros(tf.reshape(batch_size, [1]), tf.int32)  # (B,)
    scores = tf.zeros(tf.reshape(batch_size, [1]), tf.float32)  # (B,)
    finished = tf.zeros(tf.reshape(batch_size, [1]), tf.bool)  # (B,)
    ids_t = tf.fill(tf.reshape(batch_size, [1]), tf.constant(bos_id, tf.int32))

    def cond(t, ids_t, state, ids, lengths, scores, finished):
        return tf.logical_not(tf.reduce_all(finished))

    def body(t, ids_t, state, ids, lengths, scores, finished):
        logits, state = step_fn(ids_t, state)
        logits = tf.cast(logits, tf.float32)  # (B, V)
        log_probs = _common.log_probs(logits)
        allowed = _common.forbid_early_eos(logits, t, min_length, eos_id)
        next_ids = tf.cast(choose(allowed, t), tf.int32)  # (B,)
        token_log_probs = _common.pick(log_probs, next_ids)
        # A finished row keeps its score; the EOS log-prob itself counts.
        scores = scores + tf.where(
            finished, tf.zeros_like(token_log_probs), token_log_probs
        )
        ends = tf.logical_or(finished, tf.equal(next_ids, eos_id))
        ids = _common.write_column(
            ids, t, tf.where(ends, PAD, next_ids)
        )
        lengths = lengths + tf.cast(tf.logical_not(ends), tf.int32)
        # Finished rows keep being fed EOS; their outputs are ignored.
        eos = tf.fill(tf.shape(next_ids), eos_id)
        ids_t = tf.where(finished, eos, next_ids)
        return t + 1, ids_t, state, ids, lengths, scores, ends

    loop_vars = (
        tf.constant(0, tf.int32),
        ids_t,
        initial_state,
        ids,
        lengths,
        scores,
        finished,
    )
    invariants = (
        tf.TensorShape([]),
        tf.TensorShape([None]),
        _common.state_invariants(initial_state),
        tf.TensorShape([None, None]),
        tf.TensorShape([None]),
        tf.TensorShape([None]),
        tf.TensorShape([None]),
    )
    _, _, _, ids, lengths, scores, _ = tf.while_loop(
        cond,
        body,
        loop_vars,
        shape_invariants=invariants,
        maximum_iterations=max_length,
    )
    return {
        "ids": _common.trim_to_longest(ids, lengths),
        "lengths": lengths,
        "scores": scores,
    }

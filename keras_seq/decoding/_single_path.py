"""Private loop shared by greedy search and sampling: one hypothesis per row."""

import tensorflow as tf

from keras_seq.constants import PAD
from keras_seq.decoding import _common, _rules
from keras_seq.decoding.controls import get_controls


def decode_single_path(
    step_fn, initial_state, batch_size, max_length, bos_id, eos_id, choose,
    controls=None, source_mask=None, target_prefix=None,
):
    """Run `step_fn` in one `tf.while_loop`, picking tokens with `choose`.

    Args:
        step_fn: callable. `step_fn(ids_t, state) -> (logits, new_state)`.
        initial_state: nest of tensors with leading dimension `batch_size`.
        batch_size: positive int or scalar int tensor.
        max_length: positive int or scalar int tensor.
        bos_id: int. Token fed at the first step.
        eos_id: int. Token that ends a row (not written to `ids`).
        choose: callable. `choose(log_probs, t) -> ids`, with float32
            log-probabilities (N, V) (NEG_INF where a control forbids a
            token), the int32 step `t`, and int32 ids (N,).
        controls: a `keras_seq.decoding.Controls` or None.
        source_mask: bool or int (B, S) or None: which source positions
            hold tokens; for a per-row length bound and attention outputs.
        target_prefix: int (B, P) or None; PAD-padded forced first tokens.

    Returns:
        Dict with `ids` (B, T) int32, `lengths` (B,) int32 and `scores`
        (B,) float32 (and `token_scores` (B, T) when the controls ask), as
        documented by `greedy_search`.
    """
    _common.check_step_fn(step_fn)
    batch_size = _common.check_size("batch_size", batch_size)
    max_length = _common.check_size("max_length", max_length)
    bos_id = _common.check_token_id("bos_id", bos_id)
    eos_id = _common.check_token_id("eos_id", eos_id)
    controls = get_controls(controls)
    if controls.coverage_penalty:
        raise ValueError(
            "Invalid value for argument `coverage_penalty`. It ranks hypotheses in "
            "beam search; greedy search and sampling take 0. Received: "
            f"coverage_penalty={controls.coverage_penalty}")
    rows = _rules.RowInputs(controls, source_mask, target_prefix)
    initial_state = tf.nest.map_structure(tf.convert_to_tensor, initial_state)

    ids = tf.fill(tf.stack([batch_size, max_length]), PAD)  # (B, L)
    lengths = tf.zeros(tf.reshape(batch_size, [1]), tf.int32)  # (B,)
    scores = tf.zeros(tf.reshape(batch_size, [1]), tf.float32)  # (B,)
    finished = tf.zeros(tf.reshape(batch_size, [1]), tf.bool)  # (B,)
    ids_t = tf.fill(tf.reshape(batch_size, [1]), tf.constant(bos_id, tf.int32))
    # Buffers only the controls ask for: none, no extra loop variable (at
    # batch 1 each loop variable's per-step bookkeeping shows in TF's time).
    extra = _rules.output_buffers(batch_size, max_length, rows.mask, controls)

    def cond(t, ids_t, state, ids, lengths, scores, finished, extra):
        return tf.logical_not(tf.reduce_all(finished))

    def body(t, ids_t, state, ids, lengths, scores, finished, extra):
        logits, state, attention = _rules.split_step(step_fn, ids_t, state, controls)
        log_probs = _rules.step_log_probs(logits, t, ids, eos_id, controls, rows)
        next_ids = tf.cast(choose(log_probs, t), tf.int32)  # (B,)
        token_log_probs = _common.pick(log_probs, next_ids)
        # A finished row keeps its score; the EOS log-prob itself counts.
        scores = scores + tf.where(
            finished, tf.zeros_like(token_log_probs), token_log_probs
        )
        ends = tf.logical_or(finished, tf.equal(next_ids, eos_id))
        ids = _common.write_column(
            ids, t, tf.where(ends, PAD, next_ids)
        )
        extra = dict(extra)
        if controls.return_token_scores:
            extra["token_scores"] = _common.write_column(
                extra["token_scores"], t, tf.where(ends, 0.0, token_log_probs))
        if controls.return_attention:
            extra["attention"] = _rules.write_step(
                extra["attention"], t, tf.where(ends[:, None], 0.0, attention))
        lengths = lengths + tf.cast(tf.logical_not(ends), tf.int32)
        # Finished rows keep being fed EOS; their outputs are ignored.
        eos = tf.fill(tf.shape(next_ids), eos_id)
        ids_t = tf.where(finished, eos, next_ids)
        return t + 1, ids_t, state, ids, lengths, scores, ends, extra

    loop_vars = (
        tf.constant(0, tf.int32),
        ids_t,
        initial_state,
        ids,
        lengths,
        scores,
        finished,
        extra,
    )
    invariants = (
        tf.TensorShape([]),
        tf.TensorShape([None]),
        _common.state_invariants(initial_state),
        tf.TensorShape([None, None]),
        tf.TensorShape([None]),
        tf.TensorShape([None]),
        tf.TensorShape([None]),
        _rules.free_shapes(extra),
    )
    _, _, _, ids, lengths, scores, _, extra = tf.while_loop(
        cond,
        body,
        loop_vars,
        shape_invariants=invariants,
        maximum_iterations=max_length,
    )
    out = {
        "ids": _common.trim_to_longest(ids, lengths),
        "lengths": lengths,
        "scores": scores,
    }
    if controls.return_token_scores:
        out["token_scores"] = _common.trim_to_longest(extra["token_scores"], lengths)
    if controls.return_attention:
        out["attention"] = _rules.trim_steps(extra["attention"], lengths)
    return out

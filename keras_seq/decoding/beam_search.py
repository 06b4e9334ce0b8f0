"""Beam search with a GNMT length penalty and n-best output."""

import tensorflow as tf

from keras_seq.arguments import check_int, check_number
from keras_seq.constants import BOS, EOS, PAD
from keras_seq.decoding import _common, _rules
from keras_seq.decoding.controls import get_controls
from keras_seq.decoding.reorder_state import reorder_state
from keras_seq.decoding.tile_beams import tile_beams


def check_beam_search_arguments(beam_size, length_penalty, num_return):
    """Raise one `ValueError` naming the first bad argument of `beam_search`.

    Plain Python checks, so callers (`Seq2Seq.generate`) can run them before
    tracing.
    """
    beam_size = check_int("beam_size", beam_size)
    check_number("length_penalty", length_penalty, minimum=0)
    check_int("num_return", num_return, 1, beam_size, note="at most `beam_size`")


def _penalize(log_prob_sums, lengths, alpha):
    """GNMT: `log_prob_sums / ((5 + lengths) / 6) ** alpha`."""
    if alpha == 0:
        return log_prob_sums
    lengths = tf.cast(lengths, tf.float32)
    return log_prob_sums / tf.pow((5.0 + lengths) / 6.0, alpha)


def beam_search(
    step_fn,
    initial_state,
    batch_size,
    max_length,
    beam_size=4,
    length_penalty=0.0,
    num_return=1,
    bos_id=BOS,
    eos_id=EOS,
    controls=None,
    source_mask=None,
    target_prefix=None,
):
    """Decode with beam search, keeping the `beam_size` best hypotheses.

    Every batch item keeps `K = beam_size` hypotheses, laid out as `B * K`
    rows (row `b * K + k` is beam `k` of item `b`). `initial_state` is tiled
    to that layout here; tensors that `step_fn` closes over (e.g. an encoder
    output) must be tiled the same way by the caller with
    `keras_seq.decoding.tile_beams`. After each step the state is reordered
    (`keras_seq.decoding.reorder_state`) so that each row follows its
    hypothesis. At the first step only beam 0 of each item is live, so the
    `K` hypotheses are distinct.

    A hypothesis that emits EOS is finished: it keeps its score, is no longer
    extended, and stays in the beam while it ranks among the `K` best
    candidates. The search ends when every beam of every item is finished or
    after `max_length` steps; hypotheses still unfinished then are valid
    results. Hypotheses are ranked by their GNMT length-penalised score
    `log_prob_sum / ((5 + length) / 6) ** length_penalty`, where `length`
    counts the generated tokens *including* EOS (a hypothesis cut at
    `max_length` has length `max_length`). `length_penalty=0` ranks by the
    plain sum of log-probabilities, and `beam_size=1` gives exactly
    `keras_seq.decoding.greedy_search`.

    The loop is one `tf.while_loop` over preallocated buffers with TOPK_V2,
    GATHER and elementwise selects, so it converts to TFLite builtins.

    Args:
        step_fn: callable. `step_fn(ids_t, state) -> (logits, new_state)`,
            called with `N = B * K` rows: `ids_t` int32 `(N,)`, `logits`
            float `(N, V)` (cast to float32 here), `state` a nest of tensors
            with leading dimension `N`. Needs `V >= K` for distinct beams.
        initial_state: nest of tensors with leading dimension `B`.
        batch_size: int or scalar int tensor. `B`.
        max_length: int or scalar int tensor. Maximum number of steps,
            counting the step that produces EOS.
        beam_size: int. `K`. Defaults to `4`.
        length_penalty: float. GNMT `alpha`, `>= 0`. Defaults to `0.0`.
        num_return: int. How many hypotheses to return per item, between 1
            and `beam_size`. Defaults to `1`.
        bos_id: int. Token fed at the first step. Defaults to
            `keras_seq.BOS`.
        eos_id: int. Token that ends a hypothesis. Defaults to
            `keras_seq.EOS`.
        controls: a `keras_seq.decoding.Controls` or None (see
            `greedy_search`); they apply to every hypothesis, and rank it
            with the log-probabilities they leave.
        source_mask: `(B, S)` or None (see `greedy_search`).
        target_prefix: int `(B, P)` or None: every hypothesis of item b
            starts with its prefix (see `greedy_search`).

    Returns:
        Dict with `"ids"` int32 `(B, T)` (tokens without EOS, PAD after the
        end, `T` the longest returned length), `"lengths"` int32 `(B,)`
        (tokens before EOS) and `"scores"` float32 `(B,)` (length-penalised
        score, plus the coverage penalty when set) for the best hypothesis,
        and `"token_scores"` float32 `(B, T)` (each token's log-probability,
        not length-penalised) and `"attention"` float32 `(B, T, S)` when the
        controls ask. With `num_return > 1` each gains a leading n-best
        axis, best first: `(num_return, B, T)`, `(num_return, B)` and
        `(num_return, B)`.

    Example:

    >>> import tensorflow as tf
    >>> def step_fn(ids_t, state):
    ...     logits = tf.math.log([[0.1, 0.1, 0.1, 0.3, 0.4]])
    ...     return tf.tile(logits, [tf.shape(ids_t)[0], 1]), state
    >>> out = keras_seq.decoding.beam_search(
    ...     step_fn, (), batch_size=1, max_length=3, beam_size=2,
    ...     num_return=2)
    >>> # (R, B, T): EOS at once (0.3), then [4, 4, 4] cut at max_length.
    >>> out["ids"].numpy().tolist()
    [[[0, 0, 0]], [[4, 4, 4]]]
    >>> out["lengths"].numpy().tolist()
    [[0], [3]]

    References:
        - [Wu et al., 2016](https://arxiv.org/abs/1609.08144) (GNMT length
          penalty).
    """
    check_beam_search_arguments(beam_size, length_penalty, num_return)
    _common.check_step_fn(step_fn)
    batch_size = _common.check_size("batch_size", batch_size)
    max_length = _common.check_size("max_length", max_length)
    bos_id = _common.check_token_id("bos_id", bos_id)
    eos_id = _common.check_token_id("eos_id", eos_id)
    controls = get_controls(controls)
    alpha = float(length_penalty)
    k = int(beam_size)
    n = batch_size * k
    rows = _rules.RowInputs(controls, source_mask, target_prefix, rows=k)

    state = tile_beams(
        tf.nest.map_structure(tf.convert_to_tensor, initial_state), k
    )
    ids = tf.fill(tf.stack([n, max_length]), PAD)  # (N, L)
    lengths = tf.zeros(tf.reshape(n, [1]), tf.int32)  # (N,)
    finished = tf.zeros(tf.reshape(n, [1]), tf.bool)  # (N,)
    # Only beam 0 of each item is live at the first step.
    first_beam = tf.tile(tf.range(k) < 1, tf.reshape(batch_size, [1]))
    sums = tf.where(first_beam, 0.0, _common.NEG_INF)  # (N,)
    ids_t = tf.fill(tf.reshape(n, [1]), tf.constant(bos_id, tf.int32))
    # Buffers only the controls ask for (see `_single_path`).
    extra = _rules.output_buffers(n, max_length, rows.mask, controls)
    beta = controls.coverage_penalty
    if beta:  # the attention each source token received so far (GNMT coverage)
        extra["coverage"] = tf.zeros(tf.shape(rows.mask), tf.float32)

    def cond(t, ids_t, state, ids, lengths, sums, finished, extra):
        return tf.logical_not(tf.reduce_all(finished))

    def body(t, ids_t, state, ids, lengths, sums, finished, extra):
        extra = dict(extra)
        logits, state, attention = _rules.split_step(step_fn, ids_t, state, controls)
        log_probs = _rules.step_log_probs(logits, t, ids, eos_id, controls, rows)  # (N, V)
        vocab_size = tf.shape(log_probs)[-1]
        # A finished hypothesis has one continuation, EOS at no cost, so it
        # competes with its unchanged score.
        columns = tf.range(vocab_size, dtype=tf.int32)
        eos_only = tf.where(columns == eos_id, 0.0, _common.NEG_INF)  # (V,)
        log_probs = tf.where(finished[:, None], eos_only[None, :], log_probs)
        candidate_sums = sums[:, None] + log_probs  # (N, V)
        candidate_lengths = tf.where(finished, lengths + 1, t + 1)  # (N,)
        candidate_scores = _penalize(
            candidate_sums, candidate_lengths[:, None], alpha
        )
        if beta:  # the same for every continuation of a hypothesis
            coverage = extra["coverage"] + tf.where(finished[:, None], 0.0, attention)  # (N, S)
            candidate_scores += _rules.coverage_penalty(coverage, rows.mask, beta)[:, None]

        # Best K candidates among the K * V continuations of each item.
        flat_scores = tf.reshape(candidate_scores, [-1, k * vocab_size])
        _, top = tf.math.top_k(flat_scores, k=k)  # (B, K)
        parents = top // vocab_size + tf.range(tf.shape(top)[0])[:, None] * k
        parents = tf.reshape(parents, [-1])  # (N,)
        tokens = tf.reshape(top % vocab_size, [-1])  # (N,)

        flat_sums = tf.reshape(candidate_sums, [-1])  # (N * V,)
        chosen = parents * vocab_size + tokens
        sums = tf.gather(flat_sums, chosen)
        was_finished = tf.gather(finished, parents)
        ends = tf.logical_or(was_finished, tf.equal(tokens, eos_id))
        ids = _common.write_column(
            tf.gather(ids, parents), t, tf.where(ends, PAD, tokens)
        )
        if controls.return_token_scores:
            token_log_probs = tf.gather(tf.reshape(log_probs, [-1]), chosen)
            extra["token_scores"] = _common.write_column(
                tf.gather(extra["token_scores"], parents), t,
                tf.where(ends, 0.0, token_log_probs))
        if controls.return_attention:
            extra["attention"] = _rules.write_step(
                tf.gather(extra["attention"], parents), t,
                tf.where(ends[:, None], 0.0, tf.gather(attention, parents)))
        if beta:
            extra["coverage"] = tf.gather(coverage, parents)
        lengths = tf.gather(lengths, parents) + tf.cast(
            tf.logical_not(ends), tf.int32
        )
        state = reorder_state(state, parents)
        return t + 1, tokens, state, ids, lengths, sums, ends, extra

    loop_vars = (tf.constant(0), ids_t, state, ids, lengths, sums, finished, extra)
    invariants = (
        tf.TensorShape([]),
        tf.TensorShape([None]),
        _common.state_invariants(state),
        tf.TensorShape([None, None]),
        tf.TensorShape([None]),
        tf.TensorShape([None]),
        tf.TensorShape([None]),
        _rules.free_shapes(extra),
    )
    _, _, _, ids, lengths, sums, finished, extra = tf.while_loop(
        cond,
        body,
        loop_vars,
        shape_invariants=invariants,
        maximum_iterations=max_length,
    )

    # Beams are kept sorted best first by `top_k`, and the final score of
    # each is the score it was ranked with at its last step.
    scores = _penalize(sums, lengths + tf.cast(finished, tf.int32), alpha)
    if beta:
        scores += _rules.coverage_penalty(extra["coverage"], rows.mask, beta)
    ids = tf.reshape(ids, tf.stack([batch_size, k, max_length]))
    ids = tf.transpose(ids[:, :num_return], [1, 0, 2])  # (R, B, L)
    lengths = tf.transpose(tf.reshape(lengths, [-1, k])[:, :num_return])
    scores = tf.transpose(tf.reshape(scores, [-1, k])[:, :num_return])
    out = {"ids": _common.trim_to_longest(ids, lengths), "lengths": lengths,
           "scores": scores}
    if controls.return_token_scores:
        token_scores = tf.reshape(extra["token_scores"], tf.stack([batch_size, k, max_length]))
        token_scores = tf.transpose(token_scores[:, :num_return], [1, 0, 2])
        out["token_scores"] = _common.trim_to_longest(token_scores, lengths)
    if controls.return_attention:
        width = tf.shape(extra["attention"])[-1]
        alignments = tf.reshape(extra["attention"], tf.stack([batch_size, k, max_length, width]))
        alignments = tf.transpose(alignments[:, :num_return], [1, 0, 2, 3])
        out["attention"] = _rules.trim_steps(alignments, lengths)
    if num_return == 1:
        return {name: value[0] for name, value in out.items()}
    return out

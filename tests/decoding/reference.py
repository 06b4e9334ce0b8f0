"""NumPy references of the decoding loops with controls, one item at a time.

They call the same TF step functions as the loops under test, but choose,
score and apply every control in float64 NumPy, written from the
documented rules rather than from the loops' code.
"""

import numpy as np
import tensorflow as tf

from keras_seq.constants import BOS, EOS, PAD

NEG = -1e9


def log_softmax(x):
    x = np.asarray(x, np.float64)
    x = x - x.max()
    return x - np.log(np.exp(x).sum())


def control_values(logits, history, controls, cap=None, prefix=()):
    """The log-probs a search may choose from after `history` (a list)."""
    logits = np.asarray(logits, np.float64).copy()
    t = len(history)
    p = controls.repetition_penalty
    # A PAD the model emits reads as the buffers' padding: not penalised.
    for token in set(history) - {PAD}:
        if p != 1:
            logits[token] = logits[token] / p if logits[token] > 0 else logits[token] * p
    lp = log_softmax(logits)
    banned = np.zeros(len(lp), bool)
    if t < controls.min_length:
        banned[EOS] = True
    n = controls.no_repeat_ngram_size
    if n:
        tail = history[t - n + 1:] if n > 1 else []
        for j in range(t - n + 1):
            if history[j:j + n - 1] == tail:
                banned[history[j + n - 1]] = True
    values = np.where(banned, NEG, lp)
    if banned.all():
        values[EOS] = lp[EOS]
    if cap is not None and t >= cap:
        values = np.full_like(lp, NEG)
        values[EOS] = lp[EOS]
    if t < len(prefix):
        values = np.full_like(lp, NEG)
        values[prefix[t]] = lp[prefix[t]]
    return values


def coverage_term(coverage, mask, beta):
    """GNMT's coverage penalty of one hypothesis (0 when beta is 0)."""
    if not beta:
        return 0.0
    clipped = np.clip(coverage, 1e-10, 1.0)
    return beta * float(np.sum(np.log(clipped)[np.asarray(mask, bool)]))


def _split(out):
    return (out[0], out[1], None) if len(out) == 2 else out


def np_greedy(step_fn, state, max_length, controls, cap=None, prefix=()):
    """One item: (tokens, score, token scores, attention rows)."""
    token, tokens, score, token_scores, attention = BOS, [], 0.0, [], []
    for _ in range(max_length):
        logits, state, weights = _split(step_fn(tf.constant([token], tf.int32), state))
        values = control_values(logits[0], tokens, controls, cap, prefix)
        token = int(np.argmax(values))
        score += values[token]
        if token == EOS:
            break
        tokens.append(token)
        token_scores.append(values[token])
        if weights is not None:
            attention.append(np.asarray(weights[0]))
    return tokens, score, token_scores, attention


def np_beam(step_fn, state, max_length, k, controls, alpha=0.0, cap=None, prefix=(),
            mask=None):
    """One item, K slots as the loop keeps them; returns hypotheses best first.

    Each hypothesis is (tokens, sum of log-probs, final score, finished,
    attention rows); the final score adds the coverage penalty when set.
    """
    beta = controls.coverage_penalty
    state = tf.nest.map_structure(lambda x: tf.repeat(x, k, axis=0), state)
    width = 0 if mask is None else len(mask)
    # (tokens, total, finished, coverage, attention rows)
    hyps = [([], 0.0 if i == 0 else NEG, False, np.zeros(width), []) for i in range(k)]
    fed = [BOS] * k

    def penalised(total, length):
        return total / ((5.0 + length) / 6.0) ** alpha if alpha else total

    for t in range(max_length):
        if all(h[2] for h in hyps):
            break
        logits, state, weights = _split(step_fn(tf.constant(fed, tf.int32), state))
        candidates = []
        for i, (tokens, total, done, coverage, _) in enumerate(hyps):
            if done:
                bonus = coverage_term(coverage, mask, beta)
                candidates.append((penalised(total, len(tokens) + 1) + bonus, i, EOS, total,
                                   coverage))
                continue
            grown = coverage + (np.asarray(weights[i]) if beta else 0.0)
            bonus = coverage_term(grown, mask, beta)
            values = control_values(logits[i], tokens, controls, cap, prefix)
            for v, value in enumerate(values):
                candidates.append((penalised(total + value, t + 1) + bonus, i, v,
                                   total + value, grown))
        # Best first; ties keep the lower (slot, token) index, as TOPK does.
        vocab = logits.shape[-1]
        candidates.sort(key=lambda c: (-c[0], c[1] * vocab + c[2]))
        new_hyps, parents, fed = [], [], []
        for _, i, v, total, coverage in candidates[:k]:
            tokens, _, done, _, rows = hyps[i]
            ends = done or v == EOS
            if not ends and weights is not None:
                rows = rows + [np.asarray(weights[i])]
            new_hyps.append((tokens if ends else tokens + [v], total, ends, coverage, rows))
            parents.append(i)
            fed.append(v)
        hyps = new_hyps
        state = tf.nest.map_structure(lambda x: tf.gather(x, parents), state)
    return [
        (tokens, total,
         penalised(total, len(tokens) + int(done)) + coverage_term(coverage, mask, beta),
         done, rows)
        for tokens, total, done, coverage, rows in hyps
    ]

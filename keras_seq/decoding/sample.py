"""Ancestral sampling with temperature, top-k and nucleus (top-p) filtering."""

import tensorflow as tf

from keras_seq.arguments import check_int, check_number, invalid, is_int
from keras_seq.constants import BOS, EOS
from keras_seq.decoding import _common
from keras_seq.decoding import _single_path


def check_sample_arguments(temperature, top_k, top_p, seed):
    """The arguments of `sample` as Python numbers; one `ValueError` naming
    the first bad one (plain Python checks, run before any tracing)."""
    temperature = check_number("temperature", temperature, above=0)
    top_k = check_int("top_k", top_k, 0, note="0 disables top-k")
    top_p = check_number("top_p", top_p, above=0, maximum=1, note="1 disables nucleus filtering")
    if seed is not None and not is_int(seed):
        raise invalid("seed", "an integer or None", seed)
    return temperature, top_k, top_p, None if seed is None else int(seed)


def _filter_top_k(logits, top_k):
    """Keep the `top_k` largest logits of each row (ties at the cut stay)."""
    k = tf.minimum(top_k, tf.shape(logits)[-1])
    values, _ = tf.math.top_k(logits, k=k)  # (N, k)
    cutoff = values[:, -1:]
    return tf.where(logits < cutoff, _common.NEG_INF, logits)


def _filter_top_p(logits, top_p):
    """Keep the smallest set of most likely tokens whose mass reaches top_p."""
    values, _ = tf.math.top_k(logits, k=tf.shape(logits)[-1])  # sorted
    probs = tf.nn.softmax(values, axis=-1)
    mass_before = tf.cumsum(probs, axis=-1) - probs  # exclusive cumsum
    # The most likely token is always kept (its mass_before is 0).
    kept = tf.where(mass_before < top_p, values, tf.reduce_max(values))
    cutoff = tf.reduce_min(kept, axis=-1, keepdims=True)
    return tf.where(logits < cutoff, _common.NEG_INF, logits)


def sample(
    step_fn,
    initial_state,
    batch_size,
    max_length,
    temperature=1.0,
    top_k=0,
    top_p=1.0,
    seed=None,
    bos_id=BOS,
    eos_id=EOS,
    controls=None,
    source_mask=None,
    target_prefix=None,
):
    """Decode by sampling each token from the (filtered) model distribution.

    At each step the logits are divided by `temperature`, cut to the `top_k`
    most likely tokens, then to the nucleus: the smallest set of most likely
    tokens whose probability reaches `top_p` (the most likely token is always
    kept; tokens tied at a cut are kept together). The next token is drawn
    from what remains. With an integer `seed` the draw is a stateless random
    op keyed by `(seed, step)`, so a given seed gives the same samples on
    every call; with `seed=None` it is a stateful op that gives fresh samples
    on every call. `top_k=1` gives exactly `keras_seq.decoding.greedy_search`.

    Export: with `seed=None` the loop converts to TFLite builtins (the draw
    is MULTINOMIAL). A seeded draw (StatelessMultinomial) is a core TF op, so
    it runs in a SavedModel and TF Serving, but TFLite needs Flex for it.

    `scores` are the summed log-probabilities of the sampled tokens under the
    model's distribution before temperature and filtering (log-softmax of the
    raw logits, or of the penalised ones with a `repetition_penalty`), so
    they compare with greedy and beam scores.

    Rows stop at their own EOS and the loop ends when every row has finished
    or after `max_length` steps, as in `greedy_search`.

    Args:
        step_fn: callable. `step_fn(ids_t, state) -> (logits, new_state)`,
            see `greedy_search`.
        initial_state: nest of tensors with leading dimension `B`.
        batch_size: int or scalar int tensor. `B`.
        max_length: int or scalar int tensor. Maximum number of steps.
        temperature: float. Positive; below 1 sharpens, above 1 flattens the
            distribution. Defaults to `1.0`.
        top_k: int. Number of most likely tokens to sample from; `0` disables
            the cut. Defaults to `0`.
        top_p: float. Nucleus probability mass in `(0, 1]`; `1.0` disables
            the cut. Defaults to `1.0`.
        seed: int or None. Seed of the stateless sampler for reproducible
            samples. Defaults to `None` (fresh randomness on every call).
        bos_id: int. Token fed at the first step. Defaults to
            `keras_seq.BOS`.
        eos_id: int. Token that ends a row. Defaults to `keras_seq.EOS`.
        controls: a `keras_seq.decoding.Controls` or None, applied before
            the temperature and the filters (see `greedy_search`).
        source_mask: `(B, S)` or None (see `greedy_search`).
        target_prefix: int `(B, P)` or None (see `greedy_search`).

    Returns:
        Dict with `"ids"` int32 `(B, T)`, `"lengths"` int32 `(B,)` and
        `"scores"` float32 `(B,)` (and `"token_scores"` when the controls
        ask), as for `greedy_search`.

    Example:

    >>> import tensorflow as tf
    >>> def step_fn(ids_t, state):
    ...     logits = tf.math.log([[0.05, 0.05, 0.05, 0.05, 0.8]])
    ...     return tf.tile(logits, [tf.shape(ids_t)[0], 1]), state
    >>> out = keras_seq.decoding.sample(
    ...     step_fn, (), batch_size=2, max_length=4, top_k=1, seed=0)
    >>> out["ids"].numpy().tolist()
    [[4, 4, 4, 4], [4, 4, 4, 4]]

    References:
        - [Fan et al., 2018](https://arxiv.org/abs/1805.04833) (top-k).
        - [Holtzman et al., 2020](https://arxiv.org/abs/1904.09751)
          (nucleus sampling).
    """
    temperature, top_k, top_p, seed = check_sample_arguments(temperature, top_k, top_p, seed)

    def choose(logits, t):  # log-probabilities: the same up to a shift
        # Shifted so the best logit is 0 and the others negative: any
        # positive temperature then gives logits in [-inf, 0], never NaN (a
        # tiny temperature, even one that is 0 in float32, gives -inf, i.e.
        # greedy; 0 / 0 at the best logit is kept as 0).
        shifted = logits - tf.reduce_max(logits, axis=-1, keepdims=True)
        logits = tf.where(shifted < 0, shifted / float(temperature), tf.zeros_like(shifted))
        if top_k > 0:
            logits = _filter_top_k(logits, int(top_k))
        if top_p < 1:
            logits = _filter_top_p(logits, float(top_p))
        if seed is None:
            # Stateful op: fresh draws on every call; converts to the TFLite
            # builtin MULTINOMIAL.
            draws = tf.random.categorical(logits, 1, dtype=tf.int32)
        else:
            # Stateless op keyed by (seed, step): reproducible in TF, but
            # not a TFLite builtin (StatelessMultinomial needs Flex).
            step_seed = tf.stack([tf.constant(int(seed) % 2**31), t])
            draws = tf.random.stateless_categorical(
                logits, 1, seed=step_seed, dtype=tf.int32
            )
        return draws[:, 0]  # (N,)

    return _single_path.decode_single_path(
        step_fn, initial_state, batch_size, max_length, bos_id, eos_id, choose,
        controls=controls, source_mask=source_mask, target_prefix=target_prefix,
    )

"""The decoding controls as one value, next to the strategy."""

import keras

from keras_seq.arguments import (
    check_bool,
    check_int,
    check_min_length,
    check_number,
    format_set,
)
from keras_seq.decoding._value import ConfigValue


@keras.saving.register_keras_serializable(package="keras_seq")
class Controls(ConfigValue):
    """Constraints on what a search may emit, and what it returns.

    One value, checked once, that every loop (`greedy_search`,
    `beam_search`, `sample`) applies at each step, in this order:

    1. `repetition_penalty` rescales the logits of tokens already in the
       hypothesis (CTranslate2's and Hugging Face's rule: a logit is
       divided by the penalty when positive, multiplied when negative),
       before the log-softmax;
    2. `min_length` and `no_repeat_ngram_size` forbid tokens (their
       log-probability becomes a large negative number; the others are not
       renormalised);
    3. the per-row bound `max_length_a * S + max_length_b` forces EOS once
       a hypothesis has that many tokens (fairseq's `max_len_a/b`; `S` is
       the row's source length, its count of non-PAD ids);
    4. a target prefix, given at call time, forces its tokens first.

    Later rules win over earlier ones. A row left with no allowed token
    ends (EOS). Scores are sums of the log-probabilities the search chose
    with: the model's own unless `repetition_penalty` is set.

    Args:
        min_length: int >= 0. No output ends before this many tokens
            (CTranslate2's `min_decoding_length`). Defaults to `0`.
        max_length_a: float >= 0. With `max_length_b`, the most tokens of a
            row: `floor(a * S + b)`. Defaults to `0.0`.
        max_length_b: int >= 0 or None. `None` (and `a == 0`) sets no
            per-row bound; the fixed `max_length` cap always holds.
            Defaults to `None`.
        no_repeat_ngram_size: int >= 0. No n-gram of this size occurs twice
            in an output (prefix included); `0` disables it. Defaults to
            `0`.
        repetition_penalty: float > 0. `1` disables it; above 1 discourages
            repeating a token. Defaults to `1.0`.
        coverage_penalty: float >= 0. GNMT's beta (beam search only):
            hypotheses are ranked by their length-penalised score plus
            `beta * sum_i log(min(c_i, 1))`, `c_i` the attention the source
            token i received so far, so outputs that leave the source
            unattended rank lower. Needs a decoder with attention. `0`
            disables it. Defaults to `0.0`.
        return_token_scores: bool. Also return `token_scores` `(B, T)`:
            the log-probability of each emitted token (EOS excluded, 0 after
            the end). Defaults to `False`.
        return_attention: bool. Also return `attention` `(B, T, S)`: for
            each emitted token, the decoder's attention over the source
            (reordered with the hypothesis through beam search). Needs a
            decoder with attention. Defaults to `False`.

    Example:
    >>> keras_seq.decoding.Controls(min_length=2, no_repeat_ngram_size=3)
    Controls(min_length=2, no_repeat_ngram_size=3)
    """

    def __init__(
        self,
        min_length=0,
        max_length_a=0.0,
        max_length_b=None,
        no_repeat_ngram_size=0,
        repetition_penalty=1.0,
        coverage_penalty=0.0,
        return_token_scores=False,
        return_attention=False,
    ):
        self.min_length = check_min_length(min_length)
        self.max_length_a = check_number("max_length_a", max_length_a, minimum=0)
        self.max_length_b = check_int("max_length_b", max_length_b, 0, allow_none=True)
        self.no_repeat_ngram_size = check_int(
            "no_repeat_ngram_size", no_repeat_ngram_size, 0, note="0 disables it")
        self.repetition_penalty = check_number(
            "repetition_penalty", repetition_penalty, above=0, note="1 disables it")
        self.coverage_penalty = check_number(
            "coverage_penalty", coverage_penalty, minimum=0, note="0 disables it")
        self.return_token_scores = check_bool("return_token_scores", return_token_scores)
        self.return_attention = check_bool("return_attention", return_attention)

    @classmethod
    def from_kwargs(cls, kwargs):
        """`Controls(**kwargs)`, refusing an unknown name in one line."""
        names = cls().get_config()
        for name in kwargs:
            if name not in names:
                raise ValueError(
                    f"Unknown keyword argument `{name}`. Expected a decoding control "
                    f"among {format_set(names)}.")
        return cls(**kwargs)

    @property
    def bounds_rows(self):
        """Whether a per-row bound `a * S + b` applies (needs source lengths)."""
        return self.max_length_a > 0 or self.max_length_b is not None

    @property
    def uses_attention(self):
        """Whether the search needs the step's attention weights."""
        return self.return_attention or self.coverage_penalty > 0

    def get_config(self):
        return {
            "min_length": self.min_length,
            "max_length_a": self.max_length_a,
            "max_length_b": self.max_length_b,
            "no_repeat_ngram_size": self.no_repeat_ngram_size,
            "repetition_penalty": self.repetition_penalty,
            "coverage_penalty": self.coverage_penalty,
            "return_token_scores": self.return_token_scores,
            "return_attention": self.return_attention,
        }

    def __repr__(self):  # only the settings that differ from the defaults
        defaults = Controls().get_config()
        changed = [f"{k}={v!r}" for k, v in self.get_config().items() if v != defaults[k]]
        return f"Controls({', '.join(changed)})"


def get_controls(controls):
    """`controls` as a `Controls`: None gives the defaults (no constraint)."""
    if controls is None:
        return Controls()
    if isinstance(controls, Controls):
        return controls
    raise ValueError(
        "Invalid value for argument `controls`. Expected a "
        f"keras_seq.decoding.Controls or None. Received: controls={controls!r:.80}")

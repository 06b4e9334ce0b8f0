"""Beam search as a value."""

import keras

from keras_seq.arguments import check_int, check_number
from keras_seq.decoding.beam_search import beam_search
from keras_seq.decoding.strategies.strategy import Strategy


@keras.saving.register_keras_serializable(package="keras_seq")
class Beam(Strategy):
    """Beam search with a GNMT length penalty and n-best lists.

    Runs `keras_seq.decoding.beam_search` over `size` hypotheses per source;
    see it for the ranking and the stopping rule. `size=1` gives greedy's
    output. Exports: SavedModel and builtins-only TFLite (`num_return=1`).

    Args:
        size: int. Hypotheses kept per source, K. Defaults to `4`.
        length_penalty: float >= 0. GNMT alpha: scores are divided by
            `((5 + length) / 6) ** alpha`; 0 ranks by the plain sum of
            log-probabilities. Defaults to `0.0`.
        num_return: int in [1, size]. Hypotheses returned per source, best
            first (an n-best list when above 1). Defaults to `1`.

    Example:
    >>> keras_seq.decoding.Beam(size=8, length_penalty=0.6)
    Beam(size=8, length_penalty=0.6, num_return=1)

    References:
        - [Wu et al., 2016](https://arxiv.org/abs/1609.08144) (GNMT length
          penalty).
    """

    name = "beam"

    def __init__(self, size=4, length_penalty=0.0, num_return=1):
        self.size = check_int("size", size)
        self.length_penalty = check_number("length_penalty", length_penalty, minimum=0)
        self.num_return = check_int("num_return", num_return, 1, self.size,
                                    note="at most `size`")

    @property
    def beams(self):
        return self.size

    def search(self, step_fn, initial_state, batch_size, max_length, controls=None,
               source_mask=None, target_prefix=None):
        return beam_search(
            step_fn, initial_state, batch_size, max_length, beam_size=self.size,
            length_penalty=self.length_penalty, num_return=self.num_return,
            controls=controls, source_mask=source_mask,
            target_prefix=target_prefix,
        )

    def get_config(self):
        return {"size": self.size, "length_penalty": self.length_penalty,
                "num_return": self.num_return}

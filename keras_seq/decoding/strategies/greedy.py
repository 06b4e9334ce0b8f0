"""Greedy decoding as a value."""

import keras

from keras_seq.decoding.greedy_search import greedy_search
from keras_seq.decoding.strategies.strategy import Strategy


@keras.saving.register_keras_serializable(package="keras_seq")
class Greedy(Strategy):
    """Take the most likely token at every step (`keras_seq.decoding.greedy_search`).

    Exports: SavedModel and builtins-only TFLite.

    Example:
    >>> model.generate(ids, strategy=keras_seq.decoding.Greedy())  # doctest: +SKIP
    """

    name = "greedy"

    def search(self, step_fn, initial_state, batch_size, max_length, controls=None,
               source_mask=None, target_prefix=None):
        return greedy_search(step_fn, initial_state, batch_size, max_length,
                             controls=controls, source_mask=source_mask,
                             target_prefix=target_prefix)

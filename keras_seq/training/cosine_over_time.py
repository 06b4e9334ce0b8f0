"""A learning-rate schedule on the clock, for runs with a time budget."""

import math
import time

import keras

from keras_seq.arguments import check_number


class CosineOverTime(keras.callbacks.Callback):
    """Set the learning rate from the share of a time budget spent.

    A run limited by wall-clock time (`TimeLimit`) cannot know its number
    of steps in advance, so a step-based schedule cannot end at the budget.
    This one runs on the clock: before each batch the learning rate is

        peak * t / warmup                          while t < warmup,
        peak * max(0.5 * (1 + cos(pi * t)), floor)  after,

    where `t` is the share of `minutes` spent since the callback was made
    (1 past the budget). The learning rate anneals to `floor * peak` exactly
    when `TimeLimit(minutes)` stops training, which gives most of the
    benefit of a tuned decay for free.

    Args:
        peak: positive float. The largest learning rate.
        minutes: positive float. The budget the schedule spans, counted
            from construction (make it next to its `TimeLimit`).
        warmup: float in [0, 1). Share of the budget for the linear warm-up.
            Defaults to `0.02`.
        floor: float in (0, 1]. Smallest learning rate, as a share of
            `peak` (the first batch does not run at 0). Defaults to `1e-3`.

    Example:

    >>> callbacks = [TimeLimit(10), CosineOverTime(3e-3, 10)]
    >>> model.fit(train, epochs=10_000, callbacks=callbacks)  # doctest: +SKIP
    """

    def __init__(self, peak, minutes, warmup=0.02, floor=1e-3):
        super().__init__()
        self.peak = peak = check_number("peak", peak, above=0)
        self.minutes = minutes = check_number("minutes", minutes, above=0)
        self.warmup = warmup = check_number("warmup", warmup, minimum=0, below=1,
                                   note="a share of the budget")
        self.floor = floor = check_number("floor", floor, above=0, maximum=1,
                                  note="a share of the peak")
        self.start = time.monotonic()

    def rate(self, spent):
        """The learning rate when the share `spent` of the budget is gone."""
        spent = min(max(spent, 0.0), 1.0)
        if spent < self.warmup:
            factor = spent / self.warmup
        else:
            factor = 0.5 * (1 + math.cos(math.pi * spent))
        return self.peak * max(factor, self.floor)

    def on_train_batch_begin(self, batch, logs=None):
        spent = (time.monotonic() - self.start) / (60.0 * self.minutes)
        self.model.optimizer.learning_rate.assign(self.rate(spent))

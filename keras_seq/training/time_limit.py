"""Stop `fit` after a wall-clock budget."""

import time

import keras

from keras_seq.arguments import check_number


class TimeLimit(keras.callbacks.Callback):
    """Stop training after `minutes` of wall-clock time (checked per batch).

    The current epoch ends early and `fit` returns normally, so epoch-end
    and train-end callbacks still run.

    Args:
        minutes: positive float. The budget, counted from construction.
    """

    def __init__(self, minutes):
        super().__init__()
        self.minutes = minutes = check_number("minutes", minutes, above=0)
        self.deadline = time.monotonic() + 60.0 * self.minutes

    def expired(self):
        """Whether the budget is spent."""
        return time.monotonic() > self.deadline

    def on_train_batch_end(self, batch, logs=None):
        if self.expired():
            self.model.stop_training = True

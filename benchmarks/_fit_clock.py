"""`FitClock`: training examples/s of one `fit` call, after its first batch.

Used by input_pipeline.py and demo_recipes.py; imports no benchmark script.
"""

import time

import keras


class FitClock(keras.callbacks.Callback):
    """Examples/s from the end of the first batch to the end of the last,
    so that tracing and the pipeline's start are not counted; `rate` is set
    when `fit` ends."""

    def __init__(self, batch_size):
        super().__init__()
        self.batch_size = batch_size

    def on_train_batch_end(self, batch, logs=None):
        if batch == 0:
            self.start, self.batches = time.perf_counter(), 0
        else:
            self.batches += 1

    def on_train_end(self, logs=None):
        self.rate = self.batches * self.batch_size / (time.perf_counter() - self.start)

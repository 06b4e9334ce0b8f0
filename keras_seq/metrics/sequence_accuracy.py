"""Exact-match accuracy over whole sequences, ignoring PAD."""

import keras
from keras import ops

from keras_seq.constants import PAD


@keras.saving.register_keras_serializable(package="keras_seq")
class SequenceAccuracy(keras.metrics.Metric):
    """Fraction of sequences whose every non-PAD token is predicted right.

    Rows without any real token are not counted.

    Args:
        name: str. Defaults to `"sequence_accuracy"`.

    Call arguments (`update_state`):
        y_true: int tensor `(B, T)`, PAD=0.
        y_pred: float logits or probabilities `(B, T, V)`.
        sample_weight: optional `(B,)` weights.

    Example:

    >>> model.compile("adam", loss,
    ...               metrics=[keras_seq.metrics.SequenceAccuracy()])
    """

    def __init__(self, name="sequence_accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.correct = self.add_variable((), initializer="zeros", name="correct")
        self.count = self.add_variable((), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "int32")
        predicted = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
        real = ops.not_equal(y_true, PAD)  # (B, T)
        wrong = ops.logical_and(real, ops.not_equal(predicted, y_true))
        row_ok = ops.logical_not(ops.any(wrong, axis=-1))  # (B,)
        weight = ops.cast(ops.any(real, axis=-1), "float32")
        if sample_weight is not None:
            weight = weight * ops.reshape(ops.cast(sample_weight, "float32"), (-1,))
        self.correct.assign_add(ops.sum(ops.cast(row_ok, "float32") * weight))
        self.count.assign_add(ops.sum(weight))

    def result(self):
        return ops.divide_no_nan(self.correct, self.count)

    def reset_state(self):
        self.correct.assign(0.0)
        self.count.assign(0.0)

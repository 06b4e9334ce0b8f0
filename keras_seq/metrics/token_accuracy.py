"""Accuracy over non-PAD tokens."""

import keras
from keras import ops

from keras_seq.constants import PAD


@keras.saving.register_keras_serializable(package="keras_seq")
class TokenAccuracy(keras.metrics.Metric):
    """Fraction of non-PAD target tokens whose argmax prediction is right.

    Args:
        name: str. Defaults to `"token_accuracy"`.

    Call arguments (`update_state`):
        y_true: int tensor `(B, T)`, PAD=0.
        y_pred: float logits or probabilities `(B, T, V)`.
        sample_weight: optional `(B,)` or `(B, T)` weights.

    Example:

    >>> model.compile("adam", loss, metrics=[keras_seq.metrics.TokenAccuracy()])
    """

    def __init__(self, name="token_accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.correct = self.add_variable((), initializer="zeros", name="correct")
        self.count = self.add_variable((), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "int32")
        predicted = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
        weight = ops.cast(ops.not_equal(y_true, PAD), "float32")  # (B, T)
        if sample_weight is not None:
            sample_weight = ops.cast(sample_weight, "float32")
            if len(sample_weight.shape) == 1:
                sample_weight = ops.expand_dims(sample_weight, -1)
            weight = weight * sample_weight
        hits = ops.cast(ops.equal(predicted, y_true), "float32") * weight
        self.correct.assign_add(ops.sum(hits))
        self.count.assign_add(ops.sum(weight))

    def result(self):
        return ops.divide_no_nan(self.correct, self.count)

    def reset_state(self):
        self.correct.assign(0.0)
        self.count.assign(0.0)

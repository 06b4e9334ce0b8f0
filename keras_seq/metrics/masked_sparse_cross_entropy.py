"""Sparse cross-entropy over tokens that ignores padding."""

import keras
from keras import ops

from keras_seq.arguments import check_number
from keras_seq.constants import PAD


@keras.saving.register_keras_serializable(package="keras_seq")
class MaskedSparseCrossEntropy(keras.losses.Loss):
    """Token-level cross-entropy from logits, averaged over non-PAD tokens.

    Positions whose label is PAD (0) contribute nothing and do not count in
    the average; a batch with no real token gives a loss of 0, not NaN. The
    computation runs in float32 whatever the logits' dtype.

    With `label_smoothing=e` the target distribution puts `1 - e` on the
    label and spreads `e` uniformly over the whole vocabulary.

    Args:
        label_smoothing: float in [0, 1). Defaults to `0.0`.
        name: str. Defaults to `"masked_sparse_cross_entropy"`.

    Call arguments:
        y_true: int tensor `(B, T)` of labels, PAD=0.
        y_pred: float logits `(B, T, V)`.

    Returns:
        The mean loss over real tokens (with Keras' default reduction).

    Example:

    >>> loss = keras_seq.metrics.MaskedSparseCrossEntropy(label_smoothing=0.1)
    >>> model.compile("adam", loss=loss)
    """

    def __init__(
        self,
        label_smoothing=0.0,
        name="masked_sparse_cross_entropy",
        reduction="sum_over_batch_size",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.label_smoothing = label_smoothing = check_number("label_smoothing", label_smoothing, minimum=0, below=1)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "int32")
        loss = token_cross_entropy(y_true, y_pred, self.label_smoothing)
        mask = ops.cast(ops.not_equal(y_true, PAD), "float32")
        # Scale so that Keras' mean over all positions is the mean over real
        # tokens; an all-PAD batch gives 0.
        total = ops.cast(ops.size(mask), "float32")
        valid = ops.maximum(ops.sum(mask), 1.0)
        return loss * mask * (total / valid)

    def get_config(self):
        config = super().get_config()
        config.update({"label_smoothing": self.label_smoothing})
        return config


def token_cross_entropy(y_true, y_pred, label_smoothing=0.0):
    """Per-position cross-entropy from logits, in float32, PAD not masked.

    Args:
        y_true: int tensor `(B, T)` of labels.
        y_pred: float logits `(B, T, V)`.
        label_smoothing: float in [0, 1).

    Returns:
        float32 tensor `(B, T)`.
    """
    y_true = ops.cast(y_true, "int32")
    logits = ops.cast(y_pred, "float32")
    log_probs = ops.log_softmax(logits, axis=-1)  # (B, T, V)
    vocab = ops.shape(logits)[-1]
    safe_labels = ops.clip(y_true, 0, vocab - 1)
    picked = ops.take_along_axis(
        log_probs, ops.expand_dims(safe_labels, -1), axis=-1
    )[..., 0]  # (B, T)
    loss = -picked
    if label_smoothing:
        eps = label_smoothing
        loss = (1.0 - eps) * loss - eps * ops.mean(log_probs, axis=-1)
    return loss

"""Stop `fit` at the first NaN/Inf loss without saving anything after it."""

import math
import os

import keras

from keras_seq.training.non_finite_loss_error import NonFiniteLossError


class TerminateOnNonFinite(keras.callbacks.Callback):
    """Raise `NonFiniteLossError` as soon as a batch loss is NaN or Inf.

    Unlike `keras.callbacks.TerminateOnNaN`, which only sets
    `stop_training` (so `fit` still runs its epoch-end and train-end
    callbacks, which save the broken weights and delete the backup), this
    raises from `on_train_batch_end`: no later callback of that batch or
    epoch runs and `BackupAndRestore` keeps its last backup. Put it first in
    the callback list so it runs before any callback that writes.

    Args:
        backup_dir: str or None. Named in the error message, to tell the
            user where the last good state is kept.

    Example:

    >>> model.fit(data, callbacks=[
    ...     TerminateOnNonFinite("runs/x/backup"),
    ...     SafeBackupAndRestore("runs/x/backup")])
    """

    def __init__(self, backup_dir=None):
        super().__init__()
        self.backup_dir = backup_dir
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        loss = float(loss)
        if not math.isfinite(loss):
            raise NonFiniteLossError(
                non_finite_message(loss, self._epoch, batch, self.backup_dir),
                epoch=self._epoch, step=batch, value=loss,
            )


def non_finite_message(value, epoch, step, backup_dir):
    """The user-facing message: where it happened and what was kept."""
    where = f"epoch {epoch + 1}" + ("" if step is None else f", step {step + 1}")
    if backup_dir and os.path.isdir(backup_dir) and os.listdir(backup_dir):
        kept = (f"; the last good backup is kept in {backup_dir} and the run "
                "resumes from it when started again")
    elif backup_dir:
        kept = "; no backup had been written yet, so nothing was saved"
    else:
        kept = ""
    return (f"training stopped: the loss became {value} at {where}{kept}. "
            "Lower the learning rate or clip gradients (clipnorm).")

"""Keep the model weights of the last N epochs, for weight averaging."""

import os
import re
import tempfile

import keras
import numpy as np

from keras_seq.arguments import check_int
from keras_seq.atomic import umask
from keras_seq.training.non_finite_loss_error import NonFiniteLossError
from keras_seq.training.terminate_on_non_finite import non_finite_message

# The only names this callback writes, and so the only ones it deletes.
NAME = re.compile(r"^epoch-(\d{4,})\.weights\.h5$")
# Its temporary files (`save_weights` wants the `.weights.h5` suffix).
TEMPORARY = re.compile(r"^\.tmp-epoch-\d{4,}-\w+\.weights\.h5$")


def checkpoint_name(epoch):
    """The file name of epoch `epoch`'s (0-based) checkpoint: `epoch-0007.weights.h5`
    for the 7th epoch, as numbered in `history.csv` and in Keras' progress bar."""
    return f"epoch-{epoch + 1:04d}.weights.h5"


class EpochCheckpoints(keras.callbacks.Callback):
    """Save the model's weights at the end of each epoch; keep the last `keep`.

    Each epoch's weights go to `directory/epoch-0007.weights.h5` (numbered
    from 1, as in the progress bar), written to a temporary file and renamed
    into place, so a process killed at any instant leaves complete files
    only. Then the oldest checkpoints beyond `keep` are deleted: only files
    named exactly like the ones this callback writes, and never one of a
    later epoch than the one just saved (a resumed run that redoes an epoch
    replaces its checkpoint). Anything else in `directory` is left alone.

    The files are Keras' `save_weights` files: `model.load_weights(path)`
    reads them into a built model of the same architecture (they also hold
    the optimizer's state, which a model without optimizer ignores).
    Weights that are NaN or Inf are never saved: `NonFiniteLossError` is
    raised instead. Put this callback before `SafeBackupAndRestore` in the
    list: an epoch whose backup is written then always has its checkpoint.

    Args:
        directory: str. Folder of the checkpoints (created when needed).
        keep: positive int. How many of the latest epochs to keep.

    Example:

    >>> saver = keras_seq.training.EpochCheckpoints("runs/x/checkpoints", keep=5)
    >>> model.fit(train, epochs=20, callbacks=[saver])
    >>> members = []
    >>> for path in saver.checkpoints():  # epochs 16 to 20
    ...     member = keras_seq.models.rnn_seq2seq(30, 40, units=32)
    ...     member.build()
    ...     member.load_weights(path)
    ...     members.append(member)
    >>> averaged = keras_seq.models.average_weights(members)
    """

    def __init__(self, directory, keep):
        super().__init__()
        self.directory = directory
        self.keep = check_int("keep", keep, minimum=1)

    def on_epoch_end(self, epoch, logs=None):
        self._check_finite(epoch)
        os.makedirs(self.directory, exist_ok=True)
        name = checkpoint_name(epoch)
        fd, tmp = tempfile.mkstemp(prefix=f".tmp-{name[:-len('.weights.h5')]}-",
                                   suffix=".weights.h5", dir=self.directory)
        os.close(fd)
        try:
            os.chmod(tmp, 0o666 & ~umask())  # as any saved file, not mkstemp's 0600
            self.model.save_weights(tmp, overwrite=True)
            os.replace(tmp, os.path.join(self.directory, name))
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        self._remove_old(epoch + 1)

    def checkpoints(self):
        """Paths of the checkpoints in `directory`, oldest first."""
        found = []
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return []
        for name in names:
            match = NAME.match(name)
            path = os.path.join(self.directory, name)
            if match and os.path.isfile(path) and not os.path.islink(path):
                found.append((int(match.group(1)), path))
        return [path for _, path in sorted(found)]

    def _remove_old(self, number):
        """Delete the checkpoints older than the `keep` latest up to epoch `number`."""
        older = [path for path in self.checkpoints()
                 if int(NAME.match(os.path.basename(path)).group(1)) <= number]
        for path in older[:-self.keep]:
            os.remove(path)

    def _check_finite(self, epoch):
        for weight in self.model.weights:
            if not np.isfinite(np.asarray(weight.numpy(), dtype="float64")).all():
                raise NonFiniteLossError(
                    non_finite_message(f"non-finite (weight {weight.path})", epoch, None,
                                       None),
                    epoch=epoch, value=float("nan"))

"""`BackupAndRestore` that writes atomically and never backs up NaN weights."""

import json
import os
import shutil

import keras
import numpy as np

from keras_seq.atomic import atomic_write_bytes
from keras_seq.training.non_finite_loss_error import NonFiniteLossError
from keras_seq.training.terminate_on_non_finite import non_finite_message


class SafeBackupAndRestore(keras.callbacks.BackupAndRestore):
    """Keras' `BackupAndRestore` with these guarantees added.

    1. Every backup file is written to a temporary file and renamed into
       place, so a process killed at any instant (SIGKILL, power loss)
       leaves the previous complete backup, never a truncated one.
    2. The random state of layers such as Dropout (seed generators, which
       `save_weights` leaves out) is backed up and restored too, so a
       resumed run draws the same dropout masks as an uninterrupted one.
    3. Before writing, every model weight is checked; if one is NaN or Inf
       the backup is not written and `NonFiniteLossError` is raised, so the
       backup on disk is always the last good state.
    4. A backup taken inside an epoch records how many of its steps were
       done (`steps_done`). Keras alone restarts that epoch from its first
       batch, seeing up to an epoch of batches twice; to take exactly the
       steps an uninterrupted run takes, finish the interrupted epoch on
       the data with those steps skipped, then fit the rest (see the
       example). With shuffled data the skipped batches are the first ones
       of the new process's order unless the data's order is a function of
       the epoch (`keras_seq.data.set_epoch`). A `fit` that starts inside
       an epoch keeps the backup when it ends, for the next.

    Args:
        backup_dir: str. Folder of the backup (created when needed).
        save_freq: `"epoch"` or a positive int (back up every that many
            batches, and at the end of each epoch). Defaults to `"epoch"`.
        delete_checkpoint: bool. Delete the backup when `fit` ends
            normally. Defaults to `True`.

    Example:

    >>> backup = SafeBackupAndRestore("runs/x/backup", save_freq=100)
    >>> epoch, done = backup.resume_position()
    >>> if done:  # finish the interrupted epoch without its done steps
    ...     model.fit(train.skip(done), epochs=epoch + 1, callbacks=[backup])
    >>> model.fit(train, epochs=10, callbacks=[backup])
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True):
        super().__init__(backup_dir, save_freq=save_freq,
                         delete_checkpoint=delete_checkpoint,
                         double_checkpoint=True)
        self._offset = 0  # steps of the current epoch done before a resume
        self._at_epoch_end = False
        self._started_mid_epoch = False

    def resume_position(self):
        """(epoch, steps_done) a `fit` started now resumes at; (0, 0) if fresh."""
        return _position(self._read_state())

    def _seed_states(self):
        weights = {id(w) for w in self.model.weights}
        return [v for v in self.model.variables if id(v) not in weights]

    def _read_state(self):
        """The metadata of the backup a resume uses ({} when there is none)."""
        return self._usable_backup()[1]

    def _usable_backup(self):
        """(weights path, metadata) of the newest complete, readable backup.

        The latest pair is used when both of its files are there and its
        metadata reads; else the previous pair (`.bkp`), which every backup
        keeps. `(None, {})` when there is no backup at all.

        Raises:
            ValueError: naming the folder when backup files exist but no
                pair can be read.
        """
        pairs = ((self._weights_path, self._training_metadata_path),
                 (self._prev_weights_path, self._prev_training_metadata_path))
        for weights, metadata in pairs:
            state = _read_metadata(metadata)
            if state is not None and os.path.exists(weights):
                return weights, state
        if any(os.path.exists(path) for pair in pairs for path in pair):
            raise ValueError(
                f"The training backup in {self.backup_dir} is damaged: neither "
                "its latest files nor their .bkp copies can be read. Move the "
                "folder away to train from scratch.")
        return None, {}

    def _load_model(self):
        # Keras reads the latest metadata only and stops on a corrupt file;
        # load the newest pair that reads, falling back to the .bkp copies.
        weights, state = self._usable_backup()
        if weights is None:
            return
        if weights == self._prev_weights_path:
            self._restore_previous()
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        try:
            self.model.load_weights(self._weights_path)
        except (OSError, ValueError) as e:
            if weights == self._prev_weights_path or _read_metadata(
                    self._prev_training_metadata_path) is None:
                raise ValueError(f"The training backup {self._weights_path} cannot be "
                                 f"read ({e}). Move {self.backup_dir} away to train "
                                 "from scratch.") from None
            self._restore_previous()
            state = _read_metadata(self._training_metadata_path)
            self.model.load_weights(self._weights_path)
        self.model._initial_epoch = _position(state)[0]
        self._restored_state = state

    def _restore_previous(self):
        """Make the .bkp pair the latest again (Keras loads `*.weights.h5` only)."""
        _atomic_copy(self._prev_weights_path, self._weights_path)
        _atomic_copy(self._prev_training_metadata_path, self._training_metadata_path)

    def on_train_begin(self, logs=None):
        self._restored_state = {}
        self._load_model()
        state = self._restored_state
        self._current_epoch, self._offset = _position(state)
        states = state.get("rng")
        generators = self._seed_states()
        if states is not None and len(states) == len(generators):
            for variable, value in zip(generators, states):
                variable.assign(np.asarray(value, dtype=variable.dtype))
        self._started_mid_epoch = self._offset > 0

    def on_train_end(self, logs=None):
        # A fit that finishes an interrupted epoch is the first of two
        # stages: the second resumes from this backup.
        if not self._started_mid_epoch:
            super().on_train_end(logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        self._offset = 0
        self._at_epoch_end = True
        try:
            super().on_epoch_end(epoch, logs)
            if self.save_freq != "epoch":  # step backups end each epoch too
                self._batches_seen_since_last_saving = 0
                self._save_model()
        finally:
            self._at_epoch_end = False

    def _save_model(self):
        for weight in self.model.weights:
            if not np.isfinite(np.asarray(weight.numpy(), dtype="float64")).all():
                raise NonFiniteLossError(
                    non_finite_message(f"non-finite (weight {weight.path})",
                                       self._current_epoch, None, self.backup_dir),
                    epoch=self._current_epoch, value=float("nan"),
                )
        os.makedirs(self.backup_dir, exist_ok=True)
        weights, metadata = self._weights_path, self._training_metadata_path
        if os.path.exists(weights) and os.path.exists(metadata):
            _atomic_copy(weights, self._prev_weights_path)
            _atomic_copy(metadata, self._prev_training_metadata_path)
        tmp = os.path.join(self.backup_dir, ".tmp-latest.weights.h5")
        try:
            self.model.save_weights(tmp, overwrite=True)
            os.replace(tmp, weights)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        done = 0 if self._at_epoch_end else self._offset + self._last_batch_seen + 1
        state = {"epoch": self._current_epoch, "batch": self._last_batch_seen,
                 "steps_done": done,
                 # Dropout's random state, which save_weights leaves out.
                 "rng": [np.asarray(v.numpy()).tolist() for v in self._seed_states()]}
        atomic_write_bytes(metadata, json.dumps(state).encode("utf-8"))


def _read_metadata(path):
    """A backup's metadata dict, or None when missing, corrupt or foreign."""
    try:
        with open(path, encoding="utf-8") as f:
            state = json.load(f)
        _position(state)
    except (OSError, ValueError, TypeError, AttributeError, RecursionError):
        return None
    return state


def _position(state):
    """(epoch, steps_done) of a backup's metadata dict."""
    return int(state.get("epoch", 0)), int(state.get("steps_done", 0))


def _atomic_copy(source, destination):
    tmp = destination + ".tmp"
    shutil.copyfile(source, tmp)
    os.replace(tmp, destination)

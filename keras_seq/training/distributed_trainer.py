"""A training loop that runs under any `tf.distribute` strategy.

Keras 3's `model.fit` fails under `MultiWorkerMirroredStrategy` (it cannot
convert a PerReplica value); this loop runs its step with `strategy.run`
and reduces across replicas itself, so it works under the default
strategy, `MirroredStrategy` (several local devices) and
`MultiWorkerMirroredStrategy` (several processes or machines).
"""

import math
import os
import sys
import time

import numpy as np
import tensorflow as tf

from keras_seq.arguments import check_int, check_number, invalid, is_int
from keras_seq.data.pipelines import set_epoch
from keras_seq.training.backup_file import read_backup, write_backup
from keras_seq.training.global_batch import split_global_batch
from keras_seq.training.non_finite_loss_error import NonFiniteLossError
from keras_seq.training.replica_steps import ReplicaSteps
from keras_seq.training.terminate_on_non_finite import non_finite_message

BACKUP_FILE = "latest.npz"


class DistributedTrainer:
    """Train a seq2seq model with a custom step under a `tf.distribute` strategy.

    Every worker reads the same global batches (build the dataset with the
    same seed everywhere). Each global batch is padded with all-PAD rows to
    a multiple of `strategy.num_replicas_in_sync` and split into equal
    slices, one per replica (replica `r` takes rows `[r*b, (r+1)*b)`).
    The loss is the mean over the real tokens of the whole global batch
    (token counts are summed across replicas before dividing), gradients
    are summed across replicas, then clipped per variable by `clipnorm`, so
    a step equals the single-device step on the same global batch up to
    float rounding. PAD rows contribute no loss and no gradient.

    Backups hold the model and optimizer variables and the position
    (epoch, step) in one `.npz` file written atomically by the chief
    (worker 0) only; on start the chief restores it and all variables are
    broadcast from replica 0, so other workers need no access to the file.
    A resumed run continues at the step after the backup; with a shuffled
    `keras_seq.data.make_dataset` each epoch's order is set from its number
    (`set_epoch`), so the resumed run sees the same batches.

    A NaN or Inf loss raises `NonFiniteLossError` on every worker before
    anything is written. `minutes` stops all workers at the same step.

    Args:
        model: a `keras_seq.models.Seq2Seq` whose variables were created
            under `strategy.scope()` (build it inside the scope).
        optimizer: a Keras optimizer created under the same scope, without
            `clipnorm` (use this class's `clipnorm`).
        strategy: a `tf.distribute.Strategy` or None for the current one.
        clipnorm: float or None. Clip each gradient to this norm after the
            cross-replica sum. Defaults to `None`.
        label_smoothing: float in [0, 1). Defaults to `0.0`.
        backup_dir: str or None. Where the chief keeps `latest.npz`.
        backup_every: `"epoch"` or a positive int (steps). Defaults to
            `"epoch"`.
        log_dir: str or None. TensorBoard scalars (chief only).
        minutes: float or None. Wall-clock budget.
        verbose: bool. Print one line per epoch (chief only).

    Example:

    >>> strategy = tf.distribute.MultiWorkerMirroredStrategy()
    >>> with strategy.scope():
    ...     model = keras_seq.models.rnn_seq2seq(40, 40, units=256)
    ...     model.build()
    ...     optimizer = keras.optimizers.Adam(1e-3)
    >>> trainer = DistributedTrainer(model, optimizer, strategy, clipnorm=1.0)
    >>> history = trainer.fit(task.train, task.validation, epochs=10)
    """

    def __init__(
        self,
        model,
        optimizer,
        strategy=None,
        clipnorm=None,
        label_smoothing=0.0,
        backup_dir=None,
        backup_every="epoch",
        log_dir=None,
        minutes=None,
        verbose=True,
    ):
        self.strategy = strategy or tf.distribute.get_strategy()
        self.model = model
        self.optimizer = optimizer
        self.clipnorm = clipnorm = check_number("clipnorm", clipnorm, allow_none=True, above=0)
        self.label_smoothing = float(label_smoothing)
        self.backup_dir = backup_dir
        self.backup_every = check_backup_every(backup_every)
        self.log_dir = log_dir
        self.minutes = minutes = check_number("minutes", minutes, allow_none=True, above=0)
        self.verbose = verbose
        if getattr(optimizer, "clipnorm", None) or getattr(optimizer, "global_clipnorm", None):
            raise ValueError(
                "Invalid value for argument `optimizer`: create it without "
                "clipnorm/global_clipnorm and pass `clipnorm` to "
                "DistributedTrainer (Keras clips per replica, before the sum)."
            )
        if "float16" in str(getattr(model.dtype_policy, "name", "")) and \
                "bfloat16" not in str(model.dtype_policy.name):
            raise ValueError(
                "DistributedTrainer does not scale the loss; use the "
                "'mixed_bfloat16' policy, not 'mixed_float16'."
            )
        if not model.built:
            raise ValueError("Build `model` under `strategy.scope()` before "
                             "creating the DistributedTrainer.")
        outside = [v.path for v in model.variables
                   if not self.strategy.extended.variable_created_in_scope(v.value)]
        if outside:
            raise ValueError(
                "`model` was not built under `strategy.scope()` (for example "
                f"{outside[0]}); create and build it inside the scope."
            )
        with self.strategy.scope():
            if not optimizer.built:
                optimizer.build(model.trainable_variables)
        self.replicas = self.strategy.num_replicas_in_sync
        self.is_chief = self.is_chief_of(self.strategy)
        self.steps = ReplicaSteps(model, optimizer, self.strategy, clipnorm,
                                  self.label_smoothing)

    # -- data -------------------------------------------------------------
    def _split(self, inputs, targets):
        return split_global_batch(self.strategy, self.replicas, inputs, targets)

    # -- backups ----------------------------------------------------------
    def _backup_path(self):
        return os.path.join(self.backup_dir, BACKUP_FILE) if self.backup_dir else None

    def _write_backup(self, epoch, step):
        if self.is_chief and self.backup_dir:
            write_backup(self._backup_path(), self.steps.state_variables(), epoch, step)

    def _read_backup(self):
        """The chief's (epoch, step) from its backup, restoring variables."""
        path = self._backup_path()
        if not self.is_chief or not path or not os.path.exists(path):
            return 0, 0
        return read_backup(path, self.steps.state_variables())

    # -- loop -------------------------------------------------------------
    def fit(self, train, validation=None, epochs=1, initial_epoch=0,
            on_epoch_end=None):
        """Train; returns a history dict of per-epoch lists.

        Args:
            train: a `tf.data.Dataset` of `({"encoder_ids", "decoder_ids"},
                target_ids)` global batches, the same on every worker.
            validation: an optional dataset of the same form.
            epochs: positive int. The last epoch (counted from 0).
            initial_epoch: int. Start here unless a backup is further on.
            on_epoch_end: optional callable `(epoch, logs)` run on every
                worker after each epoch (epoch counted from 0).

        Returns:
            dict with lists `loss`, `token_accuracy` and, with validation,
            `val_loss`, `val_token_accuracy`.
        """
        check_int("epochs", epochs)
        epoch, skip = self._read_backup()
        if (epoch, skip) < (initial_epoch, 0):
            epoch, skip = initial_epoch, 0
        position = self.steps.broadcast(tf.constant([epoch, skip], tf.int64))
        epoch, skip = (int(x) for x in position.numpy())
        if self.is_chief and (epoch, skip) != (0, 0) and epoch < epochs and self.verbose:
            self._print(f"resuming at epoch {epoch + 1}, step {skip + 1}")
        history = {}
        deadline = None if self.minutes is None else time.monotonic() + 60 * self.minutes
        writer = (tf.summary.create_file_writer(self.log_dir)
                  if self.log_dir and self.is_chief else None)
        stopped = False
        while epoch < epochs and not stopped:
            start, step = time.monotonic(), 0
            totals = np.zeros(3)
            if getattr(train, "_keras_seq_epoch", None) is not None:
                set_epoch(train, epoch)  # the epoch's shuffle, also on resume
            for step, (inputs, targets) in enumerate(train):
                if step < skip:
                    continue
                vote = tf.constant(
                    float(deadline is not None and time.monotonic() > deadline))
                loss_sum, correct, tokens, votes = self.steps.train(
                    self._split(inputs, targets), vote)
                totals += [float(loss_sum), float(correct), float(tokens)]
                if not math.isfinite(float(loss_sum)):
                    raise NonFiniteLossError(
                        non_finite_message(float(loss_sum), epoch, step, self.backup_dir),
                        epoch=epoch, step=step, value=float(loss_sum))
                if isinstance(self.backup_every, int) and (step + 1) % self.backup_every == 0:
                    self._write_backup(epoch, step + 1)
                if float(votes) > 0:
                    stopped = True
                    break
            skip = 0
            logs = {"loss": totals[0] / max(totals[2], 1.0),
                    "token_accuracy": totals[1] / max(totals[2], 1.0)}
            if validation is not None:
                logs.update(self.evaluate(validation, prefix="val_"))
            for key, value in logs.items():
                history.setdefault(key, []).append(float(value))
            epoch += 1
            if not stopped:
                self._write_backup(epoch, 0)
            if on_epoch_end is not None:
                on_epoch_end(epoch - 1, logs)
            if writer is not None:
                with writer.as_default():
                    for key, value in logs.items():
                        tf.summary.scalar(key, value, step=epoch)
                writer.flush()
            if self.verbose and self.is_chief:
                text = " - ".join(f"{k}: {v:.4f}" for k, v in logs.items())
                self._print(f"Epoch {epoch}/{epochs} - {step + 1} steps - "
                            f"{time.monotonic() - start:.1f}s - {text}")
        return history

    def evaluate(self, dataset, prefix=""):
        """Token-mean loss and token accuracy over `dataset` (all workers)."""
        totals = np.zeros(3)
        for inputs, targets in dataset:
            totals += [float(x) for x in self.steps.evaluate(self._split(inputs, targets))]
        tokens = max(totals[2], 1.0)
        return {f"{prefix}loss": totals[0] / tokens,
                f"{prefix}token_accuracy": totals[1] / tokens}

    def delete_backup(self):
        """Remove the backup file (chief only), e.g. after a finished run."""
        path = self._backup_path()
        if self.is_chief and path and os.path.exists(path):
            os.remove(path)

    @staticmethod
    def is_chief_of(strategy):
        """Whether this process is the chief (writes files) of `strategy`."""
        return _is_chief(strategy)

    @staticmethod
    def _print(text):
        print(text, flush=True, file=sys.stdout)


def check_backup_every(value):
    """`"epoch"` or a positive int; a clear error otherwise."""
    if value == "epoch":
        return value
    if not is_int(value) or value < 1:
        raise invalid("backup_every", "'epoch' or a positive integer (steps)", value)
    return int(value)


def _is_chief(strategy):
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return not has_chief and resolver.task_type == "worker" and resolver.task_id == 0

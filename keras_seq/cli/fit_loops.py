"""How `keras-seq train` builds and fits its model: Keras `fit` on one
device, or the `DistributedTrainer` loop under a tf.distribute strategy.

`train.py` owns the command (its options, the run directory, resuming);
this module owns the model and the loop.
"""

import os

import keras
import tensorflow as tf

from keras_seq.cli import run_directory as rd
from keras_seq.cli import worker_supervisor
from keras_seq.cli.errors import CLIError
from keras_seq.metrics import MaskedSparseCrossEntropy, SequenceAccuracy, TokenAccuracy
from keras_seq.models import rnn_seq2seq, transformer_seq2seq
from keras_seq.training import (
    DistributedTrainer,
    EpochCheckpoints,
    SafeBackupAndRestore,
    TerminateOnNonFinite,
    TimeLimit,
)

# --jit-compile: Keras' `compile(jit_compile=...)` for each choice.
JIT_COMPILE = {"auto": "auto", "on": True, "off": False}


def build_model(config, source_vocab, target_vocab, max_length):
    """The untrained model a run's `config.json` describes."""
    m = config["model"]
    if m["model"] == "transformer":
        return transformer_seq2seq(
            source_vocab, target_vocab, num_layers=m["layers"], dim=m["units"],
            num_heads=m["heads"], ff_dim=4 * m["units"], max_length=max_length,
            dropout=m["dropout"],
        )
    return rnn_seq2seq(
        source_vocab, target_vocab, cell=m["cell"], units=m["units"],
        num_layers=m["layers"], bidirectional=m["bidirectional"],
        attention=m["attention"] if m["model"] == "attention" else None,
        dropout=m["dropout"],
    )


def fit_one_device(args, config, task, epochs):
    """Keras `fit` with backups that survive SIGKILL and stop on NaN."""
    from keras_seq.data import set_epoch

    out = args.out
    model = build_model(config, task.source_tokenizer.vocab_size,
                        task.target_tokenizer.vocab_size, config["max_length"])
    model.build()  # BackupAndRestore needs the weights before fit
    model.compile(
        keras.optimizers.Adam(args.learning_rate, clipnorm=args.clipnorm or None),
        MaskedSparseCrossEntropy(),
        metrics=[TokenAccuracy(), SequenceAccuracy()],
        jit_compile=JIT_COMPILE[args.jit_compile],
    )
    backup_dir = os.path.join(out, "backup")
    backup = SafeBackupAndRestore(backup_dir, save_freq=args.backup_every,
                                  delete_checkpoint=False)
    # The NaN check first: it must run before anything writes. Checkpoints
    # before the backup: an epoch that a resume skips has its checkpoint.
    callbacks = [TerminateOnNonFinite(backup_dir)]
    if args.keep_checkpoints:
        callbacks.append(EpochCheckpoints(os.path.join(out, rd.CHECKPOINTS),
                                          keep=args.keep_checkpoints))
    callbacks += [
        backup,
        keras.callbacks.LambdaCallback(
            # Each epoch's shuffle is fixed by (seed, epoch): resumes see it too.
            on_epoch_begin=lambda epoch, logs: set_epoch(task.train, epoch),
            on_epoch_end=lambda epoch, logs: rd.append_history(out, epoch, logs)),
        keras.callbacks.TensorBoard(os.path.join(out, "logs")),
    ]
    limit = None
    if args.minutes is not None:
        limit = TimeLimit(args.minutes)
        callbacks.append(limit)
    # A backup taken inside an epoch: finish that epoch without the steps it
    # had done, so the resumed run takes the same number of steps.
    epoch, done = backup.resume_position()
    stages = ([(task.train.skip(done), epoch + 1)] if done else []) + [(task.train, epochs)]
    for data, last_epoch in stages:
        model.fit(data, validation_data=task.validation, epochs=last_epoch,
                  shuffle=False, callbacks=callbacks, verbose=1 if os.isatty(1) else 2)
        if limit is not None and limit.expired():
            break
    return model


# What a collective raises when a peer goes away.
PEER_ERRORS = (tf.errors.UnavailableError, tf.errors.AbortedError,
               tf.errors.DeadlineExceededError, tf.errors.CancelledError)


def fit_distributed(args, config, task, epochs, strategy, finished):
    """The custom `strategy.run` loop; only the chief writes to --out."""
    out = args.out
    with strategy.scope():
        model = build_model(config, task.source_tokenizer.vocab_size,
                            task.target_tokenizer.vocab_size, config["max_length"])
        model.build()
        optimizer = keras.optimizers.Adam(args.learning_rate)
    trainer = DistributedTrainer(
        model, optimizer, strategy, clipnorm=args.clipnorm or None,
        backup_dir=os.path.join(out, "backup"), backup_every=args.backup_every,
        log_dir=os.path.join(out, "logs"), minutes=args.minutes,
    )

    def on_epoch_end(epoch, logs):
        if trainer.is_chief:
            rd.append_history(out, epoch, logs)

    # A finished run still meets the other workers once, so none waits.
    try:
        trainer.fit(task.train, task.validation, epochs=epochs,
                    initial_epoch=epochs if finished else 0, on_epoch_end=on_epoch_end)
    except PEER_ERRORS as e:
        if args.strategy != "multi-worker":
            raise
        lost = worker_supervisor.lost_peers(str(e)) or ["a worker"]
        raise CLIError(f"lost {' and '.join(lost)} during training; the run resumes "
                       f"from its last backup in {out} when every worker is started "
                       "again") from None
    return model

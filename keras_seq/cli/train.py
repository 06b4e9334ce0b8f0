"""`keras-seq train`: fit a model on a task into a run directory."""

import os
import time

import keras

from keras_seq.cli import run_directory as rd
from keras_seq.cli.errors import CLIError
from keras_seq.metrics import MaskedSparseCrossEntropy, SequenceAccuracy, TokenAccuracy
from keras_seq.models import rnn_seq2seq, transformer_seq2seq

TASKS = ("cmudict", "reverse", "copy", "sort", "addition", "dates", "files", "tsv")
MODEL_KEYS = ("model", "cell", "attention", "units", "layers", "heads", "dropout",
              "bidirectional")


def add_parser(subparsers):
    p = subparsers.add_parser("train", help="train a model on a task")
    p.add_argument("--task", required=True, choices=TASKS)
    p.add_argument("--model", default="attention", choices=("rnn", "attention", "transformer"))
    p.add_argument("--cell", default="lstm", choices=("lstm", "gru", "simple_rnn"))
    p.add_argument("--attention", default="bahdanau", choices=("bahdanau", "luong"))
    p.add_argument("--units", type=int, default=256, help="RNN units / Transformer width")
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--heads", type=int, default=4, help="Transformer attention heads")
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--no-bidirectional", dest="bidirectional", action="store_false",
                   help="unidirectional RNN encoder (default: bidirectional)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--epochs", type=int, default=None)
    budget.add_argument("--minutes", type=float, default=None,
                        help="stop after this much training time")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--examples", type=int, default=None,
                   help="synthetic tasks: number of examples; cmudict: max words")
    p.add_argument("--source", help="source file (--task files) or TSV (--task tsv)")
    p.add_argument("--target", help="target file (--task files)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="run directory, e.g. runs/NAME")
    p.set_defaults(run=run)


def task_options(args):
    """The options of `keras_seq.data.load_task` for these arguments."""
    options = {"seed": args.seed, "batch_size": args.batch_size}
    if args.task in ("files", "tsv"):
        if not args.source or (args.task == "files" and not args.target):
            raise CLIError(f"--task {args.task} needs --source"
                           + (" and --target" if args.task == "files" else ""))
        if args.task == "files":
            options.update(source_path=args.source, target_path=args.target)
        else:
            options.update(path=args.source)
    elif args.examples is not None and args.task == "cmudict":
        options.update(max_words=args.examples, test_size=max(1, args.examples // 10))
    elif args.examples is not None:
        options["num_examples"] = args.examples
    return options


def build_model(config, source_vocab, target_vocab, max_length):
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


class TimeLimit(keras.callbacks.Callback):
    """Stop training after `minutes` of wall-clock time (checked per batch)."""

    def __init__(self, minutes):
        super().__init__()
        self.deadline = time.monotonic() + 60.0 * minutes

    def on_train_batch_end(self, batch, logs=None):
        if time.monotonic() > self.deadline:
            self.model.stop_training = True


def longest(task):
    """Longest source or target in tokens (+2 for BOS/EOS), for positions."""
    lengths = [1]
    for split in ("train", "validation", "test"):
        lengths += [len(s) for s in task.sources.get(split, [])]
        lengths += [len(r) for refs in task.references.get(split, []) for r in refs]
    return max(lengths) + 2


def run(args):
    from keras_seq.data import load_task

    out = args.out
    config = {
        "kind": "keras_seq run",
        "task": args.task,
        "task_options": task_options(args),
        "model": {k: getattr(args, k) for k in MODEL_KEYS},
        "train": {"epochs": args.epochs, "minutes": args.minutes,
                  "learning_rate": args.learning_rate},
    }
    resumed = os.path.exists(os.path.join(out, rd.CONFIG))
    if resumed:
        previous = rd.load_config(out)
        for key in ("task", "task_options", "model"):
            if previous.get(key) != config[key]:
                raise CLIError(f"{out} holds a different run ({key} differs); "
                               "choose a new --out")
        if os.path.exists(os.path.join(out, rd.MODEL)):
            print(f"{out} has finished training already ({rd.MODEL} exists)")
            return
    os.makedirs(out, exist_ok=True)
    keras.utils.set_random_seed(args.seed)
    task = load_task(args.task, **config["task_options"])
    config["tokenizers"] = rd.save_tokenizers(out, task.source_tokenizer,
                                             task.target_tokenizer)
    config["max_length"] = min(512, 2 * longest(task))
    rd.write_json(os.path.join(out, rd.CONFIG), config)

    model = build_model(config, task.source_tokenizer.vocab_size,
                        task.target_tokenizer.vocab_size, config["max_length"])
    model.build()  # BackupAndRestore needs the weights before fit
    model.compile(
        keras.optimizers.Adam(args.learning_rate, clipnorm=1.0),
        MaskedSparseCrossEntropy(),
        metrics=[TokenAccuracy(), SequenceAccuracy()],
    )
    callbacks = [
        keras.callbacks.BackupAndRestore(os.path.join(out, "backup")),
        keras.callbacks.TensorBoard(os.path.join(out, "logs")),
    ]
    epochs = args.epochs or 10
    if args.minutes is not None:
        callbacks.append(TimeLimit(args.minutes))
        epochs = 10_000
    if resumed:
        print(f"resuming the run in {out}")
    model.fit(task.train, validation_data=task.validation, epochs=epochs,
              shuffle=False, callbacks=callbacks,
              verbose=1 if os.isatty(1) else 2)
    rd.save_model(model, out)
    print(f"saved {os.path.join(out, rd.MODEL)}")

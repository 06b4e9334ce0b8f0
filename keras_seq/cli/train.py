"""`keras-seq train`: fit a model on a task into a run directory."""

import argparse
import os

import keras
import tensorflow as tf

from keras_seq.cli import coordination, fingerprint, options, worker_supervisor
from keras_seq.cli import run_directory as rd
from keras_seq.cli.errors import CLIError
from keras_seq.cli.fit_loops import JIT_COMPILE, fit_distributed, fit_one_device
from keras_seq.cli.run_lock import RunLock
from keras_seq.training import DistributedTrainer, NonFiniteLossError

TASKS = ("cmudict", "reverse", "copy", "sort", "addition", "dates", "files", "tsv")
CONNECT_TIMEOUT = 300  # seconds; workers scheduled apart may start minutes apart
MODEL_KEYS = ("model", "cell", "attention", "units", "layers", "heads", "dropout",
              "bidirectional")


def add_parser(subparsers):
    p = subparsers.add_parser("train", help="train a model on a task")
    p.add_argument("--task", required=True, choices=TASKS)
    p.add_argument("--model", default="attention", choices=("rnn", "attention", "transformer"))
    p.add_argument("--cell", default="lstm", choices=("lstm", "gru", "simple_rnn"))
    p.add_argument("--attention", default="bahdanau", choices=("bahdanau", "luong"))
    p.add_argument("--units", type=options.integer(1), default=256,
                   help="RNN units / Transformer width")
    p.add_argument("--layers", type=options.integer(1), default=1)
    p.add_argument("--heads", type=options.integer(1), default=4,
                   help="Transformer attention heads")
    p.add_argument("--dropout", type=options.real(minimum=0, below=1), default=0.1)
    p.add_argument("--no-bidirectional", dest="bidirectional", action="store_false",
                   help="unidirectional RNN encoder (default: bidirectional)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--epochs", type=options.integer(1), default=None,
                        help="epochs to train (default 10)")
    budget.add_argument("--minutes", type=options.real(above=0), default=None,
                        help="stop after this much training time")
    p.add_argument("--batch-size", type=options.integer(1), default=64)
    p.add_argument("--learning-rate", type=options.real(above=0), default=1e-3)
    p.add_argument("--examples", type=options.integer(1), default=None,
                   help="synthetic tasks: number of examples; cmudict: max words")
    p.add_argument("--source", help="source file (--task files) or TSV (--task tsv)")
    p.add_argument("--target", help="target file (--task files)")
    p.add_argument("--clipnorm", type=options.real(minimum=0), default=1.0,
                   help="clip each gradient to this norm; 0 turns clipping off")
    p.add_argument("--backup-every", default="epoch", type=backup_every,
                   help="'epoch' (default) or a number of steps between backups")
    p.add_argument("--keep-checkpoints", type=options.integer(0), default=0, metavar="N",
                   help="keep the model weights of the last N finished epochs in "
                        f"RUN/{rd.CHECKPOINTS}/ (for keras-seq average); default 0: none")
    p.add_argument("--strategy", default="none",
                   choices=("none", "mirrored", "multi-worker"),
                   help="none: Keras fit on one device; mirrored: all local "
                        "GPUs; multi-worker: the cluster in TF_CONFIG")
    p.add_argument("--connect-timeout", type=options.real(above=0), default=None,
                   help="--strategy multi-worker: seconds the workers in TF_CONFIG "
                        f"have to connect (default {CONNECT_TIMEOUT})")
    p.add_argument("--jit-compile", default="auto", choices=tuple(JIT_COMPILE),
                   help="XLA for the training step (--strategy none): auto, Keras' "
                        "choice (on where a GPU is visible and the model allows it), "
                        "on or off. XLA compiles the step once per batch shape, and "
                        "length-bucketed batches have many")
    p.add_argument("--deterministic", action="store_true",
                   help="TensorFlow op determinism: same seed, same weights")
    p.add_argument("--seed", type=options.integer(0, 2**32 - 1), default=0)
    p.add_argument("--out", required=True, help="run directory, e.g. runs/NAME")
    p.set_defaults(run=run)


def task_options(args):
    """The options of `keras_seq.data.load_task` for these arguments."""
    options = {"seed": args.seed, "batch_size": args.batch_size}
    if args.task in ("files", "tsv"):
        if not args.source or (args.task == "files" and not args.target):
            raise CLIError(f"--task {args.task} needs --source"
                           + (" and --target" if args.task == "files" else ""))
        # Absolute: evaluate and resume read the same files from any folder.
        if args.task == "files":
            options.update(source_path=os.path.abspath(args.source),
                           target_path=os.path.abspath(args.target))
        else:
            options.update(path=os.path.abspath(args.source))
    elif args.examples is not None and args.task == "cmudict":
        options.update(max_words=args.examples, test_size=max(1, args.examples // 10))
    elif args.examples is not None:
        options["num_examples"] = args.examples
    return options


def backup_every(text):
    """argparse type: 'epoch' or a positive number of steps."""
    if text == "epoch":
        return text
    try:
        steps = int(text)
    except ValueError:
        steps = 0
    if steps < 1:
        raise argparse.ArgumentTypeError(
            f"expected 'epoch' or a positive number of steps, got {text!r}")
    return steps


def make_strategy(name):
    """The tf.distribute strategy for --strategy (before any other TF op)."""
    if name == "none":
        return None
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    check_tf_config()
    try:
        coordination.configure()  # a stalled worker is not a lost one
        return tf.distribute.MultiWorkerMirroredStrategy()
    except (ValueError, KeyError) as e:
        raise CLIError(f"invalid TF_CONFIG for --strategy multi-worker: {e}") from None


def check_tf_config():
    if not os.environ.get("TF_CONFIG"):
        raise CLIError("--strategy multi-worker needs the TF_CONFIG environment "
                       "variable (cluster and task of this worker); see README")


def longest(task):
    """Longest source or target in tokens (+2 for BOS/EOS), for positions."""
    lengths = [1]
    for split in ("train", "validation", "test"):
        lengths += [len(s) for s in task.sources.get(split, [])]
        lengths += [len(r) for refs in task.references.get(split, []) for r in refs]
    return max(lengths) + 2


def run(args):
    if args.connect_timeout is not None and args.strategy != "multi-worker":
        raise CLIError("--connect-timeout applies only to --strategy multi-worker")
    if args.keep_checkpoints and args.strategy != "none":
        raise CLIError("--keep-checkpoints applies only to --strategy none "
                       f"(received --strategy {args.strategy})")
    if args.jit_compile != "auto" and args.strategy != "none":
        raise CLIError("--jit-compile applies only to --strategy none "
                       f"(received --strategy {args.strategy})")
    if args.strategy == "multi-worker" and not worker_supervisor.is_child():
        check_tf_config()
        # The connection wait cannot be interrupted in-process: watch a child.
        return worker_supervisor.supervise(
            args.argv, args.connect_timeout or CONNECT_TIMEOUT, args.out)
    worker_supervisor.follow_supervisor()
    strategy = make_strategy(args.strategy)  # first: it must precede other ops
    if strategy is not None:
        worker_supervisor.report_connected()
    if args.deterministic:
        tf.config.experimental.enable_op_determinism()
    chief = strategy is None or DistributedTrainer.is_chief_of(strategy)
    out = args.out
    config = {
        "kind": "keras_seq run",
        "task": args.task,
        "task_options": task_options(args),
        "model": {k: getattr(args, k) for k in MODEL_KEYS},
        "train": {"epochs": args.epochs, "minutes": args.minutes,
                  "learning_rate": args.learning_rate, "clipnorm": args.clipnorm,
                  "strategy": args.strategy, "backup_every": args.backup_every,
                  "deterministic": args.deterministic,
                  "keep_checkpoints": args.keep_checkpoints,
                  "jit_compile": args.jit_compile},
    }
    if not chief:  # a worker writes nothing to --out
        return train_into(args, config, strategy, chief=False)
    rd.check_can_train_in(out)
    os.makedirs(out, exist_ok=True)
    with RunLock(out):
        return train_into(args, config, strategy, chief=True)


def train_into(args, config, strategy, chief):
    """Load the data, write or check the run's files, fit, save the model."""
    from keras_seq.data import load_task

    out = args.out
    if chief:  # under the lock: a temporary file here is a dead writer's
        rd.remove_stale_temporaries(out)
    resumed = chief and os.path.exists(os.path.join(out, rd.CONFIG))
    finished = False
    if resumed:
        previous = rd.load_config(out)
        for key in ("task", "task_options", "model"):
            if previous.get(key) != config[key]:
                raise CLIError(f"{out} holds a different run ({key} differs); "
                               "choose a new --out")
        finished = os.path.exists(os.path.join(out, rd.MODEL))
        if finished and strategy is None:
            print(f"{out} has finished training already ({rd.MODEL} exists)")
            return
    keras.utils.set_random_seed(args.seed)
    task = load_task(args.task, **config["task_options"])
    config["max_length"] = min(512, 2 * longest(task))
    if resumed:
        fingerprint.check_task(previous, task, out)
    if chief and not finished:
        if not resumed:  # config.json first: it marks the folder as this run's
            config["fingerprint"] = fingerprint.of_task(task)
            config["tokenizers"] = {
                side: rd.tokenizer_spec(getattr(task, f"{side}_tokenizer"))
                for side in ("source", "target")}
            rd.write_json(os.path.join(out, rd.CONFIG), config)
        rd.save_tokenizers(out, task.source_tokenizer, task.target_tokenizer)
    if config["model"]["model"] == "transformer":
        task = fit_positions(task, config["max_length"])
    epochs = args.epochs or 10
    if args.minutes is not None:
        epochs = 10_000
    if resumed and not finished:
        print(f"resuming the run in {out}")
    try:
        if strategy is None:
            model = fit_one_device(args, config, task, epochs)
        else:
            model = fit_distributed(args, config, task, epochs, strategy, finished)
    except NonFiniteLossError as e:
        raise CLIError(str(e)) from None
    if finished:
        print(f"{out} has finished training already ({rd.MODEL} exists)")
    elif chief:
        rd.save_model(model, out)
        rd.remove_backup(out)  # only once model.keras is safely in place
        print(f"saved {os.path.join(out, rd.MODEL)}")


def fit_positions(task, max_length):
    """Drop the training/validation pairs a Transformer of `max_length`
    positions cannot read (longer data would stop training mid-way), and
    say how many."""
    from keras_seq.data import limit_lengths

    task, dropped = limit_lengths(task, max_length)
    if any(dropped.values()):
        print(f"dropped {dropped['train']} training and {dropped['validation']} "
              f"validation pairs longer than the Transformer's {max_length} positions "
              "(the test split is kept; decoding truncates its sources)")
    return task

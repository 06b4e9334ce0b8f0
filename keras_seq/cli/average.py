"""`keras-seq average`: a new run whose model is the mean of several models' weights."""

import errno
import os
import re
import shutil
import tempfile
from collections import namedtuple

from keras_seq._differences import describe_difference
from keras_seq.arguments import check_shares
from keras_seq.atomic import umask
from keras_seq.cli import options
from keras_seq.cli import run_directory as rd
from keras_seq.cli.errors import CLIError
from keras_seq.cli.tokenizer_difference import tokenizer_difference
from keras_seq.training.epoch_checkpoints import NAME as CHECKPOINT_NAME

# A model to average: `path` as given, the run it belongs to, that run's
# config.json and (source, target) tokenizers and, for a checkpoint, the file.
Source = namedtuple("Source", ["path", "run", "config", "tokenizers", "checkpoint"])

# What the output's config.json takes from the first source: everything
# `evaluate`, `predict` and `export` read.
COPIED = ("kind", "task", "task_options", "model", "max_length", "tokenizers",
          "fingerprint")


def add_parser(subparsers):
    p = subparsers.add_parser(
        "average", help="a new run whose model averages the weights of runs or checkpoints")
    p.add_argument("sources", nargs="+", metavar="SOURCE",
                   help="a finished run directory (its model.keras) or a checkpoint "
                        f"RUN/{rd.CHECKPOINTS}/epoch-NNNN.weights.h5 (train "
                        "--keep-checkpoints); all of one architecture and vocabularies")
    p.add_argument("--weights", nargs="+", type=options.real(above=0), metavar="W",
                   help="one positive weight per SOURCE, in order (normalised to sum "
                        "to 1; default: equal)")
    p.add_argument("--out", required=True,
                   help="the new run directory: must not exist, or be an empty folder")
    p.set_defaults(run=run)


def run(args):
    from keras_seq.models import average_weights

    if args.weights is not None and len(args.weights) != len(args.sources):
        raise CLIError(f"--weights takes one weight per SOURCE: received "
                       f"{len(args.weights)} for {len(args.sources)} sources")
    check_out(args.out)
    sources = [read_source(path) for path in args.sources]
    for other in sources[1:]:
        check_compatible(sources[0], other)
    models = [load_model(source) for source in sources]
    try:
        averaged = average_weights(models, weights=args.weights)
    except ValueError as e:  # a model.keras that is not its config's model
        message = re.sub(r"models\[(\d+)\]", lambda m: sources[int(m.group(1))].path,
                         str(e).splitlines()[0])
        raise CLIError(f"cannot average these sources: {message}") from None
    config = {key: sources[0].config[key] for key in COPIED if key in sources[0].config}
    config["averaged"] = {
        "sources": [os.path.abspath(source.path) for source in sources],
        "weights": check_shares("weights", args.weights, len(sources), per="source"),
    }
    write_run(args.out, config, averaged, *sources[0].tokenizers)
    print(f"saved {os.path.join(args.out, rd.MODEL)}, the mean of {len(sources)} models")


def check_out(out):
    """Refuse an --out that exists, unless it is an empty folder."""
    if os.path.islink(out) or (os.path.exists(out) and not os.path.isdir(out)):
        raise CLIError(f"--out {out} exists and is not a folder; choose a new --out")
    if os.path.isdir(out) and os.listdir(out):
        raise CLIError(f"--out {out} is not empty; choose a new or empty folder "
                       "(keras-seq never writes into or deletes files it did not create)")


def read_source(path):
    """The `Source` for a run directory or a checkpoint file (no model loaded)."""
    if os.path.isdir(path):
        config = _run_config(path)
        if not os.path.isfile(os.path.join(path, rd.MODEL)):
            raise CLIError(f"{path} has no {rd.MODEL}: training has not finished "
                           f"(average its {rd.CHECKPOINTS}/ files instead)")
        return Source(path, path, config, rd.load_tokenizers(path, config), None)
    if not os.path.isfile(path):
        raise CLIError(f"source not found: {path}")
    folder = os.path.dirname(os.path.abspath(path))
    run_dir = os.path.dirname(folder)
    if (not CHECKPOINT_NAME.match(os.path.basename(path))
            or os.path.basename(folder) != rd.CHECKPOINTS
            or not os.path.isfile(os.path.join(run_dir, rd.CONFIG))):
        raise CLIError(f"{path} is neither a run directory nor a checkpoint "
                       f"RUN/{rd.CHECKPOINTS}/epoch-NNNN.weights.h5 of a keras-seq run")
    config = _run_config(run_dir)
    return Source(path, run_dir, config, rd.load_tokenizers(run_dir, config), path)


def _run_config(run_dir):
    config = rd.load_config(run_dir)
    for key in ("model", "max_length", "tokenizers", "fingerprint"):
        rd.field(config, key, os.path.join(run_dir, rd.CONFIG))
    return config


def check_compatible(first, other):
    """Refuse two sources of different architectures, vocabularies or tokenizers."""
    def refuse(what, difference):
        raise CLIError(f"{first.path} and {other.path} have different {what} ({difference}): "
                       "only models of one architecture and vocabularies can be averaged")

    a, b = first.config, other.config
    if a["model"] != b["model"]:
        refuse("models", describe_difference(a["model"], b["model"]))
    if a["model"].get("model") == "transformer" and a["max_length"] != b["max_length"]:
        refuse("positions", f"max_length: {a['max_length']!r} vs {b['max_length']!r}")
    for side, mine, theirs in zip(("source", "target"), first.tokenizers, other.tokenizers):
        difference = tokenizer_difference(mine, theirs)
        if difference is not None:
            refuse(f"{side} tokenizers", difference)


def load_model(source):
    """The Keras model of a source: its run's model.keras, or the run's model
    with the checkpoint's weights."""
    if source.checkpoint is None:
        return rd.load_run(source.run)[1]
    from keras_seq.cli.fit_loops import build_model

    source_tokenizer, target_tokenizer = source.tokenizers
    try:
        model = build_model(source.config, source_tokenizer.vocab_size,
                            target_tokenizer.vocab_size, source.config["max_length"])
    except (KeyError, TypeError, ValueError) as e:
        raise CLIError(f"{os.path.join(source.run, rd.CONFIG)}: the model options are "
                       f"damaged ({type(e).__name__}: {e})") from None
    model.build()
    try:
        model.load_weights(source.checkpoint)
    except Exception as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CLIError(f"cannot load {source.checkpoint}: corrupt checkpoint or not "
                       f"one of {source.run}'s model ({reason})") from None
    return model


def write_run(out, config, model, source_tokenizer, target_tokenizer):
    """Write the run into a temporary sibling folder, then rename it to `out`.

    The rename is atomic and replaces at most an empty folder (POSIX
    `rename`), so `out` holds the whole run or is as it was; on any failure
    the temporary folder, and the parent folders made for it, are removed.
    """
    out = os.path.abspath(out)
    parent = os.path.dirname(out)
    made = []  # parent folders this call creates, deepest first
    folder = parent
    while not os.path.exists(folder):
        made.append(folder)
        folder = os.path.dirname(folder)
    os.makedirs(parent, exist_ok=True)
    tmp = None
    try:
        tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(out)}.tmp-", dir=parent)
        os.chmod(tmp, 0o777 & ~umask())  # mkdtemp's 0700 would hide it from others
        rd.write_json(os.path.join(tmp, rd.CONFIG), config)  # first: it marks a run
        rd.save_tokenizers(tmp, source_tokenizer, target_tokenizer)
        rd.save_model(model, tmp)
        try:
            os.rename(tmp, out)
        except OSError as e:
            if e.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
                raise
            raise CLIError(f"--out {out} was created meanwhile by another process; "
                           "nothing was written") from None
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        for folder in made:
            try:
                os.rmdir(folder)
            except OSError:
                break
        raise

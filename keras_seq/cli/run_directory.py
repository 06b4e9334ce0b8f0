"""Reading and writing a training run directory (runs/NAME/).

Layout:
    config.json           task, model and training options, fingerprints of
                          the data and vocabularies (written first: it marks
                          the folder as a keras-seq run)
    source_vocab.txt      the tokenizers' vocabularies, one token per line
    target_vocab.txt
    .lock                 held by the `train` process writing the run
    model.keras           the trained model (written at the end of training)
    backup/               the training backup (resume); removed once
                          model.keras is written
    history.csv           one row per finished epoch: losses and metrics
    checkpoints/          with `train --keep-checkpoints N`: the model weights
                          of the last N epochs, epoch-0007.weights.h5 (numbered
                          as in history.csv; kept after training, for
                          `keras-seq average`)
    logs/                 TensorBoard logs
    metrics.json          written by `keras-seq evaluate`
A run written by `keras-seq average` holds config.json (with "averaged": its
sources and weights), the vocabularies and model.keras.
Every file is written atomically (temporary file, then rename).
"""

import csv
import io
import json
import os
import re
import shutil
import tempfile

import keras

from keras_seq.atomic import atomic_write_bytes, umask
from keras_seq.cli import fingerprint
from keras_seq.cli.errors import CLIError
from keras_seq.cli.run_lock import LOCK
from keras_seq.export.tflite_sidecars import tokenizer_spec
from keras_seq.training.epoch_checkpoints import TEMPORARY as CHECKPOINT_TEMPORARY

CONFIG = "config.json"
HISTORY = "history.csv"
BACKUP = "backup"
CHECKPOINTS = "checkpoints"
MODEL = "model.keras"
VOCABS = {"source": "source_vocab.txt", "target": "target_vocab.txt"}


def write_json(path, data):
    """Write `data` as JSON to `path` atomically."""
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))


def read_json(path, what):
    """A JSON object from `path`; CLIError naming `what` for anything else."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise CLIError(f"{what} not found: {path}") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise CLIError(f"{what} is not valid JSON: {path} ({e})") from None
    except RecursionError:
        raise CLIError(f"{what} is nested too deeply to be keras-seq's: {path}") from None
    if not isinstance(data, dict):
        raise CLIError(f"{what} is not a JSON object: {path}")
    return data


# The type of each config.json field that keras-seq reads.
FIELDS = {"kind": str, "task": str, "task_options": dict, "model": dict,
          "max_length": int, "tokenizers": dict, "fingerprint": dict}


def field(config, key, path, required=True):
    """`config[key]`, checked against FIELDS; a CLIError naming the file."""
    value = config.get(key)
    if value is None and not required:
        return None
    wanted = FIELDS[key]
    if not isinstance(value, wanted) or isinstance(value, bool):
        found = "missing" if key not in config else f"a {type(value).__name__}"
        raise CLIError(f"{path}: {key!r} is {found}, expected a {wanted.__name__} "
                       "(the file is damaged or not written by keras-seq)")
    return value


def save_tokenizers(run, source_tokenizer, target_tokenizer):
    """Vocabulary files plus the class/options to rebuild each tokenizer."""
    specs = {}
    for side, tokenizer in (("source", source_tokenizer), ("target", target_tokenizer)):
        tokenizer.save_vocabulary(os.path.join(run, VOCABS[side]))
        specs[side] = tokenizer_spec(tokenizer)
    return specs


def load_tokenizer(spec, vocabulary_path):
    """Rebuild a tokenizer from its spec and vocabulary file."""
    if (not isinstance(spec, dict) or not isinstance(spec.get("registered_name"), str)
            or not isinstance(spec.get("config"), dict)):
        raise CLIError(f"the tokenizer spec for {vocabulary_path} is damaged (expected "
                       "an object with 'registered_name' and 'config')")
    cls = keras.saving.get_registered_object(spec.get("registered_name"))
    if cls is None or not hasattr(cls, "from_file"):
        raise CLIError(f"unknown tokenizer {spec.get('registered_name')!r} "
                       f"for {vocabulary_path}")
    try:
        return cls.from_file(vocabulary_path, **spec["config"])
    except FileNotFoundError:
        raise CLIError(f"vocabulary file not found: {vocabulary_path}") from None
    except (ValueError, TypeError) as e:
        raise CLIError(f"cannot rebuild tokenizer from {vocabulary_path}: {e}") from None


def load_config(run):
    """The run's config.json; a clear error for a missing or foreign folder."""
    if not os.path.isdir(run):
        raise CLIError(f"run directory not found: {run}")
    path = os.path.join(run, CONFIG)
    config = read_json(path, "run config")
    if config.get("kind") != "keras_seq run":
        raise CLIError(f"{run} is not a keras-seq run directory (foreign config.json)")
    for key in ("max_length", "task", "task_options", "model", "tokenizers",
                "fingerprint"):
        field(config, key, path, required=False)
    return config


def check_can_train_in(out):
    """Refuse an --out that exists and is not empty, unless it is a run.

    A keras-seq run is marked by its config.json, which `train` writes
    before any other file; whether it is the *same* run (task, options,
    model, data) is checked once it is locked. Nothing is written or
    removed here.
    """
    if not os.path.exists(out):
        return
    if not os.path.isdir(out):
        raise CLIError(f"--out {out} is a file, not a folder; choose a new --out")
    if os.path.isfile(os.path.join(out, CONFIG)):
        load_config(out)  # refuses a foreign config.json
        return
    if set(os.listdir(out)) - {LOCK}:
        raise CLIError(
            f"--out {out} is not empty and is not a keras-seq run directory; "
            "choose a new or empty folder (keras-seq never writes into or "
            "deletes files it did not create)")


def load_run(run):
    """(config, model, source_tokenizer, target_tokenizer) of a finished run."""
    config = load_config(run)
    for key in ("tokenizers", "fingerprint"):
        field(config, key, os.path.join(run, CONFIG))
    path = os.path.join(run, MODEL)
    if not os.path.exists(path):
        raise CLIError(f"{run} has no {MODEL}: training has not finished")
    try:
        model = keras.saving.load_model(path)
    except Exception as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CLIError(f"cannot load {path}: corrupt or foreign model file ({reason})") from None
    return (config, model, *load_tokenizers(run, config))


def load_tokenizers(run, config):
    """(source, target) tokenizers of a run, checked against its fingerprints."""
    tokenizers = []
    for side in ("source", "target"):
        path = os.path.join(run, VOCABS[side])
        tokenizer = load_tokenizer(config["tokenizers"][side], path)
        fingerprint.check_vocabulary(config, side, tokenizer, path, run)
        tokenizers.append(tokenizer)
    return tokenizers[0], tokenizers[1]


def save_model(model, run):
    """Save model.keras atomically."""
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".keras", dir=run)
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~umask())  # readable as any saved file, not 0600
        model.save(tmp)
        os.replace(tmp, os.path.join(run, MODEL))
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def append_history(run, epoch, logs):
    """Add (or replace) epoch `epoch`'s row of history.csv, atomically."""
    path = os.path.join(run, HISTORY)
    rows = read_history(run)
    rows = [r for r in rows if int(r["epoch"]) != epoch + 1]
    rows.append({"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}})
    rows.sort(key=lambda r: int(r["epoch"]))
    fields = ["epoch"] + sorted({k for r in rows for k in r if k != "epoch"})
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_bytes(path, text.getvalue().encode("utf-8"))


def read_history(run):
    """history.csv's rows as dicts (strings), [] when there is none."""
    try:
        with open(os.path.join(run, HISTORY), encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))
    except FileNotFoundError:
        return []


# Temporary files keras-seq's atomic writes leave behind when a process dies
# mid-write (SIGKILL, a full disk): `atomic_write_bytes`, `save_model`,
# `write_vocabulary_file` and the training backup (the checkpoints'
# temporaries are CHECKPOINT_TEMPORARY).
STALE = re.compile(r"^(\..+\.tmp-\w+|\.tmp-\w+\.keras|\.tmp-latest\.weights\.h5"
                   r"|\..+\.\w+\.tmp|.+\.bkp\.tmp)$")


def remove_stale_temporaries(run):
    """Remove the temporary files a dead writer left in the run (and its
    backup and checkpoints). Call it holding the run's lock: then no writer
    is alive."""
    for folder, pattern in ((run, STALE), (os.path.join(run, BACKUP), STALE),
                            (os.path.join(run, CHECKPOINTS), CHECKPOINT_TEMPORARY)):
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            continue
        for name in names:
            path = os.path.join(folder, name)
            if pattern.match(name) and os.path.isfile(path) and not os.path.islink(path):
                os.remove(path)


def remove_backup(run):
    """Remove the training backup of a finished run."""
    shutil.rmtree(os.path.join(run, BACKUP), ignore_errors=True)

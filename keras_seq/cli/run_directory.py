"""Reading and writing a training run directory (runs/NAME/).

Layout:
    config.json           task, model and training options (written first)
    source_vocab.txt      the tokenizers' vocabularies, one token per line
    target_vocab.txt
    model.keras           the trained model (written at the end of training)
    backup/               the training backup (resume); removed once
                          model.keras is written
    history.csv           one row per finished epoch: losses and metrics
    logs/                 TensorBoard logs
    metrics.json          written by `keras-seq evaluate`
Every file is written atomically (temporary file, then rename).
"""

import csv
import io
import json
import os
import shutil
import tempfile

import keras

from keras_seq.cli.errors import CLIError
from keras_seq.export.atomic import atomic_write_bytes

CONFIG = "config.json"
HISTORY = "history.csv"
BACKUP = "backup"
MODEL = "model.keras"
VOCABS = {"source": "source_vocab.txt", "target": "target_vocab.txt"}


def write_json(path, data):
    """Write `data` as JSON to `path` atomically."""
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))


def read_json(path, what):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise CLIError(f"{what} not found: {path}") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise CLIError(f"{what} is not valid JSON: {path} ({e})") from None


def tokenizer_spec(tokenizer):
    """The tokenizer's class and options, without its vocabulary."""
    spec = keras.saving.serialize_keras_object(tokenizer)
    spec["config"] = {k: v for k, v in spec["config"].items() if k != "vocabulary"}
    return spec


def save_tokenizers(run, source_tokenizer, target_tokenizer):
    """Vocabulary files plus the class/options to rebuild each tokenizer."""
    specs = {}
    for side, tokenizer in (("source", source_tokenizer), ("target", target_tokenizer)):
        tokenizer.save_vocabulary(os.path.join(run, VOCABS[side]))
        specs[side] = tokenizer_spec(tokenizer)
    return specs


def load_tokenizer(spec, vocabulary_path):
    """Rebuild a tokenizer from its spec and vocabulary file."""
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
    config = read_json(os.path.join(run, CONFIG), "run config")
    if not isinstance(config, dict) or config.get("kind") != "keras_seq run":
        raise CLIError(f"{run} is not a keras-seq run directory (foreign config.json)")
    return config


def load_run(run):
    """(config, model, source_tokenizer, target_tokenizer) of a finished run."""
    config = load_config(run)
    path = os.path.join(run, MODEL)
    if not os.path.exists(path):
        raise CLIError(f"{run} has no {MODEL}: training has not finished")
    try:
        model = keras.saving.load_model(path)
    except Exception as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CLIError(f"cannot load {path}: corrupt or foreign model file ({reason})") from None
    tokenizers = [
        load_tokenizer(config["tokenizers"][side], os.path.join(run, VOCABS[side]))
        for side in ("source", "target")
    ]
    return config, model, tokenizers[0], tokenizers[1]


def save_model(model, run):
    """Save model.keras atomically."""
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".keras", dir=run)
    os.close(fd)
    try:
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


def remove_backup(run):
    """Remove the training backup of a finished run."""
    shutil.rmtree(os.path.join(run, BACKUP), ignore_errors=True)

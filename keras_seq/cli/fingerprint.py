"""Fingerprints that tie a run directory to its data and vocabularies.

`keras-seq train` stores them in the run's config.json before anything
else; resume, evaluate, predict and export recompute them and refuse a run
whose data or vocabulary files changed, naming what changed.
"""

from keras_seq.cli.errors import CLIError
from keras_seq.text.vocabulary import json_fingerprint, vocabulary_fingerprint

SPLITS = ("train", "validation", "test")
SIDES = ("source", "target")


def of_vocabulary(tokenizer):
    """The fingerprint of a tokenizer's vocabulary (tokens in id order)."""
    return vocabulary_fingerprint(tokenizer.vocabulary)


def of_task(task):
    """`{"data": {split: fp}, "vocabulary": {side: fp}}` of a loaded task."""
    return {
        "data": {split: json_fingerprint([task.sources.get(split, []),
                                 task.references.get(split, [])])
                 for split in SPLITS},
        "vocabulary": {side: of_vocabulary(getattr(task, f"{side}_tokenizer"))
                       for side in SIDES},
    }


def check_task(config, task, run):
    """Refuse a task whose data or vocabularies differ from the run's.

    Raises:
        CLIError: naming the first split or vocabulary that changed.
    """
    stored = _stored(config, run)
    found = of_task(task)
    for split in SPLITS:
        if stored["data"].get(split) != found["data"][split]:
            raise CLIError(
                f"the {split} split of the data differs from the one {run} was "
                f"trained on (the data files changed since): restore them or "
                "train a new run")
    for side in SIDES:
        if stored["vocabulary"].get(side) != found["vocabulary"][side]:
            raise CLIError(
                f"the {side} vocabulary built from the data differs from the "
                f"one {run} was trained on (same data, other symbol order or "
                "content): restore the data or train a new run")


def check_vocabulary(config, side, tokenizer, path, run):
    """Refuse a vocabulary file that is not the one the run was trained with.

    Raises:
        CLIError: naming the file.
    """
    if _stored(config, run)["vocabulary"].get(side) != of_vocabulary(tokenizer):
        raise CLIError(
            f"{path} is not the {side} vocabulary of {run} (its "
            "tokens or their order changed): restore the original file")


def _stored(config, run):
    stored = config.get("fingerprint")
    if (not isinstance(stored, dict) or not isinstance(stored.get("data"), dict)
            or not isinstance(stored.get("vocabulary"), dict)):
        raise CLIError(
            f"{run} has no data fingerprint in its config.json (written by an "
            "older keras-seq, or edited): train it again to use it here")
    return stored

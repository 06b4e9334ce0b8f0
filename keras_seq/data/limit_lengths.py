"""Drop the training examples a model with fixed positions cannot read."""

import numpy as np

from keras_seq.arguments import check_int
from keras_seq.data import _build


def limit_lengths(task, max_length):
    """A copy of `task` whose train and validation examples fit `max_length`.

    A Transformer reads at most `max_length` positions: a source of more
    tokens, or a target of more than `max_length - 1` (BOS + target and
    target + EOS have one more), cannot go through it. Such examples are
    **dropped**, not truncated: a truncated target would teach the model to
    stop mid-word. A source keeps the references that fit and is dropped
    when none does. The test split is kept whole (decoding truncates a
    source to the model's positions, as the exports do), so scores stay
    comparable.

    Args:
        task: `keras_seq.data.Task`.
        max_length: int >= 2. The model's positions.

    Returns:
        `(task, dropped)`: the new task (the same object when nothing is
        dropped) and `{"train": n, "validation": n}`, the number of
        (source, reference) pairs dropped from each split.

    Example:

    >>> task, dropped = limit_lengths(task, 512)  # doctest: +SKIP
    """
    max_length = check_int("max_length", max_length, 2)
    sources, references = dict(task.sources), dict(task.references)
    dropped = {}
    for split in ("train", "validation"):
        texts = sources.get(split, [])
        if not texts:
            dropped[split] = 0
            continue
        source_fits = _lengths(task.source_tokenizer, texts) <= max_length
        flat = [t for refs in references[split] for t in refs]
        target_fits = iter(_lengths(task.target_tokenizer, flat) + 1 <= max_length)
        kept_sources, kept_references, count = [], [], 0
        for source, refs, fits in zip(texts, references[split], source_fits):
            kept = [t for t in refs if next(target_fits) and fits]
            count += len(refs) - len(kept)
            if kept:
                kept_sources.append(source)
                kept_references.append(kept)
        sources[split], references[split] = kept_sources, kept_references
        dropped[split] = count
    if not any(dropped.values()):
        return task, dropped
    if not sources["train"]:
        raise ValueError(
            f"Every training example is longer than max_length={max_length} "
            "tokens; nothing is left to train on. Use a larger max_length.")
    config = task.config
    new = _build.build_task(
        task.name, sources, references, task.source_tokenizer, task.target_tokenizer,
        batch_size=config.get("batch_size", 64), seed=config.get("seed", 0),
        config=config)
    return new, dropped


def _lengths(tokenizer, texts):
    """Tokens per text, as an int array."""
    ids = np.asarray(tokenizer.tokenize(texts))
    return (ids != 0).sum(axis=1) if ids.size else np.zeros(len(texts), int)

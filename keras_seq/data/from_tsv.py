"""A tab-separated file of (source, target) pairs as a task."""

import os

from keras_seq.data import _parallel_text


def from_tsv(
    path,
    tokenizer="char",
    validation_fraction=0.1,
    test_fraction=0.1,
    seed=0,
    batch_size=64,
    vocab_size=None,
):
    """Build a task from a TSV file: one `source<TAB>target` pair per line.

    The file is UTF-8 with "\\n" or "\\r\\n" line breaks (a byte order mark
    is ignored) and exactly one tab per line; there is no header and no
    quoting. Several lines with the same source give it several references
    (identical lines count once). The distinct sources are split at random
    (seeded) into train, validation and test, so a source and its
    references stay in one split; each split keeps the file's order. The
    tokenizers' vocabularies are counted from the training split.

    Args:
        path: str or path-like. The TSV file.
        tokenizer: str. `"char"`, `"symbol"` or `"wordpiece"`, as in
            `keras_seq.data.from_files`. Defaults to `"char"`.
        validation_fraction: float in [0, 1). Share of the distinct sources
            used for validation. Defaults to `0.1`.
        test_fraction: float in [0, 1). Share of the distinct sources used
            for test. Defaults to `0.1`.
        seed: int. Seeds the split and the training shuffle. Defaults to
            `0`.
        batch_size: int. Examples per batch. Defaults to `64`.
        vocab_size: int or `None`. Largest vocabulary per side, as in
            `keras_seq.data.from_files`. Defaults to `None`.

    Returns:
        A `keras_seq.data.Task` named `"tsv"`.

    Raises:
        ValueError: naming the file when it is empty, and the file and line
            when a line is not valid UTF-8, has no tab or more than one, or
            has an empty source or target.

    Example:

    >>> task = keras_seq.data.from_tsv(
    ...     "lexicon.tsv", tokenizer="char")  # doctest: +SKIP
    """
    path = os.fspath(path)
    pairs = []
    for number, line in enumerate(_parallel_text.read_lines(path), start=1):
        columns = line.split("\t")
        if len(columns) != 2:
            found = "no tab" if len(columns) == 1 else f"{len(columns) - 1} tabs"
            raise ValueError(
                f"Line {number} of {path!r} has {found}; expected two columns, "
                f"source<TAB>target. Received: {line!r:.80}"
            )
        source, target = columns
        _parallel_text.check_not_blank(source, path, number, "source")
        _parallel_text.check_not_blank(target, path, number, "target")
        pairs.append((source, target))
    config = {
        "task": "tsv",
        "path": path,
        "tokenizer": tokenizer,
        "validation_fraction": validation_fraction,
        "test_fraction": test_fraction,
        "seed": seed,
        "batch_size": batch_size,
        "vocab_size": vocab_size,
    }
    return _parallel_text.task_from_pairs(
        "tsv",
        pairs,
        tokenizer=tokenizer,
        vocab_size=vocab_size,
        validation_fraction=validation_fraction,
        test_fraction=test_fraction,
        seed=seed,
        batch_size=batch_size,
        config=config,
    )

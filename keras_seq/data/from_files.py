"""Parallel text files as a task."""

import os

from keras_seq.data import _parallel_text


def from_files(
    source_path,
    target_path,
    tokenizer="char",
    validation_fraction=0.1,
    test_fraction=0.1,
    seed=0,
    batch_size=64,
    vocab_size=None,
):
    """Build a task from two parallel text files, one example per line.

    Line i of `source_path` is the source of line i of `target_path`.
    Files are UTF-8 with "\\n" or "\\r\\n" line breaks; a byte order mark is
    ignored. A source on several lines has all their targets as references
    (identical pairs count once). The distinct sources are split at random
    (seeded) into train, validation and test, so a source and its
    references stay in one split; each split keeps the files' order. The
    tokenizers' vocabularies are counted from the training split.

    Args:
        source_path: str or path-like. The source file.
        target_path: str or path-like. The target file, with as many lines.
        tokenizer: str. How both sides are split into tokens: `"char"`
            (characters), `"symbol"` (whitespace-separated symbols) or
            `"wordpiece"` (subwords, vocabulary trained on the training
            split; see `keras_seq.text.WordPieceTokenizer`). Defaults to
            `"char"`.
        validation_fraction: float in [0, 1). Share of the distinct sources
            used for validation (at least one when above 0). Defaults to
            `0.1`.
        test_fraction: float in [0, 1). Share of the distinct sources used
            for test (at least one when above 0). Defaults to `0.1`.
        seed: int. Seeds the split and the training shuffle. Defaults to
            `0`.
        batch_size: int. Examples per batch. Defaults to `64`.
        vocab_size: int or `None`. Largest vocabulary per side, the four
            special tokens included. Defaults to `None`: no limit for
            `"char"` and `"symbol"`, 8000 for `"wordpiece"`.

    Returns:
        A `keras_seq.data.Task` named `"files"`.

    Raises:
        ValueError: naming both files and their line counts when these
            differ; naming the file when it is empty; naming the file and
            line when a line is not valid UTF-8 or is blank.

    Example:

    >>> task = keras_seq.data.from_files(
    ...     "train.words", "train.phones", tokenizer="symbol")  # doctest: +SKIP
    """
    source_path, target_path = os.fspath(source_path), os.fspath(target_path)
    source_lines = _parallel_text.read_lines(source_path)
    target_lines = _parallel_text.read_lines(target_path)
    if len(source_lines) != len(target_lines):
        raise ValueError(
            "The source and target files must have the same number of lines. "
            f"Received: {source_path!r} with {len(source_lines)} lines and "
            f"{target_path!r} with {len(target_lines)} lines."
        )
    for number, (source, target) in enumerate(
        zip(source_lines, target_lines), start=1
    ):
        _parallel_text.check_not_blank(source, source_path, number, "source")
        _parallel_text.check_not_blank(target, target_path, number, "target")
    config = {
        "task": "files",
        "source_path": source_path,
        "target_path": target_path,
        "tokenizer": tokenizer,
        "validation_fraction": validation_fraction,
        "test_fraction": test_fraction,
        "seed": seed,
        "batch_size": batch_size,
        "vocab_size": vocab_size,
    }
    return _parallel_text.task_from_pairs(
        "files",
        list(zip(source_lines, target_lines)),
        tokenizer=tokenizer,
        vocab_size=vocab_size,
        validation_fraction=validation_fraction,
        test_fraction=test_fraction,
        seed=seed,
        batch_size=batch_size,
        config=config,
    )

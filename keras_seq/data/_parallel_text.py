"""Reading the user's parallel text, and building a task from its pairs."""

import os

from keras_seq.data import _arguments
from keras_seq.data import _build
from keras_seq.text.char_tokenizer import CharTokenizer
from keras_seq.text.symbol_tokenizer import SymbolTokenizer

TOKENIZERS = ("char", "symbol", "wordpiece")
# WordPiece vocabulary size when `vocab_size` is not given.
DEFAULT_WORDPIECE_SIZE = 8000


def read_lines(path):
    """Read a UTF-8 text file as a list of lines, without line breaks.

    Lines end with "\\n" (a "\\r" before it is dropped too); a final line
    break doesn't start an empty line; a UTF-8 byte order mark at the start
    is ignored.

    Raises:
        ValueError: naming the file when it is empty, and the file and line
            when a line is not valid UTF-8.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        data = f.read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise ValueError(f"The file {path!r} is empty: it holds no lines of text.")
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    texts = []
    for number, line in enumerate(lines, start=1):
        if line.endswith(b"\r"):
            line = line[:-1]
        try:
            texts.append(line.decode("utf-8"))
        except UnicodeDecodeError as error:
            raise ValueError(
                f"Line {number} of {path!r} is not valid UTF-8 ({error.reason} "
                f"at byte {error.start} of the line). Convert the file to "
                "UTF-8 (e.g. with iconv) or fix that line."
            ) from None
    return texts


def check_not_blank(text, path, number, side):
    """Raise a ValueError naming the line when `text` holds only whitespace."""
    if not text.strip():
        raise ValueError(
            f"Line {number} of {path!r} has an empty {side}; every example "
            "needs a source and a target. Remove the line (from both files "
            "for parallel files) or fill it in."
        )


def make_tokenizer(kind, texts, vocab_size):
    """Build a tokenizer of `kind` whose vocabulary is counted from `texts`."""
    if kind == "wordpiece":
        from keras_seq.data.wordpiece_tokenizer import WordPieceTokenizer

        size = DEFAULT_WORDPIECE_SIZE if vocab_size is None else vocab_size
        return WordPieceTokenizer.from_corpus(texts, max_size=size)
    tokenizer_class = CharTokenizer if kind == "char" else SymbolTokenizer
    return tokenizer_class.from_corpus(texts, max_size=vocab_size)


def task_from_pairs(
    name, pairs, tokenizer, vocab_size, validation_fraction, test_fraction,
    seed, batch_size, config,
):
    """Group pairs by source, split by source, and build the `Task`.

    The tokenizers' vocabularies are counted from the training split only,
    so validation and test measure what unseen text does.
    """
    _arguments.check_choice("tokenizer", tokenizer, TOKENIZERS)
    if vocab_size is not None:
        vocab_size = _arguments.check_int("vocab_size", vocab_size, 5)
    seed = _arguments.check_int("seed", seed, 0)
    sources, references = _build.group_references(pairs)
    indices = _build.split_indices(
        len(sources), validation_fraction, test_fraction, seed
    )
    split_sources = {s: [sources[i] for i in ids] for s, ids in indices.items()}
    split_references = {s: [references[i] for i in ids] for s, ids in indices.items()}
    train_targets = [t for targets in split_references["train"] for t in targets]
    return _build.build_task(
        name,
        split_sources,
        split_references,
        make_tokenizer(tokenizer, split_sources["train"], vocab_size),
        make_tokenizer(tokenizer, train_targets, vocab_size),
        batch_size=batch_size,
        seed=seed,
        config=config,
    )

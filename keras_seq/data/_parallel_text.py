"""Reading the user's parallel text, and building a task from its pairs."""

import os
import unicodedata

from keras_seq.arguments import check_choice, check_int
from keras_seq.data import _build
from keras_seq.text import lines
from keras_seq.text.char_tokenizer import CharTokenizer
from keras_seq.text.symbol_tokenizer import SymbolTokenizer

TOKENIZERS = ("char", "symbol", "wordpiece")
# How each tokenizer kind reads text: (Unicode normalization, lower-cased),
# the defaults of CharTokenizer, SymbolTokenizer and WordPieceTokenizer.
READS_AS = {"char": ("NFKC", False), "symbol": (None, False), "wordpiece": ("NFKC", True)}
# WordPiece vocabulary size when `vocab_size` is not given.
DEFAULT_WORDPIECE_SIZE = 8000


def read_lines(path):
    """Read a UTF-8 text file as a list of lines (`keras_seq.text.lines`).

    Raises:
        ValueError: naming the file when it is empty, and the file and line
            when a line is not valid UTF-8.
    """
    path = os.fspath(path)
    texts = lines.read_lines(path)
    if not any(text.strip() for text in texts):
        raise ValueError(f"The file {path!r} is empty: it holds no lines of text.")
    return texts


def check_not_blank(text, path, number, side):
    """Raise a ValueError naming the line when `text` holds only whitespace."""
    if not text.strip():
        raise ValueError(
            f"Line {number} of {path!r} has an empty {side}; every example "
            "needs a source and a target. Remove the line (from both files "
            "for parallel files) or fill it in."
        )


def normalize(text, form):
    """`text` in Unicode normalization `form` ("NFKC" or None: unchanged)."""
    return unicodedata.normalize(form, text) if form else text


def make_tokenizer(kind, texts, vocab_size):
    """Build a tokenizer of `kind` whose vocabulary is counted from `texts`."""
    if kind == "wordpiece":
        from keras_seq.text.wordpiece_tokenizer import WordPieceTokenizer

        size = DEFAULT_WORDPIECE_SIZE if vocab_size is None else vocab_size
        return WordPieceTokenizer.from_corpus(texts, max_size=size)
    tokenizer_class = CharTokenizer if kind == "char" else SymbolTokenizer
    return tokenizer_class.from_corpus(texts, max_size=vocab_size)


def task_from_pairs(
    name, pairs, tokenizer, vocab_size, validation_fraction, test_fraction,
    seed, batch_size, config,
):
    """Group pairs by source, split by source, and build the `Task`.

    Texts are normalized as the tokenizer reads them (NFKC for "char" and
    "wordpiece", none for "symbol"; WordPiece also lower-cases), and
    sources equal after that are one source, so a split never holds a
    source that another split holds in another spelling.

    The tokenizers' vocabularies are counted from the training split only,
    so validation and test measure what unseen text does.
    """
    check_choice("tokenizer", tokenizer, TOKENIZERS)
    if vocab_size is not None:
        vocab_size = check_int("vocab_size", vocab_size, 5)
    seed = check_int("seed", seed, 0)
    # The texts as the tokenizer reads them, and sources it reads the same
    # grouped into one: no source of training reappears in validation/test.
    form, lowercase = READS_AS[tokenizer]
    pairs = [(normalize(source, form), normalize(target, form)) for source, target in pairs]
    sources, references = _build.group_references(
        pairs, key=(lambda source: source.lower()) if lowercase else None)
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

"""Vocabulary checks, ranking and files shared by the tokenizers.

A vocabulary is a list of distinct, non-empty strings whose first four
entries are the special tokens `keras_seq.constants.SPECIAL_TOKENS`, so that
a token's position is its id (PAD=0, UNK=1, BOS=2, EOS=3). On disk it is a
UTF-8 text file with one token per line, in id order.
"""

import collections
import hashlib
import itertools
import json
import os
import tempfile

import tensorflow as tf

from keras_seq.arguments import check_int
from keras_seq.constants import SPECIAL_TOKENS
from keras_seq.text import lines

# What invalid UTF-8 becomes; never counted into a vocabulary.
_REPLACEMENT_CHARACTER = "\ufffd"
# Texts split per TF call while counting a corpus.
_CORPUS_CHUNK = 1024

# Tokens written to a file can't hold the characters that end a line.
_LINE_BREAKS = ("\n", "\r")


def vocabulary_problem(tokens, check_token, where):
    """Describe the first thing wrong with `tokens`, or return `None`.

    Args:
        tokens: list of str. The candidate vocabulary.
        check_token: callable. Takes a non-special token and returns a
            phrase saying why it can't be in the vocabulary, or `None`.
        where: callable. Takes an index and returns how a message names
            that position (e.g. `"vocabulary[5]"` or `"line 6"`).

    Returns:
        A sentence naming the position of the first problem, or `None` when
        the vocabulary is valid.
    """
    for i, special in enumerate(SPECIAL_TOKENS):
        if i >= len(tokens) or tokens[i] != special:
            received = repr(tokens[i]) if i < len(tokens) else "nothing"
            return (
                f"{where(i)} must be the special token {special!r} (the "
                f"first four tokens must be {SPECIAL_TOKENS}, in this "
                f"order). Received: {received}"
            )
    first_seen = {}
    for i, token in enumerate(tokens):
        if not isinstance(token, str):
            return f"{where(i)} must be a string. Received: {token!r}"
        if not token:
            return f"{where(i)} is an empty string; tokens can't be empty."
        try:
            token.encode("utf-8")
        except UnicodeEncodeError:
            return f"{where(i)} is {token!r}, which is not valid Unicode text."
        if token in first_seen:
            return (
                f"{where(i)} repeats the token {token!r} of "
                f"{where(first_seen[token])}; tokens must be distinct."
            )
        first_seen[token] = i
        if i >= len(SPECIAL_TOKENS):
            reason = check_token(token)
            if reason is not None:
                return f"{where(i)} is {token!r}: {reason}"
    return None


def vocabulary_from_corpus(texts, pieces_fn, min_count=1, max_size=None):
    """Count the tokens of `texts` and rank them into a vocabulary.

    Args:
        texts: iterable of str or bytes. The corpus, one text per item.
        pieces_fn: callable. Takes a string tensor [B] and returns its
            tokens as a ragged string tensor [B, None].
        min_count: int. As in `rank_tokens`. Defaults to `1`.
        max_size: int or `None`. As in `rank_tokens`. Defaults to `None`.

    Returns:
        The vocabulary, as `rank_tokens` orders it; U+FFFD is left out.
    """
    if isinstance(texts, (str, bytes)):
        raise TypeError(
            "Invalid value for argument `texts`. Expected an iterable of "
            "strings (e.g. a list of sentences), not a single string. "
            f"Received: texts={texts!r:.80}"
        )
    min_count = check_int("min_count", min_count)
    max_size = check_int("max_size", max_size, len(SPECIAL_TOKENS), allow_none=True,
                         note="the special tokens count towards it")
    counts = collections.Counter()
    texts = iter(texts)
    while chunk := list(itertools.islice(texts, _CORPUS_CHUNK)):
        pieces = pieces_fn(tf.constant(chunk, tf.string))  # (B, None)
        counts.update(t.decode("utf-8") for t in pieces.flat_values.numpy())
    counts.pop(_REPLACEMENT_CHARACTER, None)
    return rank_tokens(counts, min_count, max_size)


def rank_tokens(counts, min_count=1, max_size=None):
    """Order counted tokens for a vocabulary, specials first.

    Args:
        counts: mapping of str to int. How often each token was seen.
            Special tokens in it are ignored (they always come first).
        min_count: int. Tokens seen fewer times are dropped. Defaults to `1`.
        max_size: int or `None`. Largest vocabulary size, the four special
            tokens included. Defaults to `None` (no limit).

    Returns:
        The vocabulary: the special tokens, then the kept tokens by count
        (most frequent first), ties broken by the token's code points.
    """
    ranked = sorted(
        (
            (-count, token)
            for token, count in counts.items()
            if count >= min_count and token not in SPECIAL_TOKENS
        )
    )
    tokens = [token for _, token in ranked]
    if max_size is not None:
        tokens = tokens[: max_size - len(SPECIAL_TOKENS)]
    return list(SPECIAL_TOKENS) + tokens


def read_vocabulary_file(path, check_token):
    """Read a vocabulary file: UTF-8, one token per line, in id order.

    Lines end with "\\n" (a "\\r" before it is dropped too); a UTF-8 byte
    order mark at the start of the file is ignored.

    Args:
        path: str or path-like. The file to read.
        check_token: callable. As in `vocabulary_problem`.

    Returns:
        The list of tokens.

    Raises:
        ValueError: naming the path and the line when the file is not a
            valid vocabulary.
    """
    path = os.fspath(path)
    try:
        tokens = lines.read_lines(path)
    except lines.LineNotUTF8Error as error:
        raise ValueError(
            f"Invalid vocabulary file {path!r}: line {error.number} is not "
            f"valid UTF-8 ({error.detail})."
        ) from None
    problem = vocabulary_problem(tokens, check_token, lambda i: f"line {i + 1}")
    if problem is not None:
        raise ValueError(f"Invalid vocabulary file {path!r}: {problem}")
    return tokens


def write_vocabulary_file(path, tokens):
    """Write `tokens` to `path`, one per line, atomically.

    The tokens go to a temporary file in the same folder, which then replaces
    `path` with `os.replace`: a reader sees the old file or the new one,
    never a partial one.

    Args:
        path: str or path-like. The file to write.
        tokens: list of str. The vocabulary, in id order.

    Raises:
        ValueError: when a token holds a line break, which the format can't
            store.
    """
    path = os.fspath(path)
    for i, token in enumerate(tokens):
        if any(brk in token for brk in _LINE_BREAKS):
            raise ValueError(
                f"Can't save the vocabulary to {path!r}: token {i} is "
                f"{token!r}, and a vocabulary file holds one token per line, "
                "so tokens can't contain line breaks. Remove it from the "
                "vocabulary (e.g. replace line breaks in the corpus with "
                "spaces before `from_corpus`)."
            )
    folder = os.path.dirname(os.path.abspath(path))
    fd, temp_path = tempfile.mkstemp(
        dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp"
    )
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write("".join(token + "\n" for token in tokens))
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes the file private (0600); give it the mode a plain
        # write would have, or keep the mode of the file it replaces.
        mode = os.stat(path).st_mode if os.path.exists(path) else 0o644
        os.chmod(temp_path, mode & 0o777)
        os.replace(temp_path, path)
    except BaseException:
        if os.path.exists(temp_path):
            os.remove(temp_path)
        raise


def json_fingerprint(value):
    """`"sha256:..."` of a JSON-serialisable value (compact, UTF-8)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def vocabulary_fingerprint(tokens):
    """`"sha256:..."` of a vocabulary's tokens in id order: equal exactly
    when the tokens and their order are."""
    return json_fingerprint(list(tokens))

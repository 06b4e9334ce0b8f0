"""Exact match and edit-distance error rates over decoded strings.

These follow the grapheme-to-phoneme convention (CMUdict): an item is
correct when its prediction equals any of its references, and the token
error rate measures each prediction against its closest reference.
Predictions and references are compared as given: normalise whitespace or
case before calling if that should not count.
"""

from keras_seq.metrics._inputs import check_corpus
from keras_seq.metrics._inputs import check_tokenize
from keras_seq.metrics._inputs import split_tokens
from keras_seq.metrics.edit_distance import edit_distance


def exact_match(predictions, references):
    """Fraction of predictions equal to one of their references.

    Args:
        predictions: list of str. One decoded output per item.
        references: list with, per item, a non-empty list of acceptable
            outputs, or a single string meaning one reference.

    Returns:
        float in [0, 1].

    Raises:
        ValueError: when the lengths differ, an item has no reference, or
            the corpus is empty (a score over nothing is undefined).

    Example:

    >>> keras_seq.metrics.exact_match(
    ...     ["R IY1 D", "K AE1 T"], [["R EH1 D", "R IY1 D"], ["K AA1 T"]])
    0.5
    """
    predictions, references = check_corpus(predictions, references)
    correct = sum(p in refs for p, refs in zip(predictions, references))
    return correct / len(predictions)


def word_error_rate(predictions, references):
    """Word error rate in the G2P sense, in percent.

    A "word" is one whole output sequence: it is wrong unless it equals one
    of its references, so WER = 100 * wrong items / items
    = 100 * (1 - exact match).

    Args:
        predictions: list of str. One decoded output per item.
        references: list with, per item, a non-empty list of acceptable
            outputs, or a single string meaning one reference.

    Returns:
        float in [0, 100].

    Raises:
        ValueError: when the lengths differ, an item has no reference, or
            the corpus is empty.

    Example:

    >>> keras_seq.metrics.word_error_rate(
    ...     ["R IY1 D", "K AE1 T"], [["R EH1 D", "R IY1 D"], ["K AA1 T"]])
    50.0
    """
    return 100.0 * (1.0 - exact_match(predictions, references))


def closest_reference(prediction, references, tokenize="symbols"):
    """The reference with the fewest edits from `prediction`.

    Ties on edit distance go to the longest reference (the lowest error
    rate for that item, and for the corpus sum), then to the first given.

    Args:
        prediction: str.
        references: non-empty list of str.
        tokenize: `"symbols"` (split on whitespace) or `"chars"`.
            Defaults to `"symbols"`.

    Returns:
        Tuple `(edits, reference_length)` in tokens.
    """
    hypothesis = split_tokens(prediction, tokenize)
    best = None
    for ref in references:
        tokens = split_tokens(ref, tokenize)
        key = (edit_distance(hypothesis, tokens), -len(tokens))
        if best is None or key < best:
            best = key
    return best[0], -best[1]


def token_error_rate(predictions, references, tokenize="symbols"):
    """Token error rate (PER over symbols, CER over characters), in percent.

    Each prediction is scored against its closest reference (see
    `closest_reference`: fewest edits, ties to the longest reference), and
    the rate is pooled over the corpus:
    100 * sum of edits / sum of the chosen references' lengths.

    Args:
        predictions: list of str. One decoded output per item.
        references: list with, per item, a non-empty list of acceptable
            outputs, or a single string meaning one reference.
        tokenize: `"symbols"` splits on whitespace (phoneme error rate for
            G2P, word-level for text); `"chars"` uses every character,
            spaces included (character error rate). Defaults to
            `"symbols"`.

    Returns:
        float, at least 0 (above 100 when predictions are much longer than
        their references).

    Raises:
        ValueError: when the lengths differ, an item has no reference, the
            corpus is empty, or every chosen reference is empty.

    Example:

    >>> keras_seq.metrics.token_error_rate(
    ...     ["HH AH0 L OW1"], [["HH EH1 L OW1", "HH AH0 L OW0"]])
    25.0
    >>> keras_seq.metrics.token_error_rate(["kitten"], ["sitting"],
    ...                                    tokenize="chars")  # 3 / 7
    42.857142857142854
    """
    check_tokenize(tokenize)
    predictions, references = check_corpus(predictions, references)
    total_edits = total_length = 0
    for prediction, refs in zip(predictions, references):
        edits, length = closest_reference(prediction, refs, tokenize)
        total_edits += edits
        total_length += length
    if total_length == 0:
        raise ValueError(
            "Invalid value for argument `references`. The token error rate "
            "is undefined when every chosen reference is empty. Received: "
            f"references with no tokens under tokenize={tokenize!r}"
        )
    return 100.0 * total_edits / total_length

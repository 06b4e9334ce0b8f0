"""Corpus BLEU through sacrebleu, with any number of references per item."""

from keras_seq.metrics._inputs import check_corpus


def reference_streams(references):
    """Turn per-item reference lists into sacrebleu's reference streams.

    sacrebleu takes one stream per reference position, each as long as the
    corpus. Items with fewer references than the most have `None` in the
    streams they lack; sacrebleu drops `None` entries (an empty string
    would instead count as a real, empty reference).

    Args:
        references: list of non-empty lists of str.

    Returns:
        list of lists: `max(len(refs))` streams of `len(references)` entries.
    """
    count = max(len(refs) for refs in references)
    return [
        [refs[k] if k < len(refs) else None for refs in references]
        for k in range(count)
    ]


def corpus_bleu(predictions, references):
    """Corpus BLEU with sacrebleu's defaults (13a tokenisation, exp smoothing).

    For text tasks (translation, paraphrase); for G2P prefer the error
    rates. Requires the `sacrebleu` package (`pip install sacrebleu`).

    Args:
        predictions: list of str. One detokenised output per item.
        references: list with, per item, a non-empty list of references
            (their number may vary between items), or a single string
            meaning one reference.

    Returns:
        float. BLEU in [0, 100]; 100 for a corpus that matches exactly.

    Raises:
        ValueError: when the lengths differ, an item has no reference, or
            the corpus is empty.
        ImportError: when sacrebleu is not installed.

    Example:

    >>> keras_seq.metrics.corpus_bleu(
    ...     ["the cat sat on the mat"],
    ...     [["the cat sat on the mat", "a cat sat on the mat"]])
    100.0
    """
    predictions, references = check_corpus(predictions, references)
    try:
        import sacrebleu
    except ImportError as error:
        raise ImportError(
            "`keras_seq.metrics.corpus_bleu` requires sacrebleu. Install it "
            "with `pip install sacrebleu`."
        ) from error
    streams = reference_streams(references)
    return float(sacrebleu.corpus_bleu(predictions, streams).score)

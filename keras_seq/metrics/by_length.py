"""String metrics by source-length bucket, and a markdown table of rows."""

import math

from keras_seq.metrics._inputs import check_corpus
from keras_seq.metrics._inputs import check_strings
from keras_seq.metrics._inputs import check_tokenize
from keras_seq.metrics._inputs import split_tokens
from keras_seq.metrics.bleu import corpus_bleu
from keras_seq.metrics.error_rates import exact_match
from keras_seq.metrics.error_rates import token_error_rate
from keras_seq.metrics.error_rates import word_error_rate

METRICS = ("exact_match", "wer", "ter", "bleu")


def default_buckets(lengths, max_buckets=10):
    """Upper bounds of width-5 buckets covering `lengths`.

    The width grows in steps of 5 until at most `max_buckets` buckets cover
    the longest length: lengths up to 50 give `[5, 10, ...]`, up to 100
    give `[10, 20, ...]`, and so on.

    Args:
        lengths: list of int.
        max_buckets: int. Defaults to `10`.

    Returns:
        list of int. Increasing inclusive upper bounds.
    """
    longest = max(max(lengths), 1)
    width = 5 * math.ceil(longest / (5 * max_buckets))
    return list(range(width, width * math.ceil(longest / width) + 1, width))


def _check_buckets(buckets):
    if (
        not isinstance(buckets, (list, tuple))
        or not buckets
        or any(isinstance(b, bool) or not isinstance(b, int) or b < 0 for b in buckets)
        or any(lo >= hi for lo, hi in zip(buckets, buckets[1:]))
    ):
        raise ValueError(
            "Invalid value for argument `buckets`. Expected a non-empty list "
            "of increasing non-negative ints (inclusive upper bounds), or "
            f"None. Received: buckets={buckets!r}"
        )
    return list(buckets)


def _check_metrics(metrics):
    if isinstance(metrics, str) or not metrics or any(m not in METRICS for m in metrics):
        raise ValueError(
            "Invalid value for argument `metrics`. Expected a non-empty "
            f"tuple with names from {set(METRICS)}. Received: metrics={metrics!r}"
        )
    return tuple(metrics)


def by_length(
    sources,
    predictions,
    references,
    buckets=None,
    tokenize="chars",
    target_tokenize=None,
    metrics=("exact_match", "wer", "ter"),
):
    """Exact match, WER, token error rate (and BLEU) per source-length bucket.

    Source lengths count characters (`tokenize="chars"`) or
    whitespace-separated symbols (`"symbols"`). Bucket `i` holds lengths in
    `(buckets[i-1], buckets[i]]`; the first starts at 1 (0 when some source
    is empty), and sources longer than the last bound go to a final
    `"N+"` bucket. Empty buckets are left out, so every row has `count > 0`.

    Args:
        sources: list of str. The model inputs, one per item.
        predictions: list of str. One decoded output per item.
        references: list with, per item, a non-empty list of acceptable
            outputs, or a single string meaning one reference.
        buckets: list of int, increasing inclusive upper bounds, or `None`
            for `default_buckets` (width 5, widened in steps of 5 to at
            most 10 buckets). Defaults to `None`.
        tokenize: `"chars"` or `"symbols"`: how to measure source length.
            Defaults to `"chars"`.
        target_tokenize: `"chars"`, `"symbols"` or `None`: how `"ter"`
            splits outputs; `None` uses `tokenize`. For G2P (letters in,
            phonemes out) pass `tokenize="chars", target_tokenize="symbols"`.
            Defaults to `None`.
        metrics: tuple of names from `"exact_match"` (fraction),
            `"wer"`, `"ter"` and `"bleu"` (percent; BLEU needs sacrebleu).
            Defaults to `("exact_match", "wer", "ter")`.

    Returns:
        list of dict, one per non-empty bucket in length order:
        `{"bucket": "1-5", "count": n, <metric>: value, ...}`.

    Example:

    >>> rows = keras_seq.metrics.by_length(
    ...     ["cat", "spelling"], ["K AE1 T", "S P EH1 L IH0 NG"],
    ...     [["K AE1 T"], ["S P EH1 L IH0 NG"]], target_tokenize="symbols")
    >>> print(keras_seq.metrics.format_table(rows))
    >>> keras_seq.viz.plot_length_curve(
    ...     {"model": ([r["bucket"] for r in rows],
    ...                [r["exact_match"] for r in rows])}, "by_length.png")
    """
    check_tokenize(tokenize)
    if target_tokenize is None:
        target_tokenize = tokenize
    check_tokenize(target_tokenize, "target_tokenize")
    metrics = _check_metrics(metrics)
    predictions, references = check_corpus(predictions, references)
    sources = check_strings(sources, "sources")
    if len(sources) != len(predictions):
        raise ValueError(
            "Arguments `sources` and `predictions` must have the same length. "
            f"Received: len(sources)={len(sources)}, "
            f"len(predictions)={len(predictions)}"
        )
    lengths = [len(split_tokens(s, tokenize)) for s in sources]
    bounds = default_buckets(lengths) if buckets is None else _check_buckets(buckets)
    scorers = {
        "exact_match": exact_match,
        "wer": word_error_rate,
        "ter": lambda p, r: token_error_rate(p, r, tokenize=target_tokenize),
        "bleu": corpus_bleu,
    }
    ranges = []
    low = 0 if min(lengths) == 0 else 1
    for high in bounds:
        ranges.append((min(low, high), high))
        low = high + 1
    ranges.append((low, None))
    rows = []
    for low, high in ranges:
        members = [
            i for i, n in enumerate(lengths) if low <= n and (high is None or n <= high)
        ]
        if not members:
            continue
        if high is None:
            label = f"{low}+"
        else:
            label = str(low) if low == high else f"{low}-{high}"
        row = {"bucket": label, "count": len(members)}
        bucket_predictions = [predictions[i] for i in members]
        bucket_references = [references[i] for i in members]
        for name in metrics:
            row[name] = scorers[name](bucket_predictions, bucket_references)
        rows.append(row)
    return rows


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def format_table(rows):
    """A markdown table of dict rows (e.g. from `by_length`).

    Columns follow the keys in order of first appearance; a row missing a
    key gets an empty cell. Floats print with 3 decimals; columns holding
    only numbers are right-aligned, the others left-aligned.

    Args:
        rows: non-empty list of dict.

    Returns:
        str. The table, one line per row after the header and delimiter
        lines, without a trailing newline.

    Example:

    >>> print(keras_seq.metrics.format_table(
    ...     [{"bucket": "1-5", "count": 3, "wer": 33.3333}]))
    | bucket | count |    wer |
    | :----- | ----: | -----: |
    | 1-5    |     3 | 33.333 |
    """
    if (
        isinstance(rows, dict)
        or not isinstance(rows, (list, tuple))
        or not rows
        or not all(isinstance(row, dict) for row in rows)
    ):
        raise ValueError(
            "Invalid value for argument `rows`. Expected a non-empty list of "
            f"dicts. Received: rows={rows!r}"
        )
    columns = list(dict.fromkeys(key for row in rows for key in row))
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    numeric = [
        all(
            isinstance(row.get(c), (int, float)) and not isinstance(row.get(c), bool)
            for row in rows
            if row.get(c) is not None
        )
        for c in columns
    ]
    widths = [
        max(3, len(str(c)), *(len(line[j]) for line in cells))
        for j, c in enumerate(columns)
    ]

    def line(values):
        padded = [
            v.rjust(w) if right else v.ljust(w)
            for v, w, right in zip(values, widths, numeric)
        ]
        return "| " + " | ".join(padded) + " |"

    delimiter = [
        "-" * (w - 1) + ":" if right else ":" + "-" * (w - 1)
        for w, right in zip(widths, numeric)
    ]
    header = line([_cell(str(c)) for c in columns])
    return "\n".join([header, "| " + " | ".join(delimiter) + " |"] + [line(c) for c in cells])

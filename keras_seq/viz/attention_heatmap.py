"""Attention weights as a heatmap with token labels."""

import numpy as np

from keras_seq.viz._png import new_figure
from keras_seq.viz._png import save_png


def _check_labels(tokens, expected, name, axis):
    if isinstance(tokens, str) or not hasattr(tokens, "__len__"):
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a list of "
            f"{expected} token strings. Received: {name}={tokens!r}"
        )
    if len(tokens) != expected:
        raise ValueError(
            f"Argument `{name}` must have one label per {axis} of `weights` "
            f"({expected}). Received: len({name})={len(tokens)}"
        )
    return [str(token) for token in tokens]


def plot_attention(weights, source_tokens, target_tokens, path, title=None):
    """Save an attention heatmap as a PNG: output tokens down, source across.

    Cell `(t, s)` is the weight output token `t` gave source token `s`
    (one row of a softmax per output token). The colour scale runs from
    0 to the larger of 1 and the largest weight. Drawn with matplotlib's
    Agg canvas (no display needed); the file is written through a
    temporary file and `os.replace`, so it is never half-written.

    Args:
        weights: array-like `(T, S)`. Attention of each output token over
            the source tokens, e.g. one example and head of a decoder's
            attention scores.
        source_tokens: list of str, `S` labels for the columns.
        target_tokens: list of str, `T` labels for the rows.
        path: str or path-like. Where to write the PNG; parent folders are
            created.
        title: str or `None`. Defaults to `None`.

    Returns:
        str. The absolute path of the PNG.

    Example:

    >>> weights = np.array([[0.9, 0.1], [0.2, 0.8]])
    >>> keras_seq.viz.plot_attention(
    ...     weights, ["c", "a"], ["K", "AE1"], "attention.png")
    """
    weights = np.asarray(weights, dtype="float32")
    if weights.ndim != 2 or 0 in weights.shape:
        raise ValueError(
            "Invalid value for argument `weights`. Expected a non-empty 2-D "
            "array (T output tokens, S source tokens); slice one example and "
            f"head first. Received: weights with shape {weights.shape}"
        )
    rows, cols = weights.shape  # (T, S)
    source_tokens = _check_labels(source_tokens, cols, "source_tokens", "column")
    target_tokens = _check_labels(target_tokens, rows, "target_tokens", "row")
    # About 0.4 inch per token, within sensible limits.
    size = (min(max(0.4 * cols + 2.0, 3.0), 30.0), min(max(0.4 * rows + 1.5, 2.5), 30.0))
    figure = new_figure(size)
    axes = figure.add_subplot()
    vmax = max(1.0, float(np.nanmax(weights))) if np.isfinite(weights).any() else 1.0
    image = axes.imshow(weights, cmap="viridis", vmin=0.0, vmax=vmax, aspect="auto")
    axes.set_xticks(range(cols), labels=source_tokens, rotation=90)
    axes.set_yticks(range(rows), labels=target_tokens)
    axes.set_xlabel("source")
    axes.set_ylabel("output")
    if title is not None:
        axes.set_title(str(title))
    figure.colorbar(image, ax=axes)
    return save_png(figure, path)

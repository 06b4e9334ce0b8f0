"""A metric against source length, one line per model."""

import numpy as np

from keras_seq.viz._png import new_figure
from keras_seq.viz._png import save_png


def _check_curve(label, curve):
    if not isinstance(curve, (list, tuple)) or len(curve) != 2:
        raise ValueError(
            "Invalid value for argument `curves`. Expected each value to be "
            f"a pair (xs, ys). Received: curves[{label!r}]={curve!r}"
        )
    xs, ys = (np.asarray(values) for values in curve)
    if xs.ndim != 1 or ys.ndim != 1 or not len(xs) or len(xs) != len(ys):
        raise ValueError(
            "Invalid value for argument `curves`. Expected xs and ys as 1-D "
            "sequences of the same non-zero length. Received: "
            f"curves[{label!r}] with shapes {xs.shape} and {ys.shape}"
        )
    return xs.tolist(), ys.tolist()


def plot_length_curve(
    curves, path, xlabel="source length", ylabel="exact match", title=None
):
    """Save a line plot of a metric against source length as a PNG.

    One line with markers per entry of `curves`, with a legend. The xs may
    be numbers (e.g. bucket midpoints) or strings (e.g. the `"bucket"`
    labels of `keras_seq.metrics.by_length` rows, shown in order of first
    appearance). Drawn with matplotlib's Agg canvas; the file is written
    through a temporary file and `os.replace`.

    Args:
        curves: dict mapping a label (e.g. `"RNN"`, `"attention"`,
            `"Transformer"`) to a pair `(xs, ys)` of equal-length sequences.
        path: str or path-like. Where to write the PNG; parent folders are
            created.
        xlabel: str. Defaults to `"source length"`.
        ylabel: str. Defaults to `"exact match"`.
        title: str or `None`. Defaults to `None`.

    Returns:
        str. The absolute path of the PNG.

    Example:

    >>> keras_seq.viz.plot_length_curve(
    ...     {"RNN": ([5, 10, 15], [0.9, 0.6, 0.2]),
    ...      "attention": ([5, 10, 15], [0.95, 0.9, 0.85])},
    ...     "length_curve.png")
    """
    if not isinstance(curves, dict) or not curves:
        raise ValueError(
            "Invalid value for argument `curves`. Expected a non-empty dict "
            f"{{label: (xs, ys)}}. Received: curves={curves!r}"
        )
    checked = {label: _check_curve(label, curve) for label, curve in curves.items()}
    figure = new_figure((6.0, 4.0))
    axes = figure.add_subplot()
    for label, (xs, ys) in checked.items():
        axes.plot(xs, ys, marker="o", label=str(label))
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    if title is not None:
        axes.set_title(str(title))
    axes.grid(True, alpha=0.3)
    axes.legend()
    return save_png(figure, path)

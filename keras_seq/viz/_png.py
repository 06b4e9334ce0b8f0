"""Render a matplotlib figure to PNG bytes and write it atomically."""

import io
import os

from keras_seq.atomic import atomic_write_bytes


def new_figure(figsize):
    """A figure on the Agg canvas, outside pyplot (no global state, no GUI)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            "`keras_seq.viz` requires matplotlib. Install it with "
            "`pip install matplotlib`."
        ) from error
    figure = Figure(figsize=figsize)
    FigureCanvasAgg(figure)
    return figure


def save_png(figure, path, dpi=100):
    """Write `figure` as a PNG to `path` (temp file + `os.replace`).

    Returns:
        str. The absolute path written.
    """
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    path = os.path.abspath(os.fspath(path))
    atomic_write_bytes(path, buffer.getvalue())
    return path

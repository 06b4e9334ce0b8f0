"""plot_attention and plot_length_curve write valid PNGs and check shapes."""

import os

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")

from matplotlib import image as mpimg  # noqa: E402

from keras_seq.viz import plot_attention  # noqa: E402
from keras_seq.viz import plot_length_curve  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _assert_png(path):
    assert os.path.isfile(path)
    with open(path, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE
    pixels = mpimg.imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 50 and pixels.shape[1] > 50
    # No temporary files are left next to the result.
    assert os.listdir(os.path.dirname(path)) == [os.path.basename(path)]


def test_plot_attention_writes_png(tmp_path):
    weights = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]])  # (T=2, S=3)
    path = tmp_path / "out" / "attention.png"
    written = plot_attention(weights, ["c", "a", "t"], ["K", "AE1"], path, title="cat")
    assert written == str(path)
    _assert_png(written)
    # Writing again replaces the file in place.
    _assert_png(plot_attention(weights, list("cat"), ["K", "AE1"], path))


def test_plot_attention_rejects_bad_shapes(tmp_path):
    path = tmp_path / "a.png"
    with pytest.raises(ValueError, match=r"`weights`.*shape \(3,\)"):
        plot_attention(np.ones(3), list("abc"), ["x"], path)
    with pytest.raises(ValueError, match=r"`weights`.*shape \(1, 2, 3\)"):
        plot_attention(np.ones((1, 2, 3)), list("abc"), ["x", "y"], path)
    with pytest.raises(ValueError, match=r"`source_tokens`.*\(3\).*len\(source_tokens\)=2"):
        plot_attention(np.ones((2, 3)), ["a", "b"], ["x", "y"], path)
    with pytest.raises(ValueError, match=r"`target_tokens`.*\(2\).*len\(target_tokens\)=3"):
        plot_attention(np.ones((2, 3)), list("abc"), list("xyz"), path)
    assert not path.exists()


def test_plot_length_curve_writes_png(tmp_path):
    curves = {
        "RNN": ([5, 10, 15], [0.9, 0.6, 0.2]),
        "attention": (np.array([5, 10, 15]), np.array([0.95, 0.9, 0.85])),
    }
    _assert_png(plot_length_curve(curves, tmp_path / "numeric" / "c.png", title="copy"))
    # Bucket labels from `by_length` rows work as categorical xs.
    buckets = {"model": (["1-5", "6-10", "11-15"], [0.97, 0.93, 0.9])}
    _assert_png(plot_length_curve(buckets, tmp_path / "labels" / "c.png", ylabel="WER (%)"))


def test_plot_length_curve_rejects_bad_curves(tmp_path):
    path = tmp_path / "c.png"
    with pytest.raises(ValueError, match="non-empty dict"):
        plot_length_curve({}, path)
    with pytest.raises(ValueError, match=r"pair \(xs, ys\)"):
        plot_length_curve({"a": [1, 2, 3]}, path)
    with pytest.raises(ValueError, match=r"curves\['a'\] with shapes \(3,\) and \(2,\)"):
        plot_length_curve({"a": ([1, 2, 3], [0.1, 0.2])}, path)
    assert not path.exists()

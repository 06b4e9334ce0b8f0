"""`keras_seq.arguments`: the package's one set of argument checks."""

import math

import numpy as np
import pytest

from keras_seq import arguments


@pytest.mark.parametrize("value", [3, np.int64(3), np.int32(3), np.uint8(3)])
def test_check_int_accepts_python_and_numpy_integers(value):
    result = arguments.check_int("units", value)
    assert result == 3 and type(result) is int


@pytest.mark.parametrize("value, minimum, maximum, expected", [
    (0, 1, None, "a positive integer"),
    (-1, 0, None, "a non-negative integer"),
    (1, 2, None, "an integer >= 2"),
    (9, 1, 5, "an integer in [1, 5]"),
    (True, 1, None, "a positive integer"),
    (2.0, 1, None, "a positive integer"),
    ("2", 1, None, "a positive integer"),
    (None, 1, None, "a positive integer"),
])
def test_check_int_refuses_with_one_message(value, minimum, maximum, expected):
    with pytest.raises(ValueError) as info:
        arguments.check_int("units", value, minimum, maximum)
    assert str(info.value) == (f"Invalid value for argument `units`. Expected {expected}. "
                               f"Received: units={value!r}")


def test_check_int_none_and_note():
    assert arguments.check_int("max_size", None, 4, allow_none=True) is None
    with pytest.raises(ValueError, match=r"Expected None or an integer >= 4 \(the special "
                                         r"tokens count\)\. Received: max_size=3$"):
        arguments.check_int("max_size", 3, 4, allow_none=True, note="the special tokens count")


@pytest.mark.parametrize("value", [0.5, np.float32(0.5), np.float64(0.5), 1, np.int64(1)])
def test_check_number_accepts_python_and_numpy_reals(value):
    result = arguments.check_number("p", value, above=0, maximum=1)
    assert result == float(value) and type(result) is float


@pytest.mark.parametrize("value, bounds, expected", [
    (0.0, {"above": 0}, "a finite positive number"),
    (math.inf, {"above": 0}, "a finite positive number"),
    (math.nan, {"minimum": 0}, "a finite non-negative number"),
    (1.0, {"minimum": 0, "below": 1}, "a number in [0, 1)"),
    (0.0, {"above": 0, "maximum": 1}, "a number in (0, 1]"),
    (1.0, {"minimum": 2}, "a finite number >= 2"),
    (3.0, {"below": 2.5}, "a finite number < 2.5"),
    (False, {}, "a finite number"),
    ("1", {}, "a finite number"),
])
def test_check_number_refuses_with_one_message(value, bounds, expected):
    with pytest.raises(ValueError) as info:
        arguments.check_number("rate", value, **bounds)
    assert str(info.value) == (f"Invalid value for argument `rate`. Expected {expected}. "
                               f"Received: rate={value!r}")


def test_check_choice_and_bool():
    assert arguments.check_choice("cell", "gru", ("lstm", "gru")) == "gru"
    with pytest.raises(ValueError) as info:
        arguments.check_choice("cell", "rnn", ("lstm", "gru", "simple_rnn"))
    assert str(info.value) == ("Invalid value for argument `cell`. Expected one of "
                               "{'gru', 'lstm', 'simple_rnn'}. Received: cell='rnn'")
    with pytest.raises(ValueError, match=r"one of \{'NFKC', None\}. Received: n=\['x'\]"):
        arguments.check_choice("n", ["x"], ("NFKC", None))  # unhashable, None accepted
    assert arguments.check_bool("b", np.bool_(True)) is True
    with pytest.raises(ValueError, match="Expected a bool. Received: b=1"):
        arguments.check_bool("b", 1)


def test_check_ids_casts_and_names_the_argument():
    ids = arguments.check_ids(np.array([[1, 2]], "int64"), "encoder_ids")
    assert str(ids.dtype) == "<dtype: 'int32'>" and ids.numpy().tolist() == [[1, 2]]
    with pytest.raises(TypeError, match="`encoder_ids`. Expected integer token ids"):
        arguments.check_ids(np.array([[1.0]], "float32"), "encoder_ids")
    with pytest.raises(ValueError, match=r"`encoder_ids`. Expected a rank-2 .*shape=\(2,\)"):
        arguments.check_ids(np.array([1, 2], "int32"), "encoder_ids")


def test_numpy_integers_pass_every_public_check():
    """The same NumPy integer passes a layer, a decoding strategy and a task
    builder (before, a layer refused what `beam_search` accepted)."""
    import keras_seq

    n = np.int64(8)
    encoder = keras_seq.encoders.RNNEncoder(vocab_size=np.int64(20), units=n)
    assert encoder.get_config()["units"] == 8 and type(encoder.units) is int
    tiled = keras_seq.decoding.tile_beams({"x": np.ones((2, 3), "float32")}, np.int64(2))
    assert tiled["x"].shape == (4, 3)
    task = keras_seq.data.load_task("reverse", num_examples=np.int64(60), seed=np.int64(1))
    assert len(task.sources["train"]) > 0

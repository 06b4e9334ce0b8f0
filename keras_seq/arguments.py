"""Argument checks for the whole package: one message shape, one spelling.

Every check raises `ValueError` (`TypeError` for token ids of the wrong
dtype) with Keras' wording, naming the argument and what it accepts:

    Invalid value for argument `beam_size`. Expected a positive integer.
    Received: beam_size=0

Numbers may be Python or NumPy scalars (`np.int64(4)` is an integer,
`np.float32(0.5)` a number); `bool` is neither. Each check returns the
value converted to a plain Python `int`/`float`, so callers can use it in
arithmetic and in configs.
"""

import math
import numbers

import keras
import numpy as np
from keras import ops

try:  # Keras' flag for shape inference (`compute_output_spec`) passes.
    from keras.src.backend.common.symbolic_scope import in_symbolic_scope
except ImportError:  # pragma: no cover - older or newer Keras layouts

    def in_symbolic_scope():
        return False


def format_set(items):
    """Strings (or numbers) as a set literal in sorted order: `{'a', 'b'}`."""
    try:
        items = sorted(items)
    except TypeError:  # e.g. None among strings
        items = sorted(items, key=repr)
    return "{" + ", ".join(repr(item) for item in items) + "}"


def invalid(name, expected, value):
    """The `ValueError` every check raises."""
    return ValueError(f"Invalid value for argument `{name}`. Expected {expected}. "
                      f"Received: {name}={value!r}")


def _expected(text, note, allow_none):
    text = f"None or {text}" if allow_none else text
    return f"{text} ({note})" if note else text


def check_choice(name, value, accepted):
    """Return `value` if it is one of `accepted`, else raise."""
    try:
        if value in accepted:
            return value
    except TypeError:  # unhashable: not one of them
        pass
    raise invalid(name, f"one of {format_set(accepted)}", value)


def check_bool(name, value):
    """Return `value` if it is a bool (Python or NumPy), else raise."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise invalid(name, "a bool", value)


def is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(name, value, minimum=1, maximum=None, allow_none=False, note=None):
    """Return `value` as an int if it is an integer in `[minimum, maximum]`.

    Args:
        name: str. The argument's name, for the message.
        value: the value to check.
        minimum: int. The smallest accepted value. Defaults to `1`.
        maximum: int or None. The largest accepted value; None: no bound.
        allow_none: bool. Accept (and return) None too.
        note: str or None. A hint appended to the expected value, e.g.
            `"0 disables top-k"`.
    """
    if value is None and allow_none:
        return None
    if is_int(value) and value >= minimum and (maximum is None or value <= maximum):
        return int(value)
    if maximum is not None:
        text = f"an integer in [{minimum}, {maximum}]"
    elif minimum == 1:
        text = "a positive integer"
    elif minimum == 0:
        text = "a non-negative integer"
    else:
        text = f"an integer >= {minimum}"
    raise invalid(name, _expected(text, note, allow_none), value)


def check_number(name, value, minimum=None, maximum=None, above=None, below=None,
                 allow_none=False, note=None):
    """Return `value` as a float if it is a finite number within the bounds.

    Args:
        name: str. The argument's name, for the message.
        value: the value to check.
        minimum: float or None. Accept values `>= minimum`.
        maximum: float or None. Accept values `<= maximum`.
        above: float or None. Accept values `> above`.
        below: float or None. Accept values `< below`.
        allow_none: bool. Accept (and return) None too.
        note: str or None. A hint appended to the expected value.
    """
    if value is None and allow_none:
        return None
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok:
        ok = math.isfinite(value)
    if ok:
        ok = ((minimum is None or value >= minimum) and (maximum is None or value <= maximum)
              and (above is None or value > above) and (below is None or value < below))
    if ok:
        return float(value)
    low = (f"[{minimum:g}" if minimum is not None else
           f"({above:g}" if above is not None else None)
    high = (f"{maximum:g}]" if maximum is not None else
            f"{below:g})" if below is not None else None)
    if low and high:
        text = f"a number in {low}, {high}"
    elif above == 0:
        text = "a finite positive number"
    elif minimum == 0:
        text = "a finite non-negative number"
    elif low:
        text = f"a finite number {'>=' if minimum is not None else '>'} {low[1:]}"
    elif high:
        text = f"a finite number {'<=' if maximum is not None else '<'} {high[:-1]}"
    else:
        text = "a finite number"
    raise invalid(name, _expected(text, note, allow_none), value)


def check_shares(name, values, count, per="item"):
    """`count` positive finite numbers normalised to sum 1; None: equal shares.

    For weighted means over several items (models, ensemble members).
    `per` names an item in the message.
    """
    if values is None:
        return [1.0 / count] * count
    expected = f"None or a list of {count} positive finite numbers (one per {per})"
    items = list(values) if isinstance(values, (list, tuple, np.ndarray)) else None
    if items is None or len(items) != count or not all(map(_positive, items)):
        raise invalid(name, expected, values)
    items = [float(w) for w in items]
    total = sum(items)
    if not math.isfinite(total):  # each one finite, their sum is not
        raise invalid(name, expected, values)
    return [w / total for w in items]


def _positive(value):
    """Whether `value` is a positive finite real number (not a bool)."""
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)):
        return False
    try:
        value = float(value)
    except OverflowError:  # an int too large for a float
        return False
    return math.isfinite(value) and value > 0


def check_ids(ids, name, rank=2):
    """Return integer token ids of the given rank as int32, else raise.

    Raises `TypeError` for non-integer ids and `ValueError` for a wrong rank,
    both naming the argument.
    """
    dtype = (keras.backend.standardize_dtype(ids.dtype) if hasattr(ids, "dtype")
             else None)
    if dtype is None or "int" not in str(dtype):
        if dtype is not None and in_symbolic_scope():
            # Keras' automatic build under tf.distribute traces the model
            # with float32 placeholders whatever the data's dtype; no value
            # is computed there, and real float ids still fail below.
            return ops.cast(ids, "int32")
        raise TypeError(
            f"Invalid dtype for argument `{name}`. Expected integer token ids "
            f"(int32 or int64). Received: {name}.dtype={dtype}")
    shape = ops.shape(ids)
    if len(shape) != rank:
        raise ValueError(
            f"Invalid shape for argument `{name}`. Expected a rank-{rank} "
            f"tensor of token ids. Received: {name}.shape={tuple(shape)}")
    return ops.cast(ids, "int32")


def renamed_argument(config, old, new):
    """`config` with the key `old` renamed `new` (for configs saved before a rename).

    A config that already has `new` is returned unchanged.
    """
    if old not in config or new in config:
        return config
    config = dict(config)
    config[new] = config.pop(old)
    return config


def check_min_length(min_length):
    """A decoding `min_length` as a Python int >= 0 (0: no constraint)."""
    return check_int("min_length", min_length, 0, note="0 allows EOS at once")

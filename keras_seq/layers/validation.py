"""Argument checks that give one clear message naming the argument."""

import math

import keras
from keras import ops

try:  # Keras' flag for shape inference (`compute_output_spec`) passes.
    from keras.src.backend.common.symbolic_scope import in_symbolic_scope
except ImportError:  # pragma: no cover - older or newer Keras layouts

    def in_symbolic_scope():
        return False


def check_choice(name, value, accepted):
    """Raise `ValueError` unless `value` is one of `accepted`."""
    if value not in accepted:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected one of "
            f"{set(accepted)}. Received: {name}={value!r}"
        )
    return value


def check_positive_int(name, value, allow_none=False):
    """Raise `ValueError` unless `value` is a positive int (or None if allowed)."""
    if value is None and allow_none:
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a positive "
            f"integer. Received: {name}={value!r}"
        )
    return value


def check_positive_number(name, value, allow_none=False, allow_zero=False):
    """Raise `ValueError` unless `value` is a finite number > 0 (or >= 0)."""
    if value is None and allow_none:
        return value
    ok = (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (value >= 0 if allow_zero else value > 0)
    )
    if not ok:
        bound = "non-negative" if allow_zero else "positive"
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a finite {bound} "
            f"number. Received: {name}={value!r}"
        )
    return float(value)


def check_rate(name, value):
    """Raise `ValueError` unless `0 <= value < 1`."""
    if not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a float in "
            f"[0, 1). Received: {name}={value!r}"
        )
    return float(value)


def check_ids(ids, name, rank=2):
    """Check that `ids` is an integer tensor of the given rank; return int32.

    Raises `TypeError` for float ids and `ValueError` for a wrong rank, both
    naming the argument.
    """
    dtype = (
        keras.backend.standardize_dtype(ids.dtype)
        if hasattr(ids, "dtype")
        else None
    )
    if dtype is None or not ("int" in str(dtype)):
        if dtype is not None and in_symbolic_scope():
            # Keras' automatic build under tf.distribute traces the model
            # with float32 placeholders whatever the data's dtype; no value
            # is computed there, and real float ids still fail below.
            return ops.cast(ids, "int32")
        raise TypeError(
            f"Invalid dtype for argument `{name}`. Expected integer token ids "
            f"(int32 or int64). Received: {name}.dtype={dtype}"
        )
    shape = ops.shape(ids)
    if len(shape) != rank:
        raise ValueError(
            f"Invalid shape for argument `{name}`. Expected a rank-{rank} "
            f"tensor of token ids. Received: {name}.shape={tuple(shape)}"
        )
    return ops.cast(ids, "int32")

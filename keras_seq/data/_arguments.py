"""Argument checks shared by the task builders, with Keras-style errors."""

import numbers


def check_int(name, value, minimum, maximum=None):
    """Raise a ValueError naming `name` unless `value` is an int in range."""
    in_range = (
        isinstance(value, numbers.Integral)
        and not isinstance(value, bool)
        and value >= minimum
        and (maximum is None or value <= maximum)
    )
    if not in_range:
        expected = (
            f"an integer >= {minimum}"
            if maximum is None
            else f"an integer in [{minimum}, {maximum}]"
        )
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected {expected}. "
            f"Received: {name}={value!r}"
        )
    return int(value)


def check_fraction(name, value):
    """Raise a ValueError naming `name` unless `value` is in [0, 1)."""
    ok = (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and 0 <= value < 1
    )
    if not ok:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a number in "
            f"[0, 1). Received: {name}={value!r}"
        )
    return float(value)


def check_choice(name, value, choices):
    """Raise a ValueError naming `name` unless `value` is one of `choices`."""
    if value not in choices:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected one of "
            f"{format_set(choices)}. Received: {name}={value!r}"
        )
    return value


def format_set(items):
    """Format strings as a set literal in sorted order: {'a', 'b'}."""
    return "{" + ", ".join(repr(item) for item in sorted(items)) + "}"

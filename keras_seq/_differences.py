"""The first place where two configs differ, named for an error message."""


def first_difference(a, b, key=""):
    """(key path, a's value, b's value) where `a` and `b` first differ, or None.

    Dicts are walked in `a`'s order (a class name and its config come before
    the build shapes derived from them), then `b`'s extra keys; equal-length
    lists position by position; anything else compares whole.
    """
    if isinstance(a, dict) and isinstance(b, dict):
        for name in list(a) + [name for name in b if name not in a]:
            path = f"{key}.{name}" if key else str(name)
            if name not in a or name not in b:
                return path, a.get(name, "<missing>"), b.get(name, "<missing>")
            found = first_difference(a[name], b[name], path)
            if found is not None:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for position, (x, y) in enumerate(zip(a, b)):
            found = first_difference(x, y, f"{key}[{position}]")
            if found is not None:
                return found
        return None
    return None if a == b else (key, a, b)


def short(value):
    """`repr(value)`, cut to 80 characters."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def describe_difference(a, b):
    """'key: a vs b' for the first difference of two configs, or None."""
    found = first_difference(a, b)
    if found is None:
        return None
    key, x, y = found
    return f"{key or 'value'}: {short(x)} vs {short(y)}"

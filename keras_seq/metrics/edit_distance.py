"""Levenshtein distance between two token sequences."""

import numpy as np


def _as_tokens(value, name):
    if isinstance(value, str):
        return list(value)
    if isinstance(value, (list, tuple)):
        return list(value)
    raise ValueError(
        f"Invalid value for argument `{name}`. Expected a string (compared "
        "character by character) or a list or tuple of tokens. Received: "
        f"{name} of type {type(value).__name__}"
    )


def edit_distance(a, b):
    """Levenshtein distance: the fewest insertions, deletions and substitutions.

    Every edit costs 1. A string is compared character by character; a list
    or tuple token by token (e.g. `"HH AH0".split()`), with tokens compared
    by equality (they must be hashable).

    Args:
        a: str, or list or tuple of tokens.
        b: str, or list or tuple of tokens.

    Returns:
        int. The number of edits turning `a` into `b` (and `b` into `a`).

    Example:

    >>> keras_seq.metrics.edit_distance("kitten", "sitting")
    3
    >>> keras_seq.metrics.edit_distance("HH AH0 L OW1".split(),
    ...                                 "HH EH1 L OW1".split())
    1
    """
    a, b = _as_tokens(a, "a"), _as_tokens(b, "b")
    if len(a) > len(b):
        a, b = b, a  # Loop over the shorter sequence.
    if not a:
        return len(b)
    ids = {}
    a_ids = [ids.setdefault(token, len(ids)) for token in a]
    b_ids = np.array([ids.setdefault(token, len(ids)) for token in b])
    offsets = np.arange(len(b) + 1)
    previous = offsets.copy()  # Distances from a[:0] to every prefix of b.
    for i, token in enumerate(a_ids, start=1):
        current = np.empty_like(previous)
        current[0] = i
        # Deletion (from above) or substitution/match (from the diagonal).
        current[1:] = np.minimum(previous[1:] + 1, previous[:-1] + (b_ids != token))
        # Insertions chain left to right: current[j] = min_k current[k] + (j - k),
        # a running minimum once the offsets are taken out.
        current = np.minimum.accumulate(current - offsets) + offsets
        previous = current
    return int(previous[-1])

"""The `addition` synthetic task."""

import numpy as np

from keras_seq.arguments import check_int
from keras_seq.data import _synthetic

_MAX_DIGITS = 18  # Operands stay within int64.


def addition(num_examples=10000, max_digits=4, seed=0, batch_size=64):
    """Add two decimal numbers written as text: "123+45" -> "168".

    Each operand first draws its number of digits uniformly from
    [1, `max_digits`], then a value uniformly among the numbers with that
    many digits (0-9 for one digit), so short and long operands are equally
    common. Sources are "a+b" with no spaces or leading zeros; targets are
    the sum in decimal. Drawn by a NumPy generator seeded with `seed`; the
    examples split 80/10/10 in order into train, validation and test
    (problems may repeat across splits when few distinct ones exist).
    Sources use a `CharTokenizer` over "0123456789+", targets one over
    "0123456789".

    Args:
        num_examples: int. Examples over all splits, at least 10. Defaults
            to `10000`.
        max_digits: int. Most digits per operand, 1 to 18. Sources are at
            most `2 * max_digits + 1` characters, targets `max_digits + 1`.
            Defaults to `4`.
        seed: int. Seeds the generator and the training shuffle. Defaults
            to `0`.
        batch_size: int. Examples per batch. Defaults to `64`.

    Returns:
        A `keras_seq.data.Task` named `"addition"`.

    Example:

    >>> task = keras_seq.data.addition(num_examples=100, max_digits=3)
    >>> task.sources["test"][0], task.references["test"][0]  # doctest: +SKIP
    ('123+45', ['168'])
    """
    num_examples = check_int(
        "num_examples", num_examples, _synthetic.MIN_EXAMPLES
    )
    max_digits = check_int("max_digits", max_digits, 1, _MAX_DIGITS)
    seed = check_int("seed", seed, 0)
    rng = np.random.default_rng(seed)
    digits = rng.integers(1, max_digits + 1, (num_examples, 2))  # (N, 2)
    low = np.where(digits == 1, 0, 10 ** (digits - 1))
    operands = rng.integers(low, 10**digits)  # (N, 2), high exclusive
    sources = [f"{a}+{b}" for a, b in operands.tolist()]
    targets = [str(a + b) for a, b in operands.tolist()]
    config = {
        "task": "addition",
        "num_examples": num_examples,
        "max_digits": max_digits,
        "seed": seed,
        "batch_size": batch_size,
    }
    return _synthetic.split_task(
        "addition", sources, targets, "0123456789+", "0123456789",
        batch_size, seed, config,
    )

"""The `dates` synthetic task."""

import datetime

import numpy as np

from keras_seq.arguments import check_int
from keras_seq.data import _synthetic

# English names, independent of the process locale.
_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
)
_WEEKDAYS = (
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
    "Sunday",
)
# Two-digit years read as 1969-2068 (the POSIX and `strptime("%y")`
# convention), so dates span exactly that century.
_FIRST_DATE = datetime.date(1969, 1, 1)
_LAST_DATE = datetime.date(2068, 12, 31)


def _month(d):
    return _MONTHS[d.month - 1]


def _weekday(d):
    return _WEEKDAYS[d.weekday()]


# Each format shows one date (5 March 1987) as a person might write it.
# Numeric day/month orders are day first throughout, so no text is ambiguous.
_FORMATS = (
    lambda d: f"{_month(d)} {d.day}, {d.year}",  # March 5, 1987
    lambda d: f"{d.day:02d}/{d.month:02d}/{d.year}",  # 05/03/1987
    lambda d: f"{d.day} {_month(d)[:3]} {d.year % 100:02d}",  # 5 Mar 87
    # Thursday, March 5, 1987
    lambda d: f"{_weekday(d)}, {_month(d)} {d.day}, {d.year}",
    lambda d: f"{d.day} {_month(d)} {d.year}",  # 5 March 1987
    lambda d: f"{_month(d)[:3]} {d.day}, {d.year}",  # Mar 5, 1987
    lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}",  # 05.03.1987
    # Thu 05 Mar 1987
    lambda d: f"{_weekday(d)[:3]} {d.day:02d} {_month(d)[:3]} {d.year}",
    lambda d: f"{_month(d).lower()} {d.day} {d.year}",  # march 5 1987
    lambda d: f"{d.day}-{_month(d)[:3]}-{d.year}",  # 5-Mar-1987
)


def dates(num_examples=10000, seed=0, batch_size=64):
    """Rewrite human-written dates in ISO 8601: "March 5, 1987" -> "1987-03-05".

    Dates are drawn uniformly from 1969-01-01 to 2068-12-31 (the century
    two-digit years read into) and each is written in one of ten formats,
    drawn uniformly: "March 5, 1987", "05/03/1987" (day first), "5 Mar 87",
    "Thursday, March 5, 1987", "5 March 1987", "Mar 5, 1987", "05.03.1987",
    "Thu 05 Mar 1987", "march 5 1987" and "5-Mar-1987". Names are English
    whatever the locale; weekdays and calendar come from Python's
    `datetime`. Targets are `date.isoformat()`. Drawn by a NumPy generator
    seeded with `seed`; the examples split 80/10/10 in order into train,
    validation and test. Sources use a `CharTokenizer` over every character
    the formats can write, targets one over "0123456789-".

    Args:
        num_examples: int. Examples over all splits, at least 10. Defaults
            to `10000`.
        seed: int. Seeds the generator and the training shuffle. Defaults
            to `0`.
        batch_size: int. Examples per batch. Defaults to `64`.

    Returns:
        A `keras_seq.data.Task` named `"dates"`.

    Example:

    >>> task = keras_seq.data.dates(num_examples=100)
    >>> task.sources["test"][0], task.references["test"][0]  # doctest: +SKIP
    ('Thursday, March 5, 1987', ['1987-03-05'])
    """
    num_examples = check_int(
        "num_examples", num_examples, _synthetic.MIN_EXAMPLES
    )
    seed = check_int("seed", seed, 0)
    rng = np.random.default_rng(seed)
    span = (_LAST_DATE - _FIRST_DATE).days + 1
    offsets = rng.integers(0, span, num_examples).tolist()
    formats = rng.integers(0, len(_FORMATS), num_examples).tolist()
    days = [_FIRST_DATE + datetime.timedelta(days=o) for o in offsets]
    sources = [_FORMATS[f](d) for f, d in zip(formats, days)]
    targets = [d.isoformat() for d in days]
    config = {
        "task": "dates",
        "num_examples": num_examples,
        "seed": seed,
        "batch_size": batch_size,
    }
    return _synthetic.split_task(
        "dates", sources, targets, _source_characters(), "0123456789-",
        batch_size, seed, config,
    )


def _source_characters():
    """Every character a format can write, in code point order."""
    names = "".join(_MONTHS + _WEEKDAYS)
    return sorted(set(names + names.lower() + "0123456789 ,/.-"))

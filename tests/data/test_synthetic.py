"""The synthetic tasks: targets checked independently, length control, splits."""

import datetime
import re

import pytest

import keras_seq.data
from tests.data.conftest import decode_dataset

N = 200

# Every way the `dates` task writes a date, as strptime formats (C locale).
DATE_FORMATS = (
    "%B %d, %Y", "%d/%m/%Y", "%d %b %y", "%A, %B %d, %Y", "%d %B %Y",
    "%b %d, %Y", "%d.%m.%Y", "%a %d %b %Y", "%B %d %Y", "%d-%b-%Y",
)


def pairs(task):
    for split in ("train", "validation", "test"):
        for source, refs in zip(task.sources[split], task.references[split]):
            assert len(refs) == 1
            yield source, refs[0]


@pytest.mark.parametrize(
    "name, expected",
    [("reverse", lambda s: s[::-1]), ("copy", lambda s: s),
     ("sort", lambda s: "".join(sorted(s)))],
)
def test_letter_tasks(name, expected):
    task = getattr(keras_seq.data, name)(
        num_examples=N, min_length=3, max_length=7, vocab_size=5, seed=3
    )
    assert task.name == name
    lengths = set()
    for source, target in pairs(task):
        assert re.fullmatch("[a-e]+", source)
        assert target == expected(source)
        lengths.add(len(source))
    assert lengths == set(range(3, 8))
    assert task.source_tokenizer.vocabulary[4:] == list("abcde")
    sizes = [len(task.sources[s]) for s in ("train", "validation", "test")]
    assert sizes == [160, 20, 20]
    # Datasets decode back to the listed text (validation/test in order).
    sources, targets = decode_dataset(
        task.test, task.source_tokenizer, task.target_tokenizer
    )
    assert sources == task.sources["test"]
    assert targets == [refs[0] for refs in task.references["test"]]


def test_letter_tasks_are_deterministic():
    a = keras_seq.data.reverse(num_examples=50, seed=1)
    assert a.sources == keras_seq.data.reverse(num_examples=50, seed=1).sources
    assert a.sources != keras_seq.data.reverse(num_examples=50, seed=2).sources


def test_addition():
    task = keras_seq.data.addition(num_examples=N, max_digits=3, seed=1)
    digits = set()
    for source, target in pairs(task):
        a, b = source.split("+")
        assert re.fullmatch("(0|[1-9][0-9]{0,2})", a), source
        assert re.fullmatch("(0|[1-9][0-9]{0,2})", b), source
        assert int(target) == int(a) + int(b) and target == str(int(target))
        digits |= {len(a), len(b)}
    assert digits == {1, 2, 3}
    sources, targets = decode_dataset(
        task.validation, task.source_tokenizer, task.target_tokenizer
    )
    assert (sources, targets) == (
        task.sources["validation"], [r[0] for r in task.references["validation"]]
    )


def test_dates():
    task = keras_seq.data.dates(num_examples=N, seed=2)
    used = set()
    for source, target in pairs(task):
        parsed = set()
        for i, fmt in enumerate(DATE_FORMATS):
            try:
                parsed.add(datetime.datetime.strptime(source, fmt).date())
                used.add(i)
            except ValueError:
                pass
        assert len(parsed) == 1, source
        date = parsed.pop()
        assert target == date.isoformat()
        assert datetime.date(1969, 1, 1) <= date <= datetime.date(2068, 12, 31)
        if "day" in source.lower() or re.match("[A-Z][a-z]{2} [0-9]{2} ", source):
            assert date.strftime("%a") in source  # the weekday is right
    assert used == set(range(len(DATE_FORMATS)))
    unk = task.encode_sources(task.sources["train"]) == keras_seq.UNK
    assert not unk.any()


@pytest.mark.parametrize(
    "builder, options, argument",
    [
        (keras_seq.data.reverse, {"num_examples": 5}, "num_examples"),
        (keras_seq.data.copy, {"vocab_size": 27}, "vocab_size"),
        (keras_seq.data.sort, {"min_length": 5, "max_length": 4}, "max_length"),
        (keras_seq.data.addition, {"max_digits": 0}, "max_digits"),
        (keras_seq.data.dates, {"batch_size": 0}, "batch_size"),
    ],
)
def test_errors_name_the_argument(builder, options, argument):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        builder(**options)

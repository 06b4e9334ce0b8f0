"""Shared parts of the synthetic tasks: fixed alphabets and the 80/10/10 split."""

import string

import numpy as np

from keras_seq.arguments import check_int
from keras_seq.constants import SPECIAL_TOKENS
from keras_seq.data import _build
from keras_seq.text.char_tokenizer import CharTokenizer

# Fewest examples a synthetic task accepts: 10% of it must be one example.
MIN_EXAMPLES = 10


def char_tokenizer(characters):
    """A CharTokenizer over exactly `characters`, in that order."""
    return CharTokenizer(list(SPECIAL_TOKENS) + list(characters))


def split_task(name, sources, targets, source_chars, target_chars, batch_size,
               seed, config):
    """Split generated pairs 80/10/10 in order and build the `Task`.

    Examples are drawn independently, so the first 80% train, the next 10%
    validate and the last 10% test. Sources may repeat (short lengths allow
    few distinct strings); each example keeps its own single reference.
    """
    n = len(sources)
    n_held_out = n // 10
    bounds = {
        "train": (0, n - 2 * n_held_out),
        "validation": (n - 2 * n_held_out, n - n_held_out),
        "test": (n - n_held_out, n),
    }
    split_sources = {s: sources[a:b] for s, (a, b) in bounds.items()}
    split_references = {s: [[t] for t in targets[a:b]] for s, (a, b) in bounds.items()}
    return _build.build_task(
        name,
        split_sources,
        split_references,
        char_tokenizer(source_chars),
        char_tokenizer(target_chars),
        batch_size=batch_size,
        seed=seed,
        config=config,
    )


def letters_task(name, transform, num_examples, min_length, max_length,
                 vocab_size, seed, batch_size):
    """A task mapping random lowercase strings through `transform`.

    Lengths are uniform in [min_length, max_length], letters uniform over
    the first `vocab_size` letters of "abc...z".
    """
    num_examples = check_int("num_examples", num_examples, MIN_EXAMPLES)
    min_length = check_int("min_length", min_length, 1)
    max_length = check_int("max_length", max_length, 1)
    if max_length < min_length:
        raise ValueError(
            "Invalid value for argument `max_length`. Expected an integer >= "
            f"min_length={min_length}. Received: max_length={max_length}"
        )
    vocab_size = check_int("vocab_size", vocab_size, 1, 26)
    seed = check_int("seed", seed, 0)
    alphabet = string.ascii_lowercase[:vocab_size]
    rng = np.random.default_rng(seed)
    lengths = rng.integers(min_length, max_length + 1, num_examples)
    letters = rng.integers(0, vocab_size, int(lengths.sum()))
    sources, start = [], 0
    for length in lengths:
        sources.append("".join(alphabet[i] for i in letters[start : start + length]))
        start += length
    targets = [transform(source) for source in sources]
    config = {
        "task": name,
        "num_examples": num_examples,
        "min_length": min_length,
        "max_length": max_length,
        "vocab_size": vocab_size,
        "seed": seed,
        "batch_size": batch_size,
    }
    return split_task(name, sources, targets, alphabet, alphabet, batch_size,
                      seed, config)

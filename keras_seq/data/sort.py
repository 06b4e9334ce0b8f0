"""The `sort` synthetic task."""

from keras_seq.data import _synthetic


def sort(num_examples=10000, min_length=1, max_length=20, vocab_size=26, seed=0,
       batch_size=64):
    """Sort the letters of a random string: "cab" -> "abc".

    The target holds the source's letters in alphabetical order, repeats
    kept: a task that needs counting rather than alignment.

    Sources are strings of lowercase letters, lengths drawn uniformly from
    [`min_length`, `max_length`] and letters uniformly from the first
    `vocab_size` letters of the alphabet, by a NumPy generator seeded with
    `seed`. The examples split 80/10/10 in order into train, validation and
    test (sources may repeat across splits when few distinct strings
    exist). Both sides use a `CharTokenizer` over exactly those letters.

    Args:
        num_examples: int. Examples over all splits, at least 10. Defaults
            to `10000`.
        min_length: int. Shortest source, at least 1. Defaults to `1`.
        max_length: int. Longest source. Defaults to `20`.
        vocab_size: int. How many letters to draw from, 1 to 26 (the
            tokenizers add the 4 special tokens). Defaults to `26`.
        seed: int. Seeds the generator and the training shuffle. Defaults
            to `0`.
        batch_size: int. Examples per batch. Defaults to `64`.

    Returns:
        A `keras_seq.data.Task` named `"sort"`.

    Example:

    >>> task = keras_seq.data.sort(num_examples=100, max_length=8)
    >>> task.sources["test"][0], task.references["test"][0]  # doctest: +SKIP
    ('cab', ['abc'])
    """
    return _synthetic.letters_task(
        "sort",
        lambda source: "".join(sorted(source)),
        num_examples=num_examples,
        min_length=min_length,
        max_length=max_length,
        vocab_size=vocab_size,
        seed=seed,
        batch_size=batch_size,
    )

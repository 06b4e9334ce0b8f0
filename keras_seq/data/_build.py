"""From raw text per split to a `Task`: grouping, splitting, tokenizing."""

import numpy as np

from keras_seq.arguments import check_int, check_number
from keras_seq.data.pipelines import make_dataset
from keras_seq.data.task import SPLITS, Task


def group_references(pairs, key=None):
    """Group (source, target) pairs by source.

    Args:
        pairs: iterable of (str, str).
        key: callable or None. Sources with the same `key(source)` are one
            source (the first spelling is kept), e.g. the tokenizer's
            normalization, so that no source a tokenizer reads the same
            can land in two splits. Defaults to the source itself.

    Returns:
        `(sources, references)`: the distinct sources in order of first
        appearance, and for each its distinct targets in order of
        appearance.
    """
    key = key or (lambda source: source)
    grouped, spelling = {}, {}
    for source, target in pairs:
        k = key(source)
        spelling.setdefault(k, source)
        targets = grouped.setdefault(k, [])
        if target not in targets:
            targets.append(target)
    return [spelling[k] for k in grouped], list(grouped.values())


def split_indices(size, validation_fraction, test_fraction, seed):
    """Split `range(size)` at random into train, validation and test.

    A split asked for (fraction > 0) gets at least one item; each split's
    indices are sorted, so items keep their original order.

    Returns:
        dict of split name to a list of indices.
    """
    validation_fraction = check_number(
        "validation_fraction", validation_fraction, minimum=0, below=1
    )
    test_fraction = check_number("test_fraction", test_fraction, minimum=0, below=1)
    if validation_fraction + test_fraction >= 1:
        raise ValueError(
            "Invalid values for arguments `validation_fraction` and "
            "`test_fraction`. Expected a sum below 1, to leave training "
            f"data. Received: validation_fraction={validation_fraction}, "
            f"test_fraction={test_fraction}"
        )
    n_validation = _split_size(size, validation_fraction)
    n_test = _split_size(size, test_fraction)
    if n_validation + n_test >= size:
        raise ValueError(
            f"Too little data to split: {size} distinct sources can't give "
            f"{n_validation} for validation and {n_test} for test and still "
            "leave some for training. Use more data or smaller "
            "`validation_fraction`/`test_fraction`."
        )
    order = np.random.default_rng(seed).permutation(size)
    return {
        "test": sorted(order[:n_test].tolist()),
        "validation": sorted(order[n_test : n_test + n_validation].tolist()),
        "train": sorted(order[n_test + n_validation :].tolist()),
    }


def _split_size(size, fraction):
    return max(1, round(size * fraction)) if fraction > 0 else 0


def split_columns(split, sources, references, source_tokenizer, target_tokenizer):
    """The id columns of one split's examples, as `make_dataset` takes them.

    Training has one example per (source, reference) pair; the other splits
    one per source, in order, with its first reference.

    Args:
        split: str. One of `SPLITS`.
        sources: list of str.
        references: list of lists of str, each source's references.
        source_tokenizer: makes encoder ids.
        target_tokenizer: makes decoder and target ids.

    Returns:
        `(source_ids, decoder_ids, target_ids)`: int32 tensors padded with
        PAD, `(N, S)`, `(N, T)` starting with BOS, `(N, T)` ending with EOS.
    """
    if split == "train":
        pairs = [(source, target) for source, targets in zip(sources, references)
                 for target in targets]
    else:
        pairs = [(source, targets[0]) for source, targets in zip(sources, references)]
    source_texts = [source for source, _ in pairs]
    target_texts = [target for _, target in pairs]
    return (source_tokenizer.tokenize(source_texts),
            target_tokenizer.tokenize(target_texts, add_bos=True),
            target_tokenizer.tokenize(target_texts, add_eos=True))


def build_task(
    name, sources, references, source_tokenizer, target_tokenizer, batch_size,
    seed, config,
):
    """Tokenize the text of each split and wrap the datasets in a `Task`.

    Args:
        name: str. The task's name.
        sources: dict of split name to list of str.
        references: dict of split name to list of lists of str (each
            source's references, at least one).
        source_tokenizer: makes encoder ids.
        target_tokenizer: makes decoder and target ids.
        batch_size: int. Examples per batch.
        seed: int. The training shuffle seed.
        config: dict. Recorded as `Task.config`.

    Returns:
        A `Task`; see its docstring for what each split holds.
    """
    batch_size = check_int("batch_size", batch_size, 1)
    datasets = {}
    for split in SPLITS:
        datasets[split] = make_dataset(
            *split_columns(split, sources[split], references[split],
                           source_tokenizer, target_tokenizer),
            batch_size=batch_size,
            shuffle=split == "train",
            seed=seed,
            bucket=split == "train",
        )
    return Task(
        name=name,
        train=datasets["train"],
        validation=datasets["validation"],
        test=datasets["test"],
        source_tokenizer=source_tokenizer,
        target_tokenizer=target_tokenizer,
        sources={split: list(sources[split]) for split in SPLITS},
        references={
            split: [list(targets) for targets in references[split]]
            for split in SPLITS
        },
        config=dict(config),
    )

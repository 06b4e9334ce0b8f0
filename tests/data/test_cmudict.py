"""The cmudict task, on a 3,000-word sample."""

import re

import pytest

import keras_seq.data
from tests.data.conftest import decode_dataset

PHONEMES_39 = set(
    "AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P "
    "R S SH T TH UH UW V W Y Z ZH".split()
)
SMALL = {"max_words": 3000, "test_size": 300}


@pytest.fixture(scope="module")
def task():
    return keras_seq.data.cmudict(**SMALL)


def all_words(task):
    return {split: set(words) for split, words in task.sources.items()}


def test_sizes_and_words(task):
    sizes = {split: len(words) for split, words in task.sources.items()}
    assert sizes == {"test": 300, "validation": 135, "train": 2565}  # 5% of 2700
    for words in task.sources.values():
        assert all(re.fullmatch("[a-z]+", word) for word in words)
    assert task.config["max_words"] == 3000 and task.config["test_size"] == 300


def test_stress_removed_leaves_the_39_phonemes(task):
    seen = {
        p
        for split_refs in task.references.values()
        for refs in split_refs
        for ref in refs
        for p in ref.split()
    }
    assert seen == PHONEMES_39
    assert task.target_tokenizer.vocabulary[4:] == sorted(PHONEMES_39)
    assert task.source_tokenizer.vocab_size == 4 + 26


def test_keep_stress_keeps_digits():
    task = keras_seq.data.cmudict(keep_stress=True, **SMALL)
    phonemes = {p for refs in task.references["train"] for r in refs for p in r.split()}
    assert {"AH0", "AH1", "EY1"} <= phonemes
    assert {re.sub("[012]", "", p) for p in phonemes} == PHONEMES_39
    assert all(re.fullmatch("[A-Z]+[012]?", p) for p in phonemes)


def test_split_is_deterministic_and_disjoint(task):
    again = keras_seq.data.cmudict(**SMALL)
    assert again.sources == task.sources and again.references == task.references
    other = keras_seq.data.cmudict(seed=1, **SMALL)
    assert set(other.sources["test"]) != set(task.sources["test"])
    words = all_words(task)
    assert not words["test"] & (words["train"] | words["validation"])
    assert not words["train"] & words["validation"]


def test_several_pronunciations_are_all_kept(task):
    multi = [
        (word, refs)
        for split in task.sources
        for word, refs in zip(task.sources[split], task.references[split])
        if len(refs) > 1
    ]
    assert len(multi) > 20
    for word, refs in multi:
        assert len(set(refs)) == len(refs)
    # Training has one example per pronunciation.
    n_pairs = sum(len(refs) for refs in task.references["train"])
    n_examples = sum(int(y.shape[0]) for _, y in task.train)
    assert n_examples == n_pairs > len(task.sources["train"])


def test_read_has_both_pronunciations():
    task = keras_seq.data.cmudict(test_words=["Read", "the"], max_words=500)
    assert task.sources["test"] == ["read", "the"]
    assert sorted(task.references["test"][0]) == ["R EH D", "R IY D"]
    assert task.references["test"][1][0] == "DH AH"


def test_test_words_are_held_out():
    words = ["Hello", "world", "phoneme", "HELLO", "qzxqzxq", "don't"]
    task = keras_seq.data.cmudict(test_words=words, max_words=1000)
    assert task.sources["test"] == ["hello", "world", "phoneme"]
    assert task.config["test_words_missing"] == 2  # "qzxqzxq", "don't"
    assert task.config["test_words"] == ["hello", "world", "phoneme"]
    rest = set(task.sources["train"]) | set(task.sources["validation"])
    assert len(rest) == 1000 - 3 and not rest & set(task.sources["test"])


def test_datasets_follow_the_conventions_and_the_source_order(task):
    for split in ("validation", "test"):
        sources, targets = decode_dataset(
            getattr(task, split), task.source_tokenizer, task.target_tokenizer
        )
        assert sources == task.sources[split]
        assert targets == [refs[0] for refs in task.references[split]]
    sources, targets = decode_dataset(
        task.train.take(3), task.source_tokenizer, task.target_tokenizer
    )
    refs = dict(zip(task.sources["train"], task.references["train"]))
    assert all(target in refs[source] for source, target in zip(sources, targets))


def test_encode_sources_lowercases(task):
    ids = task.encode_sources(["Abc", "a"])
    assert ids.dtype.name == "int32" and ids.shape == (2, 3)
    assert (ids[0] == task.encode_sources(["abc"])[0]).all()


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="`test_size`"):
        keras_seq.data.cmudict(max_words=100, test_size=100)
    with pytest.raises(ValueError, match="`test_words`"):
        keras_seq.data.cmudict(test_words="hello")
    with pytest.raises(ValueError, match="`test_words`"):
        keras_seq.data.cmudict(test_words=["qzxqzxq"])
    with pytest.raises(ValueError, match="`validation_fraction`"):
        keras_seq.data.cmudict(validation_fraction=1.5)

"""WordPieceTokenizer: training, special ids, round trip, files."""

import numpy as np
import pytest
import tensorflow as tf

import keras_seq.data
from keras_seq.constants import BOS, EOS, SPECIAL_TOKENS, UNK

CORPUS = [
    "the quick brown fox jumps over the lazy dog",
    "a tokenizer splits words into pieces",
    "the dog sleeps while the fox jumps",
    "pieces of words make new words",
] * 5


@pytest.fixture(scope="module")
def tokenizer():
    return keras_seq.text.WordPieceTokenizer.from_corpus(CORPUS, max_size=120)


def test_vocabulary(tokenizer):
    assert tokenizer.vocabulary[:4] == list(SPECIAL_TOKENS)
    assert 30 < tokenizer.vocab_size <= 120


def test_round_trip(tokenizer):
    sentences = ["The quick fox jumps", "words into pieces", "the lazy tokenizer"]
    ids = tokenizer.tokenize(sentences, add_bos=True, add_eos=True)
    ids = ids.numpy()
    assert ids.dtype == np.int32 and (ids[:, 0] == BOS).all()
    assert (ids == EOS).sum() == 3 and not (ids == UNK).any()
    back = tokenizer.detokenize(ids).numpy().tolist()
    assert back == [s.lower().encode() for s in sentences]


def test_subwords_and_unknowns(tokenizer):
    pieces = tokenizer.tokenize(["jumpsfox"])[0].numpy()
    assert len(pieces) > 1 and UNK not in pieces  # built from pieces
    assert tokenizer.tokenize(["123"])[0].numpy().tolist() == [UNK]  # digits unseen
    assert tokenizer.detokenize(tokenizer.tokenize(["dog, fox!"])).numpy()[0] == (
        b"dog <unk> fox <unk>"
    )


def test_save_and_traced_use(tokenizer, tmp_path):
    path = tmp_path / "vocab.txt"
    tokenizer.save_vocabulary(path)
    loaded = keras_seq.text.WordPieceTokenizer.from_file(path)
    assert loaded.vocabulary == tokenizer.vocabulary
    traced = tf.function(lambda s: loaded.tokenize(s))
    np.testing.assert_array_equal(
        traced(tf.constant(["the dog"])), tokenizer.tokenize(["the dog"])
    )


def test_wordpiece_task(tmp_path):
    path = tmp_path / "p.tsv"
    path.write_text("".join(f"{s}\t{s[::-1]}\n" for s in CORPUS[:4]) * 3 +
                    "".join(f"{s} again\t{s}\n" for s in CORPUS[:4]))
    task = keras_seq.data.from_tsv(path, tokenizer="wordpiece", vocab_size=80)
    assert isinstance(task.source_tokenizer, keras_seq.text.WordPieceTokenizer)
    assert task.source_tokenizer.vocab_size <= 80

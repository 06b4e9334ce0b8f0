"""Tests for keras_seq.text.SymbolTokenizer."""

import numpy as np
import pytest
import tensorflow as tf

from keras_seq.constants import BOS, EOS, PAD, SPECIAL_TOKENS, UNK
from keras_seq.text import SymbolTokenizer

SYMBOLS = ["HH", "AH0", "L", "OW1", "W", "ER1", "D", "ʃ", "tʰ", "中文"]
VOCAB = list(SPECIAL_TOKENS) + SYMBOLS
HH, AH0, L, OW1, W, ER1, D = range(4, 11)


@pytest.fixture(scope="module")
def tokenizer():
    return SymbolTokenizer(VOCAB)


def tokens(tokenizer, strings, **kwargs):
    return tokenizer.tokenize(strings, **kwargs).numpy().tolist()


def texts(tokenizer, ids, **kwargs):
    return [t.decode("utf-8") for t in tokenizer.detokenize(ids, **kwargs).numpy()]


def test_round_trip(tokenizer):
    strings = ["HH AH0 L OW1", "W ER1 L D", "ʃ tʰ 中文"]
    ids = tokens(tokenizer, strings)
    assert ids == [[HH, AH0, L, OW1], [W, ER1, L, D], [11, 12, 13, PAD]]
    assert texts(tokenizer, ids) == strings


@pytest.mark.parametrize(
    "text",
    [
        "  HH   AH0 L\tOW1  ",
        "HH\nAH0\r\nL\vOW1",
        "HH\u00a0AH0\u3000L\u2028OW1",  # no-break, ideographic, line separator
    ],
)
def test_splits_on_any_whitespace_run(tokenizer, text):
    assert tokens(tokenizer, [text]) == [[HH, AH0, L, OW1]]


def test_unknown_and_special_symbols_are_unk(tokenizer):
    assert tokens(tokenizer, ["HH XX </s> <pad> L"]) == [[HH, UNK, UNK, UNK, L]]
    assert texts(tokenizer, [[HH, UNK, L]]) == ["HH <unk> L"]


def test_no_normalization_by_default(tokenizer):
    # NFKC would turn "tʰ" into "th"; symbols stay as written by default.
    assert tokens(tokenizer, ["tʰ"]) == [[12]]
    nfkc = SymbolTokenizer(VOCAB, normalization="NFKC")
    assert tokens(nfkc, ["tʰ", "\uff28\uff28"]) == [[UNK], [HH]]


def test_lowercase():
    tok = SymbolTokenizer(list(SPECIAL_TOKENS) + ["hh", "ah0"], lowercase=True)
    assert tokens(tok, ["HH Ah0"]) == [[4, 5]]


def test_bos_eos_truncation_and_padding(tokenizer):
    strings = ["HH AH0 L OW1", "W"]
    assert tokens(tokenizer, strings, add_bos=True, add_eos=True) == [
        [BOS, HH, AH0, L, OW1, EOS],
        [BOS, W, EOS, PAD, PAD, PAD],
    ]
    assert tokens(tokenizer, strings, max_length=3, add_eos=True) == [
        [HH, AH0, EOS],
        [W, EOS, PAD],
    ]


def test_empty_strings_and_batch(tokenizer):
    assert tokens(tokenizer, ["", "   "], add_eos=True) == [[EOS], [EOS]]
    assert tokenizer.tokenize(["", " \t"]).shape == (2, 0)
    assert tokenizer.tokenize([]).shape == (0, 0)
    assert tokenizer.detokenize(tf.zeros([0, 3], tf.int64)).shape == (0,)


def test_invalid_utf8_becomes_unk(tokenizer):
    ids = tokens(tokenizer, [b"HH \xff L\xc3 OW1"])
    assert ids == [[HH, UNK, UNK, OW1]]


def test_detokenize(tokenizer):
    ids = tf.constant([[BOS, HH, PAD, L, EOS, D], [HH, 99, -7, L, PAD, PAD]])
    assert texts(tokenizer, ids) == ["HH L", "HH <unk> <unk> L"]
    assert texts(tokenizer, ids, lengths=[2, 1]) == ["HH", "HH"]


def test_from_corpus():
    corpus = ["B A", "A C  A", "<s> D C", b"E \xff"]  # A 3, C 2, B 1, D 1, E 1
    tok = SymbolTokenizer.from_corpus(corpus)
    assert tok.vocabulary == list(SPECIAL_TOKENS) + ["A", "C", "B", "D", "E"]
    assert SymbolTokenizer.from_corpus(corpus, min_count=2).vocabulary[4:] == ["A", "C"]
    assert SymbolTokenizer.from_corpus(corpus, max_size=6).vocabulary[4:] == ["A", "C"]


def test_invalid_vocabulary():
    with pytest.raises(ValueError, match=r"vocabulary\[5\] is 'A B'.*whitespace"):
        SymbolTokenizer(list(SPECIAL_TOKENS) + ["A", "A B"])
    with pytest.raises(ValueError, match=r"vocabulary\[2\] must be the special"):
        SymbolTokenizer(["<pad>", "<unk>", "A", "<s>", "</s>"])


def test_config_round_trip(tokenizer):
    config = tokenizer.get_config()
    assert config["vocabulary"] == VOCAB and config["normalization"] is None
    restored = SymbolTokenizer.from_config(config)
    strings = ["HH AH0 zz", ""]
    np.testing.assert_array_equal(restored.tokenize(strings), tokenizer.tokenize(strings))

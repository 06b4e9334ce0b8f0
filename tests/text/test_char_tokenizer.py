"""Tests for keras_seq.text.CharTokenizer."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_seq.constants import BOS, EOS, PAD, SPECIAL_TOKENS, UNK
from keras_seq.text import CharTokenizer

CHARS = list("abcdefghijklmnopqrstuvwxyz ,.H") + ["é", "中", "文", "😀"]
VOCAB = list(SPECIAL_TOKENS) + CHARS


def char_id(char):
    return VOCAB.index(char)


def ids_of(text):
    return [char_id(c) for c in text]


@pytest.fixture(scope="module")
def tokenizer():
    return CharTokenizer(VOCAB)


def tokens(tokenizer, strings, **kwargs):
    return tokenizer.tokenize(strings, **kwargs).numpy().tolist()


def texts(tokenizer, ids, **kwargs):
    return [t.decode("utf-8") for t in tokenizer.detokenize(ids, **kwargs).numpy()]


@pytest.mark.parametrize(
    "text", ["hello, world.", "café", "中文", "ok 😀", "Hi"]
)
def test_round_trip(tokenizer, text):
    ids = tokens(tokenizer, [text])
    assert ids == [ids_of(text)]
    assert texts(tokenizer, ids) == [text]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("\ufb01ne", "fine"),  # "ﬁ" ligature
        ("\uff28\uff45\uff4c\uff4c\uff4f", "Hello"),  # full-width letters
        ("cafe\u0301", "café"),  # decomposed accent composes to one char
    ],
)
def test_nfkc_normalization(tokenizer, text, expected):
    assert tokens(tokenizer, [text]) == [ids_of(expected)]


def test_no_normalization_keeps_compatibility_characters():
    raw = CharTokenizer(VOCAB, normalization=None)
    assert tokens(raw, ["\ufb01"]) == [[UNK]]
    assert tokens(raw, ["cafe\u0301"]) == [ids_of("cafe") + [UNK]]


def test_lowercase():
    lower = CharTokenizer(VOCAB, lowercase=True)
    assert tokens(lower, ["ÉCOLE"]) == [ids_of("école")]
    assert tokens(CharTokenizer(VOCAB), ["ÉCOLE"]) == [[UNK] * 5]


def test_unknown_characters_are_unk(tokenizer):
    assert tokens(tokenizer, ["a?b!"]) == [[char_id("a"), UNK, char_id("b"), UNK]]


def test_special_tokens_in_text_are_not_recognised(tokenizer):
    # "<s>" is three characters, none of them in the vocabulary but "s".
    assert tokens(tokenizer, ["<s>"]) == [[UNK, char_id("s"), UNK]]


def test_padding_layout(tokenizer):
    ids = tokenizer.tokenize(["ab", "abcd", ""])
    assert ids.dtype == tf.int32
    a, b, c, d = ids_of("abcd")
    np.testing.assert_array_equal(
        ids, [[a, b, PAD, PAD], [a, b, c, d], [PAD, PAD, PAD, PAD]]
    )


def test_add_bos_and_eos(tokenizer):
    a, b = ids_of("ab")
    assert tokens(tokenizer, ["ab", "a"], add_bos=True) == [[BOS, a, b], [BOS, a, PAD]]
    assert tokens(tokenizer, ["ab", "a"], add_eos=True) == [[a, b, EOS], [a, EOS, PAD]]
    assert tokens(tokenizer, ["a"], add_bos=True, add_eos=True) == [[BOS, a, EOS]]


def test_truncation_keeps_bos_and_eos(tokenizer):
    a, b, c, d = ids_of("abcd")
    strings = ["abcdef", "ab"]
    assert tokens(tokenizer, strings, max_length=4) == [[a, b, c, d], [a, b, PAD, PAD]]
    assert tokens(tokenizer, strings, max_length=4, add_eos=True) == [
        [a, b, c, EOS],
        [a, b, EOS, PAD],
    ]
    assert tokens(
        tokenizer, strings, max_length=4, add_bos=True, add_eos=True
    ) == [[BOS, a, b, EOS], [BOS, a, b, EOS]]
    assert tokens(tokenizer, ["abc"], max_length=1, add_eos=True) == [[EOS]]
    # Rows shorter than max_length are padded to the longest row only.
    assert tokens(tokenizer, ["ab", "a"], max_length=10) == [[a, b], [a, PAD]]


@pytest.mark.parametrize(
    "max_length, kwargs",
    [(0, {}), (-3, {}), (1, {"add_bos": True, "add_eos": True}), (2.0, {})],
)
def test_invalid_max_length(tokenizer, max_length, kwargs):
    with pytest.raises(ValueError, match="argument `max_length`"):
        tokenizer.tokenize(["a"], max_length=max_length, **kwargs)


def test_empty_strings(tokenizer):
    assert tokenizer.tokenize([""]).shape == (1, 0)
    assert tokens(tokenizer, [""], add_eos=True) == [[EOS]]
    assert tokens(tokenizer, ["", ""], add_bos=True, add_eos=True) == [
        [BOS, EOS],
        [BOS, EOS],
    ]
    assert texts(tokenizer, tf.zeros([2, 0], tf.int32)) == ["", ""]


def test_empty_batch(tokenizer):
    assert tokenizer.tokenize([]).shape == (0, 0)
    empty = tf.constant([], tf.string)
    assert tokenizer.tokenize(empty, add_bos=True, add_eos=True).shape[0] == 0
    assert tokenizer.detokenize(tf.zeros([0, 5], tf.int32)).shape == (0,)


def test_invalid_utf8_becomes_unk(tokenizer):
    a, b = ids_of("ab")
    strings = tf.constant([b"a\xffb", b"\xc3", b"a\xe4\xb8"])  # bad, cut-off
    ids = tokenizer.tokenize(strings)
    assert ids.numpy().tolist() == [[a, UNK, b], [UNK, PAD, PAD], [a, UNK, PAD]]
    assert texts(tokenizer, ids) == ["a<unk>b", "<unk>", "a<unk>"]
    lower = CharTokenizer(VOCAB, lowercase=True)
    assert tokens(lower, [b"A\xff"]) == [[a, UNK]]


def test_detokenize_stops_at_eos_and_drops_pad_and_bos(tokenizer):
    a, b, c = ids_of("abc")
    ids = [[BOS, a, PAD, b, EOS, c], [a, UNK, b, PAD, PAD, PAD], [EOS, a, b, c, c, c]]
    assert texts(tokenizer, tf.constant(ids)) == ["ab", "a<unk>b", ""]


def test_detokenize_out_of_range_ids_read_as_unk(tokenizer):
    a = char_id("a")
    ids = tf.constant([[a, len(VOCAB), 10**9, -1, a]], tf.int64)
    assert texts(tokenizer, ids) == ["a<unk><unk><unk>a"]


def test_detokenize_lengths_and_ragged(tokenizer):
    a, b, c = ids_of("abc")
    ids = tf.constant([[a, b, c], [c, b, a]])
    assert texts(tokenizer, ids, lengths=tf.constant([2, 0])) == ["ab", ""]
    ragged = tf.ragged.constant([[a], [b, c]])
    assert texts(tokenizer, ragged) == ["a", "bc"]


def test_input_errors(tokenizer):
    with pytest.raises(ValueError, match="argument `strings`"):
        tokenizer.tokenize("abc")
    with pytest.raises(ValueError, match="argument `strings`"):
        tokenizer.tokenize(tf.constant([["a"]]))
    with pytest.raises(TypeError, match="argument `strings`"):
        tokenizer.tokenize(tf.constant([1, 2]))
    with pytest.raises(TypeError, match="argument `ids`"):
        tokenizer.detokenize(tf.constant([[1.0]]))
    with pytest.raises(ValueError, match="argument `ids`"):
        tokenizer.detokenize(tf.constant([1, 2]))


def test_traces_inside_tf_function(tokenizer):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def round_trip(strings):
        ids = tokenizer.tokenize(strings, max_length=6, add_bos=True, add_eos=True)
        return ids, tokenizer.detokenize(ids)

    strings = tf.constant(["hello", "中文", b"a\xffb", ""])
    ids, out = round_trip(strings)
    np.testing.assert_array_equal(
        ids, tokenizer.tokenize(strings, max_length=6, add_bos=True, add_eos=True)
    )
    assert [t.decode() for t in out.numpy()] == ["hell", "中文", "a<unk>b", ""]
    ids, out = round_trip(tf.constant([], tf.string))
    assert ids.shape[0] == 0 and out.shape == (0,)


@settings(max_examples=30, deadline=None)
@given(st.text(alphabet=CHARS, max_size=12))
def test_round_trip_property(tokenizer, text):
    # NFKC leaves these characters as they are, so text comes back intact.
    assert texts(tokenizer, tokenizer.tokenize([text])) == [text]


def test_from_corpus_order_min_count_and_max_size():
    corpus = ["abb", "bc", "cd\ufffd", b"\xff"]  # counts: b 3, c 2, a 1, d 1
    tok = CharTokenizer.from_corpus(corpus)
    assert tok.vocabulary == list(SPECIAL_TOKENS) + ["b", "c", "a", "d"]
    assert tok.vocab_size == 8
    assert CharTokenizer.from_corpus(corpus, min_count=2).vocabulary[4:] == ["b", "c"]
    assert CharTokenizer.from_corpus(corpus, max_size=5).vocabulary[4:] == ["b"]
    assert CharTokenizer.from_corpus(corpus, max_size=4).vocabulary == list(
        SPECIAL_TOKENS
    )
    # Counting sees the same normalisation as tokenize.
    folded = CharTokenizer.from_corpus(["\ufb01", "AB"], lowercase=True)
    assert folded.vocabulary[4:] == ["a", "b", "f", "i"]
    assert folded.lowercase
    # A generator works, and the order does not depend on the input order.
    again = CharTokenizer.from_corpus(t for t in reversed(corpus))
    assert again.vocabulary == tok.vocabulary


@pytest.mark.parametrize(
    "kwargs, error, argument",
    [
        ({"texts": "abc"}, TypeError, "texts"),
        ({"texts": ["a"], "min_count": 0}, ValueError, "min_count"),
        ({"texts": ["a"], "max_size": 3}, ValueError, "max_size"),
    ],
)
def test_from_corpus_errors(kwargs, error, argument):
    with pytest.raises(error, match=f"argument `{argument}`"):
        CharTokenizer.from_corpus(**kwargs)


@pytest.mark.parametrize(
    "vocabulary, message",
    [
        (["<pad>", "<unk>", "<s>"], r"vocabulary\[3\] must be the special token '</s>'"),
        (["<unk>", "<pad>", "<s>", "</s>"], r"vocabulary\[0\] must be the special"),
        (VOCAB + ["b"], r"repeats the token 'b' of vocabulary\[5\]"),
        (VOCAB + [""], r"is an empty string"),
        (VOCAB + ["ab"], r"single character"),
        (VOCAB + [7], r"must be a string"),
    ],
)
def test_invalid_vocabulary(vocabulary, message):
    with pytest.raises(ValueError, match=message):
        CharTokenizer(vocabulary)


def test_invalid_arguments():
    with pytest.raises(TypeError, match="argument `vocabulary`"):
        CharTokenizer("vocab.txt")
    expected = (
        "Invalid value for argument `normalization`. Expected one of "
        "{'NFKC', None}. Received: normalization='NFC'"
    )
    with pytest.raises(ValueError) as info:
        CharTokenizer(VOCAB, normalization="NFC")
    assert str(info.value) in (expected, expected.replace("{'NFKC', None}", "{None, 'NFKC'}"))
    with pytest.raises(ValueError, match="argument `lowercase`"):
        CharTokenizer(VOCAB, lowercase="yes")


def test_config_round_trip():
    tok = CharTokenizer(VOCAB, normalization=None, lowercase=True, name="chars")
    config = tok.get_config()
    assert config == {
        "name": "chars",
        "vocabulary": VOCAB,
        "normalization": None,
        "lowercase": True,
    }
    restored = CharTokenizer.from_config(config)
    assert restored.get_config() == config
    strings = ["ABC\ufb01", "中"]
    np.testing.assert_array_equal(restored.tokenize(strings), tok.tokenize(strings))
    # Registered with Keras serialization.
    again = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(tok)
    )
    assert isinstance(again, CharTokenizer) and again.get_config() == config

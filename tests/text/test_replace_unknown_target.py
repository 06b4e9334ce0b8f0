"""Unknown replacement: an output UNK reads as its most attended source token."""

import numpy as np
import tensorflow as tf

from keras_seq.constants import SPECIAL_TOKENS, UNK
from keras_seq.text import CharTokenizer, SymbolTokenizer, replace_unknown_target

WORDS = SymbolTokenizer(list(SPECIAL_TOKENS) + ["the", "cat", "sat"])
CHARS = CharTokenizer(list(SPECIAL_TOKENS) + list("abc"))


def test_each_unk_takes_the_source_token_it_attends_to_most():
    sources = ["the Zorg sat", "cat Xy"]
    ids = np.array([[4, UNK, 6], [UNK, 5, 0]])  # the <unk> sat | <unk> cat
    lengths = np.array([3, 2])
    attention = np.zeros((2, 3, 3), np.float32)
    attention[0, 1] = [0.1, 0.7, 0.2]  # -> "Zorg"
    attention[1, 0] = [0.2, 0.5, 0.3]  # -> "Xy"
    out = replace_unknown_target(WORDS, ids, lengths, attention, WORDS.pieces(sources))
    assert [t.decode() for t in out.numpy()] == ["the Zorg sat", "Xy cat"]
    # Without replacement the same ids read "<unk>": the test can fail.
    plain = WORDS.detokenize(ids, lengths).numpy()
    assert plain[0].decode() == "the <unk> sat"


def test_out_of_vocabulary_ids_are_replaced_and_pieces_copied_verbatim():
    # Id 99 is past the vocabulary: it reads as <unk>, so it is replaced by
    # the piece it attends to, "é", which CHARS cannot even encode.
    ids = np.array([[99, 4]])
    attention = np.array([[[1.0, 0.0], [0.0, 1.0]]], np.float32)
    out = replace_unknown_target(CHARS, ids, [2], attention, CHARS.pieces(["éa"]))
    assert out.numpy()[0].decode() == "éa"


def test_attention_wider_or_narrower_than_the_pieces():
    ids = tf.constant([[UNK, UNK]])
    # Width 4 over a 2-piece source (padding): a padded position gives "".
    attention = tf.constant([[[0.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0]]])
    out = replace_unknown_target(CHARS, ids, [2], attention, CHARS.pieces(["xy"]))
    assert out.numpy()[0].decode() == "y"
    # Width 1 over a 3-piece source (truncated): only the first piece is read.
    out = replace_unknown_target(CHARS, ids, [2], tf.ones([1, 2, 1]), CHARS.pieces(["xyz"]))
    assert out.numpy()[0].decode() == "xx"


def test_empty_outputs_and_batches():
    out = replace_unknown_target(CHARS, np.zeros((2, 0), np.int32), [0, 0],
                                 np.zeros((2, 0, 3), np.float32), CHARS.pieces(["ab", ""]))
    assert out.numpy().tolist() == [b"", b""]
    out = replace_unknown_target(CHARS, np.zeros((0, 0), np.int32), np.zeros(0, np.int32),
                                 np.zeros((0, 0, 0), np.float32), CHARS.pieces([]))
    assert out.shape == (0,)


def test_runs_in_a_graph():
    fn = tf.function(lambda ids, lengths, att, text: replace_unknown_target(
        CHARS, ids, lengths, att, CHARS.pieces(text)))
    out = fn(tf.constant([[UNK, 5]]), tf.constant([2]), tf.constant([[[0.0, 1.0], [1.0, 0.0]]]),
             tf.constant(["qa"]))
    assert out.numpy()[0].decode() == "ab"

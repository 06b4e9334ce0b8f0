"""WordPiece subword tokenizer, with vocabulary training."""

import keras
import tensorflow as tf
import tensorflow_text as tf_text
from tensorflow_text.tools.wordpiece_vocab import bert_vocab_from_dataset

from keras_seq.arguments import check_int
from keras_seq.constants import SPECIAL_TOKENS
from keras_seq.text import token_ops
from keras_seq.text.tokenizer import Tokenizer

_SUFFIX = "##"  # Marks a piece that continues a word.
_CORPUS_BATCH = 1024


@keras.saving.register_keras_serializable(package="keras_seq")
class WordPieceTokenizer(Tokenizer):
    """WordPiece subword tokenizer, in TF ops.

    Text is split into words at whitespace and punctuation (each
    punctuation character is a word of its own), then each word into the
    longest vocabulary pieces from its start, pieces after the first
    written with a "##" prefix ("tokenizer" -> "token", "##izer"). A word
    that can't be pieced together is one UNK. `detokenize` joins words with
    one space and glues "##" pieces to the piece before, so text comes back
    as its words separated by single spaces ("Hello, world!" -> "hello ,
    world !" with `lowercase=True`). Uses tensorflow-text's
    `FastWordpieceTokenizer`, so it saves in a SavedModel like the other
    tokenizers. See `keras_seq.text.Tokenizer` for the shared behaviour
    (UTF-8 repair, normalisation, truncation, special tokens).

    Args:
        vocabulary: list of str. The tokens in id order: the four special
            tokens `("<pad>", "<unk>", "<s>", "</s>")`, then word-initial
            pieces and "##" pieces, without whitespace.
        normalization: `"NFKC"` or `None`. Unicode normalisation applied
            before splitting. Defaults to `"NFKC"`.
        lowercase: bool. Whether to lower-case text before splitting.
            Defaults to `True`.
        **kwargs: passed to `tf.Module` (`name`).

    Example:

    >>> tokenizer = keras_seq.text.WordPieceTokenizer.from_corpus(
    ...     ["the cat sat on the mat", "the dog sat"] * 10, max_size=60)
    >>> ids = tokenizer.tokenize(["the cats sat"], add_eos=True)
    >>> tokenizer.detokenize(ids).numpy()
    array([b'the cats sat'], dtype=object)
    """

    separator = " "

    def __init__(self, vocabulary, normalization="NFKC", lowercase=True, **kwargs):
        super().__init__(
            vocabulary, normalization=normalization, lowercase=lowercase, **kwargs
        )
        with tf.init_scope():
            self._wordpiece = tf_text.FastWordpieceTokenizer(
                vocab=list(self._tokens),
                suffix_indicator=_SUFFIX,
                unknown_token=SPECIAL_TOKENS[1],
                no_pretokenization=False,
                support_detokenization=False,
                token_out_type=tf.string,
            )

    @staticmethod
    def _check_token(token):
        if any(char.isspace() for char in token):
            return "a WordPiece token can't contain whitespace."
        if token == _SUFFIX:
            return f"a WordPiece token can't be the bare suffix mark {_SUFFIX!r}."
        return None

    def _split(self, strings):
        # Words at whitespace and punctuation, then pieces: (B, None).
        return self._wordpiece.tokenize(strings)

    def detokenize(self, ids, lengths=None, replacements=None):
        """Turn token ids back into text: words joined by single spaces.

        Args:
            ids: int tensor [B, T] (int32 or int64), or a ragged one. Read
                as in `keras_seq.text.Tokenizer.detokenize`.
            lengths: int tensor [B] or `None`. How many ids of each row to
                read. Defaults to `None` (all).
            replacements: string tensor [B, T] or `None`. What each UNK
                reads as. Defaults to `None`.

        Returns:
            string tensor [B].
        """
        text = super().detokenize(ids, lengths=lengths,
                                  replacements=replacements)  # "hel ##lo world"
        return tf.strings.regex_replace(text, " " + _SUFFIX, "")

    @classmethod
    def from_corpus(cls, texts, min_count=1, max_size=8000, **kwargs):
        """Train a WordPiece vocabulary on `texts` and build a tokenizer.

        Texts go through the same repair, normalisation and lower-casing as
        in `tokenize`; the vocabulary is learnt by tensorflow-text's
        `bert_vocab_from_dataset` (every character seen, as a word start and
        as a "##" piece, then the pieces that cover the corpus best). The
        same corpus always gives the same vocabulary.

        Args:
            texts: iterable of str. The corpus, one text per item.
            min_count: int. The lowest piece count the learner considers
                (its `lower_thresh`); rarer pieces are left out. Defaults to
                `1`.
            max_size: int. The largest vocabulary size, the four special
                tokens included (the learnt one may be smaller). Defaults
                to `8000`.
            **kwargs: the other constructor arguments (e.g. `lowercase`).

        Returns:
            A `WordPieceTokenizer`.
        """
        if isinstance(texts, (str, bytes)):
            raise TypeError(
                "Invalid value for argument `texts`. Expected an iterable of "
                "strings, not a single string. "
                f"Received: texts={texts!r:.80}"
            )
        max_size = check_int("max_size", max_size, len(SPECIAL_TOKENS) + 1,
                             note="the special tokens count towards it")
        min_count = check_int("min_count", min_count)
        normalization = kwargs.get("normalization", "NFKC")
        lowercase = kwargs.get("lowercase", True)
        corpus = tf.data.Dataset.from_tensor_slices(
            tf.constant(list(texts), tf.string)
        ).batch(_CORPUS_BATCH).map(
            lambda strings: token_ops.clean_text(strings, normalization, lowercase)
        )
        tokens = bert_vocab_from_dataset.bert_vocab_from_dataset(
            corpus,
            vocab_size=max_size,
            reserved_tokens=list(SPECIAL_TOKENS),
            bert_tokenizer_params={"lower_case": False},
            learn_params={"lower_thresh": min_count},
        )
        tokens = [token for token in tokens if token != _SUFFIX]
        return cls(tokens[:max_size], **kwargs)


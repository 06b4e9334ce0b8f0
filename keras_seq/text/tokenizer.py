"""The base of keras_seq's in-graph tokenizers."""

import collections.abc

import tensorflow as tf

from keras_seq.arguments import check_bool, check_choice, check_int
from keras_seq.constants import SPECIAL_TOKENS, UNK
from keras_seq.text import token_ops
from keras_seq.text import vocabulary as vocabulary_lib

_NORMALIZATIONS = ("NFKC", None)


class Tokenizer(tf.Module):
    """Base class of the tokenizers: strings to ids and back, in TF ops.

    A subclass says how a normalised string splits into tokens (`_split`),
    which tokens its vocabulary may hold (`_check_token`) and what joins
    tokens back into text (`separator`). Everything else is shared.

    `tokenize` and `detokenize` use only TensorFlow and tensorflow-text ops
    and lookup tables, so they trace inside a `tf.function`, and a
    `tf.Module` holding a tokenizer saves with `tf.saved_model.save` and
    loads where only `tensorflow` and `tensorflow_text` are imported (as in
    TF Serving). A tokenizer is a `tf.Module`, not a Keras layer: it has no
    weights and no training behaviour, it maps strings (which Keras tensors
    don't carry across backends), and a `tf.Module` tracks its lookup tables
    for SavedModel without any Keras machinery in the serving graph.

    Text passes through these steps before splitting:

    1. Invalid UTF-8 is repaired: each invalid byte sequence becomes U+FFFD
       (the replacement character), which maps to UNK unless U+FFFD is in
       the vocabulary (`from_corpus` never puts it there). Bad input never
       raises an error or crashes the serving process.
    2. Unicode normalisation, when `normalization="NFKC"` (e.g. "ﬁ" -> "fi",
       full-width "Ａ" -> "A").
    3. Lower-casing (Unicode-aware), when `lowercase=True`.

    The special tokens are never read from text: an input "<s>" or "</s>"
    becomes UNK, so user text can't inject a PAD, BOS or EOS.

    Args:
        vocabulary: list of str. The tokens in id order; the first four
            must be `("<pad>", "<unk>", "<s>", "</s>")`. Tokens must be
            distinct and non-empty.
        normalization: `"NFKC"` or `None`. Unicode normalisation applied
            before splitting.
        lowercase: bool. Whether to lower-case text before splitting.
            Defaults to `False`.
        **kwargs: passed to `tf.Module` (`name`).
    """

    separator = ""

    def __init__(self, vocabulary, normalization, lowercase=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(vocabulary, (str, bytes)) or not isinstance(
            vocabulary, collections.abc.Sequence
        ):
            raise TypeError(
                "Invalid value for argument `vocabulary`. Expected a list of "
                "strings (use `from_file` to read a vocabulary file). "
                f"Received: vocabulary={vocabulary!r:.80}"
            )
        tokens = list(vocabulary)
        problem = vocabulary_lib.vocabulary_problem(
            tokens, self._check_token, lambda i: f"vocabulary[{i}]"
        )
        if problem is not None:
            raise ValueError(f"Invalid value for argument `vocabulary`. {problem}")
        self._tokens = tuple(tokens)
        self.normalization = normalization = check_choice("normalization", normalization, _NORMALIZATIONS)
        self.lowercase = lowercase = check_bool("lowercase", lowercase)
        n = len(SPECIAL_TOKENS)
        with tf.init_scope():
            # Text -> id. Special tokens in text map to UNK. (They are keys
            # all the same: a table can't be empty.)
            self._token_to_id = tf.lookup.StaticHashTable(
                tf.lookup.KeyValueTensorInitializer(
                    tf.constant(tokens, tf.string),
                    tf.constant([UNK] * n + list(range(n, len(tokens))), tf.int32),
                ),
                default_value=UNK,
            )
            # Id -> text. Ids outside [0, vocab_size) read as "<unk>".
            self._id_to_token = tf.lookup.StaticHashTable(
                tf.lookup.KeyValueTensorInitializer(
                    tf.range(len(tokens), dtype=tf.int64),
                    tf.constant(tokens, tf.string),
                ),
                default_value=SPECIAL_TOKENS[UNK],
            )

    # -- What subclasses define ------------------------------------------

    def _split(self, strings):
        """Split normalised strings [B] into a ragged string tensor [B, None]."""
        raise NotImplementedError

    @staticmethod
    def _check_token(token):
        """Return why `token` can't be in the vocabulary, or `None`."""
        return None

    # -- Vocabulary ------------------------------------------------------

    @property
    def vocabulary(self):
        """The tokens in id order, as a new list."""
        return list(self._tokens)

    @property
    def vocab_size(self):
        """The number of tokens, the special tokens included."""
        return len(self._tokens)

    @classmethod
    def from_corpus(cls, texts, min_count=1, max_size=None, **kwargs):
        """Build a tokenizer whose vocabulary is counted from `texts`.

        Texts go through the same repair, normalisation and splitting as in
        `tokenize` (with the options in `kwargs`), then tokens are counted
        in Python. The vocabulary is the special tokens, then the tokens by
        count, most frequent first, ties in code point order, so the same
        corpus always gives the same ids. U+FFFD (what invalid UTF-8 becomes)
        is never added.

        Args:
            texts: iterable of str or bytes. The corpus, one text per item.
            min_count: int. Tokens seen fewer times are left out (they will
                be UNK). Defaults to `1`.
            max_size: int or `None`. The largest vocabulary size, the four
                special tokens included; the rarest tokens are left out.
                Defaults to `None` (no limit).
            **kwargs: the other constructor arguments (e.g. `lowercase`).

        Returns:
            A tokenizer of this class.
        """
        # A tokenizer with the same options does the splitting.
        splitter = cls(list(SPECIAL_TOKENS), **kwargs)
        tokens = vocabulary_lib.vocabulary_from_corpus(
            texts, splitter._pieces, min_count=min_count, max_size=max_size
        )
        return cls(tokens, **kwargs)

    @classmethod
    def from_file(cls, path, **kwargs):
        """Build a tokenizer from a vocabulary file.

        Args:
            path: str or path-like. A UTF-8 file with one token per line, in
                id order, the first four lines being `<pad>`, `<unk>`, `<s>`
                and `</s>` (as written by `save_vocabulary`).
            **kwargs: the other constructor arguments.

        Returns:
            A tokenizer of this class.

        Raises:
            ValueError: naming the path and line when the file is invalid.
        """
        tokens = vocabulary_lib.read_vocabulary_file(path, cls._check_token)
        return cls(tokens, **kwargs)

    def save_vocabulary(self, path):
        """Write the vocabulary to `path`, one token per line, atomically.

        Args:
            path: str or path-like. The file to write; `from_file` reads it.
        """
        vocabulary_lib.write_vocabulary_file(path, self._tokens)

    def get_config(self):
        return {
            "name": self.name,
            "vocabulary": list(self._tokens),
            "normalization": self.normalization,
            "lowercase": self.lowercase,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # -- Graph ops -------------------------------------------------------

    def _pieces(self, strings):
        """Repair, normalise and split strings [B] into tokens [B, None]."""
        return self._split(token_ops.clean_text(strings, self.normalization, self.lowercase))

    def tokenize(self, strings, max_length=None, add_bos=False, add_eos=False):
        """Turn a batch of strings into padded token ids.

        Truncation keeps the first tokens of the text. The BOS and EOS asked
        for are always kept: with `add_eos=True` a truncated row still ends
        with EOS (the text is cut to `max_length - 1` tokens, or
        `max_length - 2` with BOS too), so a model always sees where the
        sequence stops.

        Args:
            strings: string tensor of shape [B], or a list of str / bytes.
            max_length: int or `None`. The most ids per row, BOS and EOS
                included. Defaults to `None` (no limit).
            add_bos: bool. Whether to start each row with BOS (2).
                Defaults to `False`.
            add_eos: bool. Whether to end each row with EOS (3).
                Defaults to `False`.

        Returns:
            int32 tensor [B, S]: ids padded with PAD (0) on the right, S the
            longest row (at most `max_length`). Unknown tokens are UNK (1).
            An empty string gives a row of PAD (just EOS with `add_eos`);
            an empty batch gives shape [0, 0].
        """
        n_special = int(bool(add_bos)) + int(bool(add_eos))
        max_length = check_int("max_length", max_length, max(1, n_special),
                               allow_none=True, note="room for BOS/EOS when added")
        strings = token_ops.as_string_vector(strings)  # (B,)
        ids = self._token_to_id.lookup(self._pieces(strings))  # (B, None)
        return token_ops.frame_ids(ids, max_length, add_bos, add_eos)  # (B, S)

    def pieces(self, strings):
        """The tokens `tokenize` looks up, as strings: ragged [B, None].

        Position i of a row is the token behind id i of `tokenize`'s row
        (without BOS/EOS); OpenNMT-style unknown replacement copies them.
        """
        return self._pieces(token_ops.as_string_vector(strings))

    def detokenize(self, ids, lengths=None, replacements=None):
        """Turn token ids back into strings.

        Each row is read up to its first EOS (or its length); PAD and BOS
        are dropped; UNK and ids outside [0, vocab_size) read as "<unk>",
        or as the matching entry of `replacements`.

        Args:
            ids: int tensor [B, T] (int32 or int64), or a ragged one.
            lengths: int tensor [B] or `None`. How many ids of each row to
                read (e.g. from a decoding loop). Defaults to `None` (all).
            replacements: string tensor [B, T] or `None`. What each UNK
                reads as (see `keras_seq.text.replace_unknown_target`).
                Defaults to `None`.

        Returns:
            string tensor [B]: the tokens joined with `separator` ("" for
            characters, " " for symbols).
        """
        ids = token_ops.id_matrix(ids)  # (B, T) int64
        tokens = self._id_to_token.lookup(ids)  # (B, T)
        if replacements is not None:
            # UNK, and ids outside the vocabulary, read as "<unk>".
            tokens = tf.where(tf.equal(tokens, SPECIAL_TOKENS[UNK]), tf.convert_to_tensor(replacements, tf.string), tokens)
        tokens = tf.ragged.boolean_mask(tokens, token_ops.readable(ids, lengths))
        return tf.strings.reduce_join(tokens, axis=1, separator=self.separator)

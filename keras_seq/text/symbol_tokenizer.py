"""Whitespace-separated symbol tokenizer (words, phonemes, ...)."""

import keras
import tensorflow as tf

from keras_seq.text.tokenizer import Tokenizer

# Whitespace as Python's `str.split()` sees it, in RE2 syntax: ASCII
# whitespace, the information separators, NEL and every Unicode separator
# (Zs, Zl, Zp: no-break space, ideographic space, ...).
_WHITESPACE = r"[\t\n\v\f\r\x{1c}-\x{1f}\x{85}\p{Z}]+"


@keras.saving.register_keras_serializable(package="keras_seq")
class SymbolTokenizer(Tokenizer):
    """Tokenizer over whitespace-separated symbols, in TF ops.

    A text splits on any run of whitespace (Unicode separators included),
    ignoring it at both ends, so "HH AH0  L OW1 " is four symbols; unknown
    symbols are UNK. `detokenize` joins symbols with one space. Invalid
    UTF-8 becomes U+FFFD inside its symbol, which then reads as UNK. There
    is no normalisation by default, since NFKC changes some IPA symbols
    (e.g. "ʰ" -> "h"). See `keras_seq.text.Tokenizer` for the shared
    behaviour (truncation, special tokens, SavedModel use).

    Args:
        vocabulary: list of str. The tokens in id order: the four special
            tokens `("<pad>", "<unk>", "<s>", "</s>")`, then symbols without
            whitespace, each once.
        normalization: `"NFKC"` or `None`. Unicode normalisation applied
            before splitting. Defaults to `None`.
        lowercase: bool. Whether to lower-case text before splitting.
            Defaults to `False`.
        **kwargs: passed to `tf.Module` (`name`).

    Example:

    >>> tokenizer = keras_seq.text.SymbolTokenizer.from_corpus(
    ...     ["HH AH0 L OW1", "W ER1 L D"])
    >>> ids = tokenizer.tokenize(["HH EH1 L OW1"], add_bos=True, add_eos=True)
    >>> ids.shape
    TensorShape([1, 6])
    >>> tokenizer.detokenize(ids).numpy()
    array([b'HH <unk> L OW1'], dtype=object)
    """

    separator = " "

    def __init__(self, vocabulary, normalization=None, lowercase=False, **kwargs):
        super().__init__(
            vocabulary, normalization=normalization, lowercase=lowercase, **kwargs
        )

    @staticmethod
    def _check_token(token):
        if any(char.isspace() for char in token):
            return (
                "a SymbolTokenizer token can't contain whitespace, since "
                "text is split on whitespace."
            )
        return None

    def _split(self, strings):
        strings = tf.strings.regex_replace(strings, _WHITESPACE, " ")
        return tf.strings.split(strings)  # (B, None)

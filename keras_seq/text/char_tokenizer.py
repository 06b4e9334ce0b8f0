"""Character-level tokenizer."""

import keras
import tensorflow as tf

from keras_seq.text.tokenizer import Tokenizer


@keras.saving.register_keras_serializable(package="keras_seq")
class CharTokenizer(Tokenizer):
    """Tokenizer over Unicode characters (code points), in TF ops.

    Each code point of the normalised text is one token, spaces included;
    `detokenize` joins tokens with no separator. Invalid UTF-8 becomes
    U+FFFD and so UNK; text is NFKC-normalised by default, so "ﬁ" reads as
    "f", "i" and full-width "Ｈ" as "H". See `keras_seq.text.Tokenizer` for
    the shared behaviour (truncation, special tokens, SavedModel use).

    Args:
        vocabulary: list of str. The tokens in id order: the four special
            tokens `("<pad>", "<unk>", "<s>", "</s>")`, then single
            characters, each once.
        normalization: `"NFKC"` or `None`. Unicode normalisation applied
            before splitting. Defaults to `"NFKC"`.
        lowercase: bool. Whether to lower-case text before splitting.
            Defaults to `False`.
        **kwargs: passed to `tf.Module` (`name`).

    Example:

    >>> tokenizer = keras_seq.text.CharTokenizer.from_corpus(["hello world"])
    >>> ids = tokenizer.tokenize(["hold", "ﬁ"], add_eos=True)
    >>> ids.shape
    TensorShape([2, 5])
    >>> tokenizer.detokenize(ids).numpy()
    array([b'hold', b'<unk><unk>'], dtype=object)
    """

    separator = ""

    def __init__(self, vocabulary, normalization="NFKC", lowercase=False, **kwargs):
        super().__init__(
            vocabulary, normalization=normalization, lowercase=lowercase, **kwargs
        )

    @staticmethod
    def _check_token(token):
        if len(token) != 1:
            return (
                f"a CharTokenizer token must be a single character (code "
                f"point), but this one has {len(token)}."
            )
        return None

    def _split(self, strings):
        return tf.strings.unicode_split(strings, "UTF-8")  # (B, None)

"""`tokenizer_difference` names the first way two tokenizers differ."""

from keras_seq.cli.tokenizer_difference import tokenizer_difference
from keras_seq.text import CharTokenizer, SymbolTokenizer

SPECIAL = ["<pad>", "<unk>", "<s>", "</s>"]
LETTERS = SPECIAL + ["a", "b", "c"]


def test_alike_tokenizers_have_no_difference():
    assert tokenizer_difference(CharTokenizer(LETTERS), CharTokenizer(LETTERS)) is None
    # The Keras object name changes no token.
    assert tokenizer_difference(CharTokenizer(LETTERS, name="x"),
                                CharTokenizer(LETTERS, name="y")) is None


def test_the_first_difference_is_named_kind_then_tokens_then_options():
    first = CharTokenizer(LETTERS)
    assert tokenizer_difference(first, SymbolTokenizer(LETTERS)).startswith(
        "kind: keras_seq>CharTokenizer vs keras_seq>SymbolTokenizer")
    ids = {t: i for i, t in enumerate(first.vocabulary)}
    swapped = CharTokenizer(SPECIAL + ["a", "c", "b"])
    assert tokenizer_difference(first, swapped) == f"vocabulary at id {ids['b']}: 'b' vs 'c'"
    # A token difference is named before an option difference.
    assert tokenizer_difference(first, CharTokenizer(SPECIAL + ["a", "c", "b"], lowercase=True)) == \
        f"vocabulary at id {ids['b']}: 'b' vs 'c'"
    longer = CharTokenizer(LETTERS + ["d"])
    assert tokenizer_difference(first, longer) == (
        f"vocabulary size: {len(first.vocabulary)} vs {len(longer.vocabulary)} tokens")
    assert tokenizer_difference(first, CharTokenizer(LETTERS, lowercase=True)) == (
        "option lowercase: False vs True")

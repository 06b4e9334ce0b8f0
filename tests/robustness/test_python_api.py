"""Hostile inputs through the Python API: tokenizers and `Seq2Seq.generate`."""

import numpy as np
import pytest

from keras_seq.decoding import Beam, Greedy, Sample
from keras_seq.models import transformer_seq2seq

# What CharTokenizer(a..j) makes of each short hostile text (UNK = 1).
TOKENS = {
    "empty": [[]],
    "whitespace": [[1, 1, 1, 1, 1]],
    "one_char": [[4]],
    "invalid_utf8": [[4, 5, 1, 1, 6, 7]],  # each invalid byte: U+FFFD, UNK
    "unseen_chars": [[1, 1, 1, 1]],
    "control_nul": [[4, 1, 5, 1, 1, 1, 1, 1, 6]],
}


def test_tokenize(text_case, hostile, tokenizer):
    texts = hostile.TEXTS[text_case]
    ids = tokenizer.tokenize(texts).numpy()
    if text_case in TOKENS:
        assert ids.tolist() == TOKENS[text_case]
    elif text_case == "batch_zero":
        assert ids.shape == (0, 0)
    else:  # long_10000, mixed_empty_long
        long_row = np.tile(np.arange(4, 14), 1000)
        np.testing.assert_array_equal(ids[-1], long_row)
        assert ids.shape == (len(texts), 10000)
        assert ids[:-1].sum() == 0  # the empty row is all PAD
    cut = tokenizer.tokenize(texts, max_length=hostile.MAX_SOURCE_LENGTH).numpy()
    assert cut.shape[1] <= hostile.MAX_SOURCE_LENGTH
    np.testing.assert_array_equal(cut, ids[:, : cut.shape[1]])


def test_detokenize(ids_case, hostile, tokenizer):
    ids = hostile.IDS[ids_case]
    if ids.dtype.kind == "f":
        with pytest.raises(TypeError, match=r"`ids`.*int32 or int64.*float32"):
            tokenizer.detokenize(ids)
        return
    texts = [t.decode() for t in tokenizer.detokenize(ids).numpy()]
    expected = {
        "empty": [""],
        "one_char": ["a"],
        "batch_zero": [],
        "ids_outside_vocabulary": ["<unk>b<unk>"],
        "negative_ids": ["<unk>b<unk>"],
    }
    if ids_case in expected:
        assert texts == expected[ids_case]
    else:  # long_10000, mixed_empty_long
        assert texts[-1] == hostile.LONG and texts[:-1] in ([], [""])


def test_tokenize_refuses_non_strings(tokenizer):
    with pytest.raises(TypeError, match=r"`strings`.*tf.string.*float"):
        tokenizer.tokenize(np.full((2,), np.nan))
    with pytest.raises(ValueError, match=r"`strings`.*not a single string"):
        tokenizer.tokenize("abc")


# -- Seq2Seq.generate ----------------------------------------------------

GENERATE_ERRORS = {
    "ids_outside_vocabulary": (
        ValueError, r"`encoder_ids`.*\[0, 14\).*Received: ids from 5 to 2147483647"),
    "negative_ids": (
        ValueError, r"`encoder_ids`.*\[0, 14\).*Received: ids from -2147483648 to 5"),
    "float_ids": (TypeError, r"`encoder_ids`.*int32 or int64.*float32"),
    "nan_array": (TypeError, r"`encoder_ids`.*int32 or int64.*float32"),
}


@pytest.mark.parametrize("strategy", [Greedy(), Beam(size=2)], ids=["greedy", "beam"])
def test_generate(ids_case, strategy, hostile, model):
    ids = hostile.IDS[ids_case]
    if ids_case in GENERATE_ERRORS:
        error, message = GENERATE_ERRORS[ids_case]
        with pytest.raises(error, match=message) as info:
            model.generate(ids, strategy=strategy)
        assert "\n" not in str(info.value)  # one line, not a wrapped trace
        return
    out = model.generate(ids, strategy=strategy)
    hostile.assert_defined(out, len(ids))
    empty_rows = ~np.any(ids != 0, axis=1)
    assert np.all(out["lengths"].numpy()[empty_rows] == 0)
    assert np.all(out["scores"].numpy()[empty_rows] == 0.0)
    if ids_case == "mixed_empty_long":  # the empty row changes nothing
        alone = model.generate(ids[1:], strategy=strategy)
        width = int(alone["lengths"][0])
        np.testing.assert_array_equal(out["ids"][1, :width], alone["ids"][0, :width])
        np.testing.assert_allclose(out["scores"][1], alone["scores"][0], atol=1e-4)


@pytest.mark.parametrize("text_case", ["empty", "whitespace", "invalid_utf8",
                                       "unseen_chars", "control_nul", "batch_zero"])
def test_text_through_tokenizer_and_generate(text_case, hostile, model, tokenizer):
    texts = hostile.TEXTS[text_case]
    out = model.generate(tokenizer.tokenize(texts))
    hostile.assert_defined(out, len(texts))
    decoded = tokenizer.detokenize(out["ids"], out["lengths"]).numpy()
    assert len(decoded) == len(texts)
    if text_case == "empty":
        assert decoded.tolist() == [b""] and out["scores"].numpy().tolist() == [0.0]


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: Beam(length_penalty=float("nan")), "length_penalty"),
        (lambda: Sample(temperature=float("nan")), "temperature"),
        (lambda: Sample(top_p=float("nan")), "top_p"),
        (lambda: Sample(temperature=-1.0), "temperature"),
    ],
)
def test_nan_settings_are_refused_when_the_strategy_is_built(make, name):
    with pytest.raises(ValueError, match=rf"Invalid value for argument `{name}`") as info:
        make()
    assert "\n" not in str(info.value)


def test_nan_max_length_is_refused_before_tracing(model):
    with pytest.raises(ValueError, match=r"Invalid value for argument `max_length`") as info:
        model.generate(np.array([[4, 5]], np.int32), max_length=float("nan"))
    assert "in user code" not in str(info.value)


def test_transformer_refuses_sources_past_its_positions(hostile):
    model = transformer_seq2seq(
        hostile.V, hostile.V, num_layers=1, dim=8, num_heads=2, ff_dim=16,
        max_length=20,
    )
    with pytest.raises(ValueError, match=r"`encoder_ids`.*at most 20.*\(1, 10000\)"):
        model.generate(hostile.IDS["long_10000"])
    out = model.generate(hostile.IDS["long_10000"][:, :20])  # still answers
    hostile.assert_defined(out, 1)


def test_symbol_tokenizer_reads_whitespace_as_no_tokens():
    from keras_seq.text import SymbolTokenizer

    symbols = SymbolTokenizer(["<pad>", "<unk>", "<s>", "</s>", "a", "b"])
    ids = symbols.tokenize(["  \t  ", "", "a\x00b b", b"a\xff b"]).numpy()
    assert ids.tolist() == [[0, 0], [0, 0], [1, 5], [1, 5]]

"""One tiny trained model, exported once, and the table of hostile inputs.

The model reverses strings of the letters a..j (ids 4..13) with character
tokenizers on both sides. Every test module of this folder runs the same
hostile inputs (`TEXTS`, `IDS`) through one entry point; docs/robustness.md
records the outcomes.
"""

import os
import types

import keras
import numpy as np
import pytest

from keras_seq.export import export_saved_model, export_tflite
from keras_seq.metrics import MaskedSparseCrossEntropy
from keras_seq.models import rnn_seq2seq
from keras_seq.text import CharTokenizer

LETTERS = "abcdefghij"
VOCABULARY = ["<pad>", "<unk>", "<s>", "</s>"] + list(LETTERS)
V = len(VOCABULARY)
# The exports truncate sources to this many tokens (a deployment's choice).
MAX_SOURCE_LENGTH = 32
LONG = LETTERS * 1000  # 10,000 characters

# Hostile text inputs: name -> a batch of str/bytes.
TEXTS = {
    "empty": [""],
    "whitespace": ["  \t  "],
    "one_char": ["a"],
    "long_10000": [LONG],
    "invalid_utf8": [b"ab\xff\xfecd"],
    "unseen_chars": ["\U0001f600\u041f\u0440\u0438"],  # emoji, Cyrillic
    "control_nul": ["a\x00b\x01\x1b[2Jc"],
    "batch_zero": [],
    "mixed_empty_long": ["", LONG],
}

# Hostile id inputs: name -> an array (B, S) as a user would send it.
IDS = {
    "empty": np.zeros((1, 0), np.int32),
    "one_char": np.array([[4]], np.int32),
    "long_10000": np.tile(np.arange(4, 14, dtype=np.int32), 1000)[None, :],
    "batch_zero": np.zeros((0, 3), np.int32),
    "mixed_empty_long": np.stack(
        [np.zeros(10000, np.int32), np.tile(np.arange(4, 14, dtype=np.int32), 1000)]
    ),
    "ids_outside_vocabulary": np.array([[99, 5, 2**31 - 1]], np.int32),
    "negative_ids": np.array([[-1, 5, -(2**31)]], np.int32),
    "float_ids": np.array([[4.0, 5.5]], np.float32),
    "nan_array": np.full((1, 3), np.nan, np.float32),
}
# Cases that decode thousands of steps through the Python API.
SLOW = ("long_10000", "mixed_empty_long")
# What out-of-range ids read as in the exports: UNK (1).
AS_UNK = {
    "ids_outside_vocabulary": np.array([[1, 5, 1]], np.int32),
    "negative_ids": np.array([[1, 5, 1]], np.int32),
}


@pytest.fixture(scope="session")
def tokenizer():
    return CharTokenizer(VOCABULARY)


@pytest.fixture(scope="session")
def model(copy_task):
    """GRU + Luong attention, 16 units, trained ~2 s to reverse a..j."""
    keras.utils.set_random_seed(0)
    model = rnn_seq2seq(V, V, cell="gru", units=16, attention="luong")
    model.compile(keras.optimizers.Adam(2e-2), MaskedSparseCrossEntropy())
    x, y = copy_task(512, vocab_size=V, max_length=7, reverse=True)
    model.fit(x, y, batch_size=64, epochs=3, verbose=0)
    return model


@pytest.fixture(scope="session")
def exports(model, tokenizer, tmp_path_factory):
    """`{"saved_model": dir, "tflite": file}`, both exported once."""
    root = tmp_path_factory.mktemp("robustness_exports")
    saved = export_saved_model(
        model, str(root / "reverse" / "1"), source_tokenizer=tokenizer,
        target_tokenizer=tokenizer, max_source_length=MAX_SOURCE_LENGTH,
    )
    lite = str(root / "reverse.tflite")
    export_tflite(model, lite, max_source_length=MAX_SOURCE_LENGTH)
    return {"saved_model": saved, "tflite": lite}


def assert_defined(out, batch):
    """A decoding result for `batch` rows: shapes agree, no NaN, no inf."""
    ids, lengths = np.asarray(out["ids"]), np.asarray(out["lengths"])
    scores = np.asarray(out["scores"])
    assert ids.shape[0] == lengths.shape[0] == scores.shape[0] == batch
    assert np.all(np.isfinite(scores)), scores
    assert np.all((lengths >= 0) & (lengths <= ids.shape[1]))
    assert np.all((ids >= 0) & (ids < V))
    # PAD after each row's end.
    assert np.all(ids[np.arange(ids.shape[1])[None, :] >= lengths[:, None]] == 0)


@pytest.fixture(scope="session")
def hostile():
    """The table and its helpers (test modules can't import conftest)."""
    return types.SimpleNamespace(
        TEXTS=TEXTS, IDS=IDS, AS_UNK=AS_UNK, LONG=LONG, V=V,
        MAX_SOURCE_LENGTH=MAX_SOURCE_LENGTH, assert_defined=assert_defined,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )


def pytest_generate_tests(metafunc):
    """`text_case` runs over every hostile text, `ids_case` over the ids,
    unless the test parametrizes them itself."""
    explicit = {
        name
        for marker in metafunc.definition.iter_markers("parametrize")
        for name in str(marker.args[0]).replace(" ", "").split(",")
    }
    for name, table in (("text_case", TEXTS), ("ids_case", IDS)):
        if name in metafunc.fixturenames and name not in explicit:
            metafunc.parametrize(name, [
                pytest.param(case, marks=pytest.mark.slow) if case in SLOW else case
                for case in table
            ])

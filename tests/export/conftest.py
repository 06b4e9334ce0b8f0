"""Trained toy models, one per family, shared by the export tests."""

import keras
import numpy as np
import pytest

from keras_seq.constants import BOS, EOS
from keras_seq.metrics import MaskedSparseCrossEntropy
from keras_seq.models import rnn_seq2seq, transformer_seq2seq

V = 14
FAMILIES = {
    "simple_rnn-plain": dict(cell="simple_rnn"),
    "simple_rnn-bahdanau": dict(cell="simple_rnn", attention="bahdanau"),
    "simple_rnn-luong": dict(cell="simple_rnn", attention="luong"),
    "lstm-plain": dict(cell="lstm"),
    "lstm-bahdanau": dict(cell="lstm", attention="bahdanau"),
    "lstm-luong": dict(cell="lstm", attention="luong", bidirectional=True),
    "gru-plain": dict(cell="gru", bidirectional=True),
    "gru-bahdanau": dict(cell="gru", attention="bahdanau"),
    "gru-luong": dict(cell="gru", attention="luong"),
    "transformer": None,
}


def reverse_task(n, seed=0, max_length=7):
    rng = np.random.default_rng(seed)
    source = np.zeros((n, max_length), "int32")
    decoder_in = np.zeros((n, max_length + 1), "int32")
    target = np.zeros((n, max_length + 1), "int32")
    for i, length in enumerate(rng.integers(1, max_length + 1, n)):
        symbols = rng.integers(4, V, length)
        source[i, :length] = symbols
        decoder_in[i, 0] = BOS
        decoder_in[i, 1 : length + 1] = symbols[::-1]
        target[i, :length] = symbols[::-1]
        target[i, length] = EOS
    return {"encoder_ids": source, "decoder_ids": decoder_in}, target


def build(name, units=16):
    if name == "transformer":
        return transformer_seq2seq(
            V, V, num_layers=1, dim=units, num_heads=2, ff_dim=2 * units,
            max_length=20,
        )
    return rnn_seq2seq(V, V, units=units, **FAMILIES[name])


_CACHE = {}


def trained_model(name, units=16):
    """A small model of family `name`, trained ~1 s on reversal (cached)."""
    if (name, units) not in _CACHE:
        keras.utils.set_random_seed(0)
        model = build(name, units)
        model.compile(keras.optimizers.Adam(2e-2), MaskedSparseCrossEntropy())
        x, y = reverse_task(512)
        model.fit(x, y, batch_size=64, epochs=3, verbose=0)
        _CACHE[name, units] = model
    return _CACHE[name, units]


@pytest.fixture
def sources():
    """Sources of several lengths, with padding and an out-of-range id."""
    x, _ = reverse_task(6, seed=1)
    return x["encoder_ids"]


@pytest.fixture
def trained():
    return trained_model


@pytest.fixture
def toy_task():
    return reverse_task


def pytest_generate_tests(metafunc):
    explicit = any(
        "family" in m.args[0] for m in metafunc.definition.iter_markers("parametrize")
    )
    if "family" in metafunc.fixturenames and not explicit:
        metafunc.parametrize("family", sorted(FAMILIES))

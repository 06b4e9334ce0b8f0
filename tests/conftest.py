"""Shared fixtures: quiet TensorFlow, tiny data, dtype-policy hygiene."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from keras_seq.constants import BOS, EOS  # noqa: E402


@pytest.fixture(autouse=True)
def _float32_policy():
    """Every test starts and ends with the float32 policy and fresh seeds."""
    keras.mixed_precision.set_global_policy("float32")
    keras.utils.set_random_seed(1234)
    yield
    keras.mixed_precision.set_global_policy("float32")


def make_copy_task(n, vocab_size=12, max_length=6, seed=0, reverse=False):
    """Tiny copy (or reverse) task: source ids -> the same ids then EOS.

    Returns `({"encoder_ids", "decoder_ids"}, target_ids)` as int32 arrays,
    right-padded with PAD=0; symbols are drawn from [4, vocab_size).
    """
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, max_length + 1, n)
    source = np.zeros((n, max_length), "int32")
    decoder_in = np.zeros((n, max_length + 1), "int32")
    target = np.zeros((n, max_length + 1), "int32")
    for i, length in enumerate(lengths):
        symbols = rng.integers(4, vocab_size, length)
        out = symbols[::-1] if reverse else symbols
        source[i, :length] = symbols
        decoder_in[i, 0] = BOS
        decoder_in[i, 1 : length + 1] = out
        target[i, :length] = out
        target[i, length] = EOS
    return {"encoder_ids": source, "decoder_ids": decoder_in}, target


@pytest.fixture(scope="session")
def copy_task():
    return make_copy_task

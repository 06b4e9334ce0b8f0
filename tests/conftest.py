"""Shared fixtures: quiet TensorFlow, tiny data, dtype-policy hygiene."""

import json
import os
import socket
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # tests/testing.py

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


@pytest.fixture
def policy(request):
    """Indirect parametrization: `parametrize("policy", [...], indirect=True)`
    runs the test under each dtype policy (`_float32_policy` restores it)."""
    keras.mixed_precision.set_global_policy(request.param)
    return request.param


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


def loopback_worker_environments(n):
    """`os.environ` plus TF_CONFIG for `n` workers on free loopback ports.

    Worker `i` of a `MultiWorkerMirroredStrategy` cluster runs with the
    `i`-th environment (worker 0 is the chief).
    """
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    return [
        dict(os.environ, TF_CONFIG=json.dumps(
            {"cluster": cluster, "task": {"type": "worker", "index": index}}))
        for index in range(n)
    ]


@pytest.fixture(scope="session")
def worker_environments():
    return loopback_worker_environments

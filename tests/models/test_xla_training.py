"""Training under XLA, which `compile(jit_compile="auto")` picks on a GPU.

Keras resolves `jit_compile="auto"` to True wherever a GPU is visible, so a
model that XLA cannot compile would fail `fit` on every GPU machine. The CPU
runs the same tf2xla conversion, so these tests stand in for the GPU here.
"""

import keras
import numpy as np
import pytest

from keras_seq.metrics import MaskedSparseCrossEntropy
from keras_seq.models import rnn_seq2seq, transformer_seq2seq

V = 12

BUILDERS = {
    # run_rnn's loop, forward and backward directions.
    "rnn-lstm-bidi": lambda: rnn_seq2seq(V, V, cell="lstm", units=8, bidirectional=True),
    # Input feeding: the decoder's own step loop (_call_stepwise).
    "bahdanau-gru": lambda: rnn_seq2seq(V, V, cell="gru", units=8, attention="bahdanau"),
    "luong-simple-2layers": lambda: rnn_seq2seq(
        V, V, cell="simple_rnn", units=8, num_layers=2, attention="luong"
    ),
    "transformer": lambda: transformer_seq2seq(
        V, V, num_layers=1, dim=8, num_heads=2, ff_dim=16, max_length=8
    ),
}


def _one_step(name, weights, jit_compile, x, y):
    model = BUILDERS[name]()
    model(x)
    model.set_weights(weights)
    model.compile(
        keras.optimizers.SGD(0.5), MaskedSparseCrossEntropy(), jit_compile=jit_compile
    )
    loss = float(model.train_on_batch(x, y))
    return loss, model.get_weights(), model


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_a_fit_step_under_xla_equals_the_step_without_it(name, copy_task):
    x, y = copy_task(16, vocab_size=V, max_length=6)
    reference = BUILDERS[name]()
    reference(x)
    start = reference.get_weights()

    plain_loss, plain_weights, _ = _one_step(name, start, False, x, y)
    xla_loss, xla_weights, model = _one_step(name, start, True, x, y)

    assert model.jit_compile is True
    assert np.isfinite(xla_loss) and xla_loss > 0
    np.testing.assert_allclose(xla_loss, plain_loss, rtol=1e-4)
    moved = 0
    for before, plain, xla in zip(start, plain_weights, xla_weights):
        np.testing.assert_allclose(xla, plain, rtol=1e-3, atol=1e-5)
        moved += not np.allclose(plain, before)
    assert moved >= len(start) // 2  # the step really trained the model

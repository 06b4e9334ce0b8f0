"""The fast training kernels equal the export-safe loops and `step`.

`keras_seq.layers.kernels` chooses, at one seam, how recurrences run. Every
kernel must give the numbers of the export-safe loop (to 1e-5), forward and
gradient, for every cell, encoder and decoder family; the exports must
trace the export-safe loop; and the cuDNN branch (GPU only) must arrange
Keras' kernel's results as the loop does, which a stand-in for Keras' cuDNN
functions checks here.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_seq.decoders import AttentionRNNDecoder, RNNDecoder
from keras_seq.encoders import RNNEncoder
from keras_seq.layers import cudnn_recurrence, kernels
from keras_seq.layers.kernels import current_kernel, use_kernel
from keras_seq.metrics import MaskedSparseCrossEntropy
from keras_seq.models import Seq2Seq

V = 13
# Right-padded rows, a row with a PAD inside (carried state), an all-PAD row.
SOURCE = np.array(
    [[5, 6, 7, 8, 9], [9, 4, 0, 0, 0], [4, 0, 5, 6, 0], [0, 0, 0, 0, 0]], "int32"
)
TARGET = np.array(
    [[2, 5, 6, 7, 8], [2, 9, 4, 0, 0], [2, 4, 0, 5, 0], [2, 0, 0, 0, 0]], "int32"
)
CELLS = ("simple_rnn", "lstm", "gru")


def decoder_families(cell):
    return {
        "rnn": lambda: RNNDecoder(V, 8, cell=cell, num_layers=2),
        "bahdanau": lambda: AttentionRNNDecoder(V, 8, cell=cell, num_layers=2),
        "bahdanau-nofeed": lambda: AttentionRNNDecoder(
            V, 8, cell=cell, num_layers=2, input_feeding=False
        ),
        "luong-general": lambda: AttentionRNNDecoder(
            V, 8, cell=cell, num_layers=2, attention="luong"
        ),
        "luong-dot-nofeed": lambda: AttentionRNNDecoder(
            V, 8, cell=cell, num_layers=2, attention="luong", luong_score="dot",
            input_feeding=False,
        ),
        "luong-concat": lambda: AttentionRNNDecoder(
            V, 8, cell=cell, num_layers=2, attention="luong", luong_score="concat"
        ),
    }


CASES = [(c, f) for c in CELLS for f in decoder_families(c)]


def scale_embeddings(*layers):
    """Embeddings of unit scale, so the cells' values are far from zero."""
    rng = np.random.default_rng(0)
    for layer in layers:
        weights = layer.embedding.get_weights()[0]
        layer.embedding.set_weights([rng.normal(size=weights.shape).astype("float32")])


def make_model(cell, family):
    encoder = RNNEncoder(V, 4, cell=cell, num_layers=2, bidirectional=True)
    model = Seq2Seq(encoder, decoder_families(cell)[family]())
    model({"encoder_ids": SOURCE, "decoder_ids": TARGET})
    scale_embeddings(model.encoder, model.decoder)
    return model


def run(model, kernel, return_attention=False):
    with use_kernel(kernel):
        fn = tf.function(
            lambda x: model(x, return_attention=return_attention)
        )  # traced under the kernel, as fit and the exporters trace
        return fn({"encoder_ids": SOURCE, "decoder_ids": TARGET})


def graph_op_types(graph_def):
    """The op types of a graph and of every function in its library."""
    types = {node.op for node in graph_def.node}
    for function in graph_def.library.function:
        types.update(node.op for node in function.node_def)
    return types


def stepped(model):
    encoded = model.encoder(SOURCE)
    state = model.decoder.initial_state(encoded)
    logits = []
    for t in range(TARGET.shape[1]):
        out, state = model.decoder.step(TARGET[:, t], state, encoded)
        logits.append(out)
    return np.stack(logits, 1)


def test_use_kernel_sets_and_restores_and_checks_its_argument():
    assert current_kernel() == "auto"
    with use_kernel("export"):
        assert kernels.export_safe()
        with use_kernel("loop"):
            assert current_kernel() == "loop" and not kernels.export_safe()
        assert current_kernel() == "export"
    assert current_kernel() == "auto"
    with pytest.raises(ValueError, match="`kernel`.*Received: kernel='cudnn'"):
        with use_kernel("cudnn"):
            pass
    assert not kernels.cudnn_possible()  # no GPU on the test machines


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", CELLS)
def test_encoder_kernels_agree(cell, bidirectional):
    encoder = RNNEncoder(V, 6, cell=cell, num_layers=2, bidirectional=bidirectional)
    encoder(SOURCE)
    scale_embeddings(encoder)
    outputs = {}
    for kernel in ("export", "loop", "auto"):
        with use_kernel(kernel):
            outputs[kernel] = tf.function(encoder)(SOURCE)
    reference = outputs["export"]
    assert np.abs(reference.sequence.numpy()).max() > 0.02  # not all zeros
    for kernel in ("loop", "auto"):
        out = outputs[kernel]
        np.testing.assert_allclose(out.sequence, reference.sequence, rtol=1e-5, atol=1e-6)
        for got, want in zip(tf.nest.flatten(out.state), tf.nest.flatten(reference.state)):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # padding: zero outputs at PAD, the all-PAD row keeps the zero state
    np.testing.assert_array_equal(outputs["loop"].sequence.numpy()[SOURCE == 0], 0)
    for state in tf.nest.flatten(outputs["loop"].state):
        np.testing.assert_array_equal(state.numpy()[3], 0)


@pytest.mark.parametrize("cell,family", CASES)
def test_fast_call_equals_export_call_equals_step(cell, family):
    model = make_model(cell, family)
    fast_logits, fast_weights = run(model, "auto", return_attention=True)
    export_logits, export_weights = run(model, "export", return_attention=True)
    np.testing.assert_allclose(fast_logits, export_logits, atol=1e-5)
    np.testing.assert_allclose(fast_logits, stepped(model), atol=1e-5)
    if family == "rnn":
        assert fast_weights is None and export_weights is None
    else:
        np.testing.assert_allclose(fast_weights, export_weights, atol=1e-5)
        np.testing.assert_allclose(np.sum(fast_weights[:3], -1), 1.0, atol=1e-5)
    np.testing.assert_allclose(run(model, "loop"), export_logits, atol=1e-5)


@pytest.mark.parametrize(
    "cell,family",
    [("lstm", "luong-general"), ("gru", "bahdanau"), ("gru", "luong-dot-nofeed"),
     ("simple_rnn", "rnn"), ("lstm", "bahdanau-nofeed")],
)
def test_fast_gradients_equal_export_gradients(cell, family):
    model = make_model(cell, family)
    loss_fn = MaskedSparseCrossEntropy()
    labels = np.concatenate([TARGET[:, 1:], np.full((4, 1), 3, "int32")], 1)
    labels[TARGET == 0] = 0

    def gradients(kernel):
        with use_kernel(kernel):

            @tf.function
            def compute():
                with tf.GradientTape() as tape:
                    logits = model(
                        {"encoder_ids": SOURCE, "decoder_ids": TARGET}, training=True
                    )
                    loss = loss_fn(labels, logits)
                return loss, tape.gradient(loss, model.trainable_variables)

            return compute()

    fast_loss, fast = gradients("auto")
    export_loss, export = gradients("export")
    np.testing.assert_allclose(fast_loss, export_loss, rtol=1e-6)
    assert len(fast) == len(model.trainable_variables)
    for variable, got, want in zip(model.trainable_variables, fast, export):
        assert got is not None, variable.path
        np.testing.assert_allclose(
            tf.convert_to_tensor(got), tf.convert_to_tensor(want), atol=1e-5,
            err_msg=variable.path,
        )


def test_fit_with_the_fast_kernel_follows_the_export_loop(copy_task):
    x, y = copy_task(64, vocab_size=V, max_length=5)
    histories = []
    start = make_model("lstm", "luong-general").get_weights()
    for kernel in ("auto", "export"):
        with use_kernel(kernel):
            model = make_model("lstm", "luong-general")
            model.set_weights(start)
            # SGD: its steps are linear in the gradients (Adam's normalised
            # steps would magnify float noise in gradients near zero).
            model.compile(keras.optimizers.SGD(1.0), MaskedSparseCrossEntropy())
            history = model.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False)
        histories.append(history.history["loss"])
    fast, export = histories
    assert fast[-1] < 0.95 * fast[0]  # it trains
    np.testing.assert_allclose(fast, export, rtol=1e-4)  # the same training


def test_exports_trace_the_export_safe_loops(tmp_path):
    from keras_seq.export import export_saved_model

    model = make_model("lstm", "luong-general")
    path = export_saved_model(model, str(tmp_path / "m" / "1"))
    loaded = tf.saved_model.load(path)
    op_types = graph_op_types(loaded.signatures["generate_ids"].graph.as_graph_def())
    assert "While" in op_types or "StatelessWhile" in op_types
    assert not {op for op in op_types if op.startswith("TensorList")}
    assert not {op for op in op_types if "Cudnn" in op}
    out = loaded.signatures["generate_ids"](encoder_ids=tf.constant(SOURCE[:2]))
    want = model.generate(SOURCE[:2])
    np.testing.assert_array_equal(out["ids"], want["ids"])


# -- the cuDNN branch, with a stand-in for Keras' cuDNN functions ------------
class StandInKerasRNN:
    """Keras' `lstm`/`gru` contract (outputs of a backward pass in processing
    order, zeros at padding), computed without cuDNN; counts its calls."""

    calls = 0

    @staticmethod
    def cudnn_ok(*args, **kwargs):
        return True

    @classmethod
    def _run(cls, step, inputs, states, mask, go_backwards):
        from keras.src.backend.tensorflow.rnn import rnn

        cls.calls += 1
        _, outputs, states = rnn(
            step, inputs, list(states), go_backwards=go_backwards, mask=mask,
            zero_output_for_mask=True, return_all_outputs=True,
        )
        return None, outputs, states

    @classmethod
    def lstm(cls, inputs, h, c, mask, kernel, recurrent_kernel, bias,
             activation, recurrent_activation, return_sequences, go_backwards):
        def step(x, states):
            z = x @ kernel + states[0] @ recurrent_kernel + bias
            i, f, g, o = tf.split(z, 4, axis=-1)
            c = recurrent_activation(f) * states[1] + recurrent_activation(i) * activation(g)
            h = recurrent_activation(o) * activation(c)
            return h, [h, c]

        return cls._run(step, inputs, [h, c], mask, go_backwards)

    @classmethod
    def gru(cls, inputs, h, mask, kernel, recurrent_kernel, bias, activation,
            recurrent_activation, return_sequences, go_backwards, reset_after):
        def step(x, states):
            xz, xr, xh = tf.split(x @ kernel + bias[0], 3, axis=-1)
            rz, rr, rh = tf.split(states[0] @ recurrent_kernel + bias[1], 3, axis=-1)
            z = recurrent_activation(xz + rz)
            r = recurrent_activation(xr + rr)
            h = z * states[0] + (1 - z) * activation(xh + r * rh)
            return h, [h]

        return cls._run(step, inputs, [h], mask, go_backwards)


@pytest.fixture
def stand_in_cudnn(monkeypatch):
    StandInKerasRNN.calls = 0
    monkeypatch.setattr(cudnn_recurrence, "_keras_rnn", lambda: StandInKerasRNN)
    monkeypatch.setattr(
        kernels, "cudnn_possible", lambda: kernels.current_kernel() == "auto"
    )
    return StandInKerasRNN


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_cudnn_branch_equals_the_export_loop(cell, stand_in_cudnn):
    model = make_model(cell, "luong-dot-nofeed")
    export_logits, _ = run(model, "export", return_attention=True)
    # SOURCE has a PAD inside a row and an all-PAD row: cuDNN cannot take
    # it, so the graph chooses the fast loop.
    with use_kernel("auto"):
        fn = tf.function(lambda x: model(x))
        mixed = fn({"encoder_ids": SOURCE, "decoder_ids": TARGET})
        right = fn({"encoder_ids": SOURCE[:2], "decoder_ids": TARGET[:2]})
    # Two traces (two batch sizes), each: the encoder's 2 layers x 2
    # directions and the decoder's 2 layers.
    assert stand_in_cudnn.calls == 2 * (2 * 2 + 2)
    np.testing.assert_allclose(mixed, export_logits, atol=1e-5)
    np.testing.assert_allclose(right, export_logits[:2], atol=1e-5)
    assert bool(cudnn_recurrence.cudnn_mask_ok(SOURCE[:2] != 0))
    assert not bool(cudnn_recurrence.cudnn_mask_ok(SOURCE[2:3] != 0))
    assert not bool(cudnn_recurrence.cudnn_mask_ok(SOURCE[3:] != 0))


def test_cudnn_branch_is_not_taken_for_simple_rnn_or_input_feeding(stand_in_cudnn):
    for cell, family in (("simple_rnn", "rnn"), ("lstm", "luong-general")):
        model = make_model(cell, family)
        run(model, "auto")
    # simple_rnn: never; input feeding: the encoder's 4 directions only
    assert stand_in_cudnn.calls == 4
    with use_kernel("loop"):
        model = make_model("lstm", "rnn")
        stand_in_cudnn.calls = 0
    run(model, "loop")
    assert stand_in_cudnn.calls == 0


def test_the_real_keras_module_has_the_contract_the_stand_in_mimics(monkeypatch):
    """The stand-in above hides `_keras_rnn`; this checks the real one.

    Importing `rnn` from `keras.src.backend.tensorflow` gives the package's
    re-exported `rnn` *function*, which has no `cudnn_ok`: on the first GPU
    run every recurrent model failed with "'function' object has no
    attribute 'cudnn_ok'" while every CPU test passed.
    """
    import inspect

    real = cudnn_recurrence._keras_rnn()
    for name in ("cudnn_ok", "lstm", "gru"):
        assert callable(getattr(real, name)), name
    for name in ("lstm", "gru"):  # every argument run_cudnn passes is accepted
        wanted = list(inspect.signature(getattr(StandInKerasRNN, name)).parameters)
        inspect.signature(getattr(real, name)).bind(*wanted)
    # No GPU here: Keras says no, and so does keras_seq.
    assert not cudnn_recurrence.cudnn_supports(keras.layers.LSTMCell(8))
    monkeypatch.setattr(real, "_is_gpu_available", lambda: True)
    assert cudnn_recurrence.cudnn_supports(keras.layers.LSTMCell(8))
    assert cudnn_recurrence.cudnn_supports(keras.layers.GRUCell(8))
    assert not cudnn_recurrence.cudnn_supports(keras.layers.GRUCell(8, reset_after=False))
    assert not cudnn_recurrence.cudnn_supports(keras.layers.LSTMCell(8, activation="relu"))
    assert not cudnn_recurrence.cudnn_supports(keras.layers.SimpleRNNCell(8))
    assert cudnn_recurrence.uses_cudnn([keras.layers.LSTMCell(8), keras.layers.LSTMCell(8)])


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_the_real_cudnn_branch_traces(cell, monkeypatch):
    """With a GPU pretended, a training step's graph holds Keras' cuDNN op.

    No CPU kernel runs CudnnRNN, but tracing builds both branches of the
    cond, so every call into Keras' real `lstm`/`gru` (arguments, shapes,
    the mask, a backward direction) is exercised here as on a GPU.
    """
    real = cudnn_recurrence._keras_rnn()
    monkeypatch.setattr(real, "_is_gpu_available", lambda: True)
    monkeypatch.setattr(kernels, "cudnn_possible", lambda: kernels.current_kernel() == "auto")
    model = make_model(cell, "luong-dot-nofeed")
    x = {"encoder_ids": SOURCE, "decoder_ids": TARGET}

    def training_step(inputs):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(model(inputs, training=True))
        return tape.gradient(loss, model.trainable_variables)

    def op_types(kernel):
        with use_kernel(kernel):
            return graph_op_types(
                tf.function(training_step).get_concrete_function(x).graph.as_graph_def())

    cudnn = {t for t in op_types("auto") if t.startswith("CudnnRNN")}
    # Forward and gradient: the encoder's 4 directions and the decoder's layers.
    assert "CudnnRNNV3" in cudnn and "CudnnRNNBackpropV3" in cudnn, cudnn
    assert not any(t.startswith("CudnnRNN") for t in op_types("loop"))

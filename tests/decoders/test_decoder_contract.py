"""The decoder contract, asserted for every decoder and every cell.

Teacher-forced logits equal `initial_state` + `step` token by token; padding
appended to the source or target changes nothing at real positions; padded
source positions get zero attention; all-padding rows stay finite.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_seq.decoders import (
    AttentionRNNDecoder,
    RNNDecoder,
    TransformerDecoder,
)
from keras_seq.encoders import RNNEncoder, TransformerEncoder
from testing import run_layer_test

V = 13
SOURCE = np.array([[5, 6, 7, 8, 0], [9, 4, 0, 0, 0]], "int32")
TARGET = np.array([[2, 5, 6, 7, 8], [2, 9, 4, 0, 0]], "int32")


def rnn_pair(cell, **kwargs):
    def make():
        encoder = RNNEncoder(V, 4, cell=cell, num_layers=2, bidirectional=True)
        if kwargs.get("attention"):
            decoder = AttentionRNNDecoder(V, 8, cell=cell, num_layers=2, **kwargs)
        else:
            decoder = RNNDecoder(V, 8, cell=cell, num_layers=2)
        return encoder, decoder

    return make


def transformer_pair(normalize_first):
    def make():
        common = dict(num_layers=2, dim=8, num_heads=2, ff_dim=16, max_length=8)
        encoder = TransformerEncoder(V, normalize_first=normalize_first, **common)
        decoder = TransformerDecoder(V, normalize_first=normalize_first, **common)
        return encoder, decoder

    return make


PAIRS = {}
for _cell in ("simple_rnn", "lstm", "gru"):
    PAIRS[f"rnn-{_cell}"] = rnn_pair(_cell)
    PAIRS[f"bahdanau-{_cell}"] = rnn_pair(_cell, attention="bahdanau")
    PAIRS[f"luong-general-{_cell}"] = rnn_pair(_cell, attention="luong")
PAIRS["luong-dot-nofeed"] = rnn_pair(
    "lstm", attention="luong", luong_score="dot", input_feeding=False
)
PAIRS["luong-concat"] = rnn_pair("gru", attention="luong", luong_score="concat")
PAIRS["bahdanau-nofeed"] = rnn_pair("lstm", attention="bahdanau", input_feeding=False)
PAIRS["transformer-postnorm"] = transformer_pair(False)
PAIRS["transformer-prenorm"] = transformer_pair(True)
ATTENDING = [k for k in PAIRS if not k.startswith("rnn-")]


def stepped_logits(decoder, encoder_output, target):
    state = decoder.initial_state(encoder_output)
    logits = []
    for t in range(target.shape[1]):
        step_logits, state = decoder.step(target[:, t], state, encoder_output)
        logits.append(step_logits)
    return np.stack(logits, axis=1)


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_teacher_forcing_equals_stepping(name):
    encoder, decoder = PAIRS[name]()
    encoder_output = encoder(SOURCE)
    logits = decoder(TARGET, encoder_output)
    assert logits.shape == (2, 5, V) and logits.dtype == "float32"
    stepped = stepped_logits(decoder, encoder_output, TARGET)
    real = TARGET != 0
    np.testing.assert_allclose(logits.numpy()[real], stepped[real], atol=1e-5)


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_step_runs_in_a_graph_while_loop(name):
    """Export-safety smoke test: the step traces inside one tf.while_loop."""
    encoder, decoder = PAIRS[name]()
    encoder_output = encoder(SOURCE)
    expected = stepped_logits(decoder, encoder_output, TARGET)

    @tf.function
    def loop(ids):
        state = decoder.initial_state(encoder_output)
        out = tf.zeros((2, 0, V))

        def body(t, state, out):
            logits, state = decoder.step(ids[:, t], state, encoder_output)
            return t + 1, state, tf.concat([out, logits[:, None]], axis=1)

        _, _, out = tf.while_loop(
            lambda t, *_: t < tf.shape(ids)[1],
            body,
            (0, state, out),
            shape_invariants=(
                tf.TensorShape([]),
                tf.nest.map_structure(lambda s: s.shape, state),
                tf.TensorShape([2, None, V]),
            ),
        )
        return out

    np.testing.assert_allclose(loop(tf.constant(TARGET)), expected, atol=1e-5)


@settings(max_examples=10, deadline=None)
@given(
    name=st.sampled_from(sorted(PAIRS)),
    source_pad=st.integers(0, 3),
    target_pad=st.integers(0, 3),
)
def test_appended_padding_changes_no_real_position(name, source_pad, target_pad):
    encoder, decoder = PAIRS[name]()
    base = decoder(TARGET, encoder(SOURCE)).numpy()
    padded = decoder(
        np.pad(TARGET, ((0, 0), (0, target_pad))),
        encoder(np.pad(SOURCE, ((0, 0), (0, source_pad)))),
    ).numpy()
    real = TARGET != 0
    np.testing.assert_allclose(padded[:, : TARGET.shape[1]][real], base[real], atol=1e-5)


@pytest.mark.parametrize("name", sorted(ATTENDING))
def test_attention_on_padded_source_is_exactly_zero(name):
    encoder, decoder = PAIRS[name]()
    encoder_output = encoder(SOURCE)
    _, weights = decoder(TARGET, encoder_output, return_attention=True)
    weights = weights.numpy()
    assert weights.shape == (2, 5, 5)
    assert np.all(weights[:, :, :][SOURCE[:, None, :].repeat(5, 1) == 0] == 0.0)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)
    state = decoder.initial_state(encoder_output)
    _, state = decoder.step(TARGET[:, 0], state, encoder_output)
    assert np.all(state["attention"].numpy()[SOURCE == 0] == 0.0)


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
@pytest.mark.parametrize("name", sorted(PAIRS))
def test_all_padding_rows_give_finite_logits_and_gradients(name, policy):
    keras.mixed_precision.set_global_policy(policy)
    encoder, decoder = PAIRS[name]()
    source = np.array([[0, 0, 0], [4, 5, 0]], "int32")
    target = np.array([[0, 0, 0], [2, 5, 0]], "int32")
    with tf.GradientTape() as tape:
        logits = decoder(target, encoder(source, training=True), training=True)
        loss = tf.reduce_sum(logits**2)
    assert logits.dtype == "float32"
    weights = encoder.trainable_weights + decoder.trainable_weights
    grads = [tf.convert_to_tensor(g) for g in tape.gradient(loss, weights)]
    assert np.all(np.isfinite(logits.numpy()))
    for g in grads:
        assert np.all(np.isfinite(tf.cast(g, "float32").numpy()))


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_layer_checks(name):
    """Config round trip, build() creates every weight (the attention's
    too), symbolic == eager, mixed precision (tests/testing.py)."""
    encoder_output = PAIRS[name]()[0](SOURCE)
    logits = run_layer_test(lambda: PAIRS[name]()[1], (TARGET, encoder_output))
    assert logits.shape == (*TARGET.shape, V) and logits.dtype == "float32"


def test_rnn_decoder_errors():
    with pytest.raises(ValueError, match="`attention`.*'dot'"):
        AttentionRNNDecoder(V, 8, attention="dot")
    with pytest.raises(ValueError, match="`cell`"):
        RNNDecoder(V, 8, cell="LSTM")
    decoder = RNNDecoder(V, 8)
    encoder_output = RNNEncoder(V, 6)(SOURCE)
    with pytest.raises(ValueError, match="`units`"):
        decoder(TARGET, encoder_output)
    with pytest.raises(TypeError, match="`decoder_ids`"):
        RNNDecoder(V, 6)(TARGET.astype("float32"), encoder_output)
    with pytest.raises(ValueError, match="num_layers"):
        RNNDecoder(V, 6, num_layers=2)(TARGET, encoder_output)


def test_attention_decoder_build_needs_the_encoder_width():
    with pytest.raises(ValueError, match="needs `encoder_output_shape` with a known width D"):
        AttentionRNNDecoder(V, 8).build((None, None))
    decoder = AttentionRNNDecoder(V, 8)  # built on first use, by build()
    output = RNNEncoder(V, 8)(SOURCE)
    state = decoder.initial_state(output)
    assert decoder.built and state["feed"].shape == (2, 8)


@pytest.mark.parametrize("policy", ["float32", "mixed_float16"])
@pytest.mark.parametrize("name", sorted(PAIRS))
def test_state_spec_describes_initial_state(name, policy):
    """`state_spec` (read from the config) has the structure, shapes and
    dtypes of `initial_state`, for known and unknown B and S."""
    keras.mixed_precision.set_global_policy(policy)
    encoder, decoder = PAIRS[name]()
    state = decoder.initial_state(encoder(SOURCE))
    spec = decoder.state_spec(*SOURCE.shape)
    keras.tree.assert_same_structure(state, spec)
    for tensor, tensor_spec in zip(keras.tree.flatten(state), keras.tree.flatten(spec)):
        assert tuple(tensor.shape) == tuple(tensor_spec.shape)
        assert tensor.dtype == tensor_spec.dtype
    unknown = keras.tree.flatten(decoder.state_spec())
    assert [s.dtype for s in unknown] == [s.dtype for s in keras.tree.flatten(spec)]
    for known, free in zip(keras.tree.flatten(spec), unknown):
        # B and S (and nothing else) are left unknown.
        assert all(f is None or f == k for k, f in zip(known.shape, free.shape))
        assert free.shape[0] is None

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_seq.decoders.decoder import Decoder
from keras_seq.decoders.transformer_decoder import TransformerDecoder
from keras_seq.encoders.encoder_output import EncoderOutput
from keras_seq.encoders.transformer_encoder import TransformerEncoder
from testing import run_layer_test

SRC = np.array([[5, 7, 9, 3, 0], [4, 6, 3, 0, 0]], dtype="int32")
# BOS-prefixed targets; the second row has trailing padding.
TGT = np.array([[2, 8, 9, 10, 11, 3], [2, 6, 4, 0, 0, 0]], dtype="int32")
CONFIG = dict(vocab_size=20, num_layers=2, dim=8, num_heads=2, ff_dim=16,
              max_length=8)


def make(seed=0, **kwargs):
    """An encoder and a decoder with random weights (biases, norms too)."""
    encoder = TransformerEncoder(**{**CONFIG, **kwargs})
    decoder = TransformerDecoder(**{**CONFIG, **kwargs})
    rng = np.random.default_rng(seed)
    for layer in (encoder, decoder):
        layer.build()
        layer.set_weights([w + 0.2 * rng.normal(size=w.shape)
                           for w in layer.get_weights()])
    return encoder, decoder


def step_all(decoder, ids, encoder_output):
    state = decoder.initial_state(encoder_output)
    logits, states = [], [state]
    for t in range(ids.shape[1]):
        step_logits, state = decoder.step(ids[:, t], state, encoder_output)
        logits.append(step_logits)
        states.append(state)
    return np.stack(logits, axis=1), states


def test_is_a_decoder_and_builds_weights_before_call():
    encoder, decoder = make()
    assert isinstance(decoder, Decoder)
    count = len(decoder.weights)
    # embedding + 2 blocks x (2 attentions x 8 + 3 norms x 2 + 2 dense x 2)
    # + the output projection.
    assert count == 1 + 2 * 26 + 2
    decoder(TGT, encoder(SRC))
    assert len(decoder.weights) == count


@pytest.mark.parametrize("normalize_first,positions",
                         [(False, "sinusoidal"), (True, "sinusoidal"),
                          (False, "learned"), (True, "learned")])
def test_teacher_forcing_equals_stepping(normalize_first, positions):
    encoder, decoder = make(normalize_first=normalize_first,
                            positions=positions)
    encoder_output = encoder(SRC)
    logits, attention = decoder(TGT, encoder_output, return_attention=True)
    assert logits.shape == (2, 6, 20) and logits.dtype == "float32"
    stepped, states = step_all(decoder, TGT, encoder_output)
    real = TGT != 0
    np.testing.assert_allclose(stepped[real], logits.numpy()[real], atol=1e-5)
    for t, state in enumerate(states[1:]):
        rows = real[:, t]
        np.testing.assert_allclose(state["attention"].numpy()[rows],
                                   attention.numpy()[rows, t], atol=1e-6)


def test_step_writes_one_cache_position_per_call():
    encoder, decoder = make()
    encoder_output = encoder(SRC)
    seen = []
    block = decoder.blocks[0]
    original = block.call

    def spy(x, *args, **kwargs):
        seen.append(tuple(x.shape))
        return original(x, *args, **kwargs)

    block.call = spy
    _, states = step_all(decoder, TGT, encoder_output)
    assert seen == [(2, 1, 8)] * TGT.shape[1]  # T=1 inputs: no prefix rerun
    for t, state in enumerate(states):
        assert set(state) == {"keys", "values", "memory_keys", "memory_values",
                              "index", "attention"}
        for name in ("keys", "values"):  # one (B, max, H, D/H) per layer
            assert [c.shape for c in state[name]] == [(2, 8, 2, 4)] * 2
            for cache in state[name]:
                written = np.any(cache.numpy() != 0, axis=(0, 2, 3))
                np.testing.assert_array_equal(written, np.arange(8) < t)
        for name in ("memory_keys", "memory_values"):  # (B, S, H, D/H)
            assert [c.shape for c in state[name]] == [(2, 5, 2, 4)] * 2
        assert state["attention"].shape == (2, 5)
        np.testing.assert_array_equal(state["index"], [t, t])


@pytest.mark.parametrize("index,reads_as", [(8, 7), (10**6, 7), (2**31 - 1, 7),
                                             (-1, 0), (-(2**31), 0)])
def test_sanitize_state_reads_an_index_outside_the_cache_as_its_nearest_end(
    index, reads_as
):
    # Exports call it on an app-fed state: no out-of-bounds gather or
    # negative position may reach `step`.
    encoder, decoder = make()
    encoder_output = encoder(SRC)
    _, states = step_all(decoder, TGT, encoder_output)
    state = {**states[4], "index": np.full((2,), index, "int32")}
    clean = decoder.sanitize_state(state)
    np.testing.assert_array_equal(clean["index"], [reads_as] * 2)
    assert set(clean) == set(state)
    for name in ("keys", "values", "memory_keys", "memory_values"):
        assert all(a is b for a, b in zip(clean[name], state[name]))
    logits, new_state = decoder.step(TGT[:, 4], clean, encoder_output)
    assert np.all(np.isfinite(logits))
    np.testing.assert_array_equal(new_state["index"], [reads_as + 1] * 2)
    in_range = {**states[4], "index": np.full((2,), 4, "int32")}
    np.testing.assert_array_equal(decoder.sanitize_state(in_range)["index"], [4, 4])


def test_appended_target_padding_leaves_logits_unchanged():
    encoder, decoder = make()
    encoder_output = encoder(SRC)
    short = decoder(TGT, encoder_output).numpy()
    long = decoder(np.pad(TGT, [(0, 0), (0, 2)]), encoder_output).numpy()
    real = TGT != 0
    np.testing.assert_allclose(long[:, :6][real], short[real], atol=1e-5)


def test_cross_attention_is_zero_on_padded_source():
    encoder, decoder = make()
    src = np.array([[5, 7, 9, 3, 0], [0, 0, 0, 0, 0]], "int32")
    encoder_output = encoder(src)
    logits, attention = decoder(TGT, encoder_output, return_attention=True)
    attention = attention.numpy()
    assert attention.shape == (2, 6, 5) and attention.dtype == np.float32
    assert np.all(attention[0, :, 4] == 0.0)
    np.testing.assert_allclose(attention[0].sum(-1), 1.0, atol=1e-6)
    assert np.all(attention[1] == 0.0)  # an all-padding source
    assert np.isfinite(logits.numpy()).all()
    _, states = step_all(decoder, TGT, encoder_output)
    assert np.all(states[-1]["attention"].numpy()[src == 0] == 0.0)


def test_steps_in_a_while_loop_inside_tf_function():
    encoder, decoder = make(normalize_first=True)
    steps = 5

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32)])
    def greedy(src):
        encoder_output = encoder(src)
        state = decoder.initial_state(encoder_output)
        batch_size = tf.shape(src)[0]
        tokens = tf.TensorArray(tf.int32, size=steps)

        def body(t, ids, state, tokens):
            logits, state = decoder.step(ids, state, encoder_output)
            ids = tf.argmax(logits, axis=-1, output_type=tf.int32)
            return t + 1, ids, state, tokens.write(t, ids)

        _, _, state, tokens = tf.while_loop(
            lambda t, *_: t < steps, body,
            (0, tf.fill([batch_size], 2), state, tokens),
            maximum_iterations=steps,
        )
        return tf.transpose(tokens.stack()), state["index"]

    tokens, index = greedy(SRC)
    np.testing.assert_array_equal(index, [steps, steps])
    # The loop's tokens are the greedy choices of eager stepping.
    encoder_output = encoder(SRC)
    state = decoder.initial_state(encoder_output)
    ids = np.full([2], 2, "int32")
    for t in range(steps):
        logits, state = decoder.step(ids, state, encoder_output)
        ids = np.argmax(logits, axis=-1).astype("int32")
        np.testing.assert_array_equal(tokens[:, t], ids)


@pytest.mark.slow
def test_fit_lowers_loss():
    encoder = TransformerEncoder(**{**CONFIG, "num_layers": 1})
    decoder = TransformerDecoder(**{**CONFIG, "num_layers": 1})
    source = keras.Input((None,), dtype="int32")
    target = keras.Input((None,), dtype="int32")
    logits = decoder(target, encoder(source))
    model = keras.Model([source, target], logits)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True,
                                                        ignore_class=0),
    )
    rng = np.random.default_rng(0)
    src = rng.integers(4, 20, (16, 5)).astype("int32")
    tgt = np.concatenate([np.full((16, 1), 2), src, np.full((16, 1), 3)], 1)
    history = model.fit([src, tgt[:, :-1]], tgt[:, 1:], batch_size=8,
                        epochs=3, verbose=0)
    loss = history.history["loss"]
    assert np.isfinite(loss).all() and loss[-1] < loss[0]


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"],
                         indirect=True)
def test_mixed_precision_gives_float32_logits(policy):
    encoder = TransformerEncoder(**CONFIG, normalize_first=True)
    decoder = TransformerDecoder(**CONFIG, normalize_first=True)
    src = np.array([[5, 7, 3, 0], [0, 0, 0, 0]], "int32")
    with tf.GradientTape() as tape:
        encoder_output = encoder(src, training=True)
        logits, attention = decoder(TGT, encoder_output, training=True,
                                    return_attention=True)
        loss = tf.reduce_mean(logits**2)
    variables = encoder.trainable_variables + decoder.trainable_variables
    assert all(v.dtype == "float32" for v in variables)
    grads = tape.gradient(loss, variables)
    assert all(np.isfinite(tf.convert_to_tensor(g)).all() for g in grads)
    compute_dtype = keras.mixed_precision.Policy(policy).compute_dtype
    assert encoder_output.sequence.dtype == compute_dtype
    assert logits.dtype == "float32" and attention.dtype == "float32"
    assert np.isfinite(logits.numpy()).all()
    state = decoder.initial_state(encoder_output)
    assert state["keys"][0].dtype == compute_dtype
    assert state["memory_values"][-1].dtype == compute_dtype
    step_logits, state = decoder.step(TGT[:, 0], state, encoder_output)
    assert step_logits.dtype == "float32" and step_logits.shape == (2, 20)
    assert state["values"][-1].dtype == compute_dtype
    np.testing.assert_allclose(step_logits, logits[:, 0], atol=0.05,
                               rtol=0.05)


def test_id_errors():
    encoder, decoder = make()
    encoder_output = encoder(SRC)
    with pytest.raises(TypeError, match="`decoder_ids`"):
        decoder(TGT.astype("float32"), encoder_output)
    with pytest.raises(ValueError, match="`decoder_ids`.*rank-2"):
        decoder(TGT[0], encoder_output)
    with pytest.raises(ValueError, match="`decoder_ids`.*`max_length`=8"):
        decoder(np.ones((2, 9), "int32"), encoder_output)
    state = decoder.initial_state(encoder_output)
    with pytest.raises(TypeError, match="`ids_t`"):
        decoder.step(np.ones([2], "float32"), state, encoder_output)
    with pytest.raises(ValueError, match="`ids_t`.*rank-1"):
        decoder.step(TGT, state, encoder_output)
    state["index"] = np.full([2], 8, "int32")  # past the cache
    with pytest.raises(tf.errors.InvalidArgumentError, match="`max_length`"):
        decoder.step(TGT[:, 0], state, encoder_output)


def test_too_long_target_dynamic():
    encoder, decoder = make()
    encoder_output = encoder(SRC)
    run = tf.function(
        lambda ids: decoder(ids, encoder_output),
        input_signature=[tf.TensorSpec([None, None], tf.int32)],
    )
    assert run(np.ones((2, 8), "int32")).shape == (2, 8, 20)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="`decoder_ids`.*`max_length`"):
        run(np.ones((2, 9), "int32"))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="argument `positions`.*'relative'"):
        TransformerDecoder(**CONFIG, positions="relative")
    with pytest.raises(ValueError, match="`num_heads`"):
        TransformerDecoder(**{**CONFIG, "dim": 9})
    with pytest.raises(ValueError, match="argument `max_length`"):
        TransformerDecoder(**{**CONFIG, "max_length": None})


@pytest.mark.parametrize("normalize_first,positions",
                         [(False, "learned"), (True, "sinusoidal")])
def test_layer_checks(normalize_first, positions):
    """Config values, the shared checks (JSON round trip, build() creates
    every weight, symbolic == eager, mixed precision), then a clone steps
    like the original."""
    encoder, decoder = make(normalize_first=normalize_first, positions=positions,
                            dropout=0.1)
    config = decoder.get_config()
    for key, value in {**CONFIG, "dropout": 0.1, "positions": positions,
                       "normalize_first": normalize_first}.items():
        assert config[key] == value
    encoder_output = encoder(SRC)
    logits = run_layer_test(lambda: TransformerDecoder.from_config(config),
                            (TGT, encoder_output))
    assert logits.shape == (*TGT.shape, CONFIG["vocab_size"])
    clone = TransformerDecoder.from_config(config)
    teacher = clone(TGT, encoder_output)
    stepped, _ = step_all(clone, TGT, encoder_output)
    np.testing.assert_allclose(stepped[:, 0], teacher[:, 0], atol=1e-5)


def test_memory_of_another_width_builds_on_first_call():
    """Another encoder's width (e.g. a bidirectional RNN's) and state=None."""
    decoder = TransformerDecoder(**CONFIG)
    memory = np.random.default_rng(0).normal(size=(2, 3, 12)).astype("float32")
    encoder_output = EncoderOutput(memory, None, np.ones((2, 3), bool))
    expected = decoder(TGT[:, :2], encoder_output)  # builds from the shapes
    logits, _ = step_all(decoder, TGT[:, :2], encoder_output)
    np.testing.assert_allclose(logits, expected, atol=1e-5)


def test_config_saved_before_the_rename_loads():
    """Configs saved when `positions` was called `embedding` still load,
    through `from_config` and through Keras' deserialisation."""
    _, decoder = make(positions="learned")
    config = decoder.get_config()
    config["embedding"] = config.pop("positions")
    clone = TransformerDecoder.from_config(config)
    assert clone.positions == "learned" and "embedding" not in clone.get_config()
    serialized = keras.saving.serialize_keras_object(decoder)
    serialized["config"]["embedding"] = serialized["config"].pop("positions")
    assert keras.saving.deserialize_keras_object(serialized).positions == "learned"

import numpy as np
import pytest
import tensorflow as tf

from keras_seq.decoding import beam_search, greedy_search, sample
from keras_seq.export.tflite_ops import assert_builtins_only, list_operators

VOCAB, WIDTH, MAX_LENGTH = 7, 4, 6


class Decoders(tf.Module):
    """A tiny recurrent step function decoded three ways, batch dynamic."""

    def __init__(self):
        super().__init__()
        rng = np.random.default_rng(0)

        def weight(*shape, scale=1.0):
            return tf.Variable(scale * rng.normal(size=shape), dtype=tf.float32)

        self.embed = weight(VOCAB, WIDTH)
        self.recur = weight(WIDTH, WIDTH)
        self.out = weight(WIDTH, VOCAB, scale=2.0)
        # PAD, UNK and BOS are unlikely; EOS grows likelier with every step.
        self.bias = tf.constant([-5.0, -5.0, -5.0, -1.0, 0.0, 0.0, 0.0])
        self.eos_growth = tf.constant([0.0, 0.0, 0.0, 0.6, 0.0, 0.0, 0.0])

    def step(self, ids_t, state):
        h = tf.tanh(state["h"] @ self.recur + tf.gather(self.embed, ids_t))
        steps = tf.cast(state["steps"], tf.float32)[:, None]
        logits = h @ self.out + self.bias + steps * self.eos_growth
        return logits, {"h": h, "steps": state["steps"] + 1}

    def initial_state(self, x):
        return {"h": x, "steps": tf.zeros([tf.shape(x)[0]], tf.int32)}

    @tf.function(input_signature=[tf.TensorSpec([None, WIDTH], tf.float32)])
    def greedy(self, x):
        return greedy_search(
            self.step, self.initial_state(x), tf.shape(x)[0], MAX_LENGTH
        )

    @tf.function(input_signature=[tf.TensorSpec([None, WIDTH], tf.float32)])
    def beam(self, x):
        return beam_search(
            self.step,
            self.initial_state(x),
            tf.shape(x)[0],
            MAX_LENGTH,
            beam_size=3,
            length_penalty=0.6,
            num_return=2,
        )

    @tf.function(input_signature=[tf.TensorSpec([None, WIDTH], tf.float32)])
    def sampled(self, x):
        # seed=None draws with the builtin MULTINOMIAL; top_k=1 makes the
        # result deterministic for the parity check.
        return sample(
            self.step, self.initial_state(x), tf.shape(x)[0], MAX_LENGTH,
            top_k=1,
        )


def _convert(module, functions, ops):
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [f.get_concrete_function() for f in functions], module
    )
    converter.target_spec.supported_ops = ops
    return converter.convert()


@pytest.fixture(scope="module")
def decoders():
    return Decoders()


@pytest.fixture(scope="module")
def tflite_model(decoders):
    return _convert(
        decoders,
        [decoders.greedy, decoders.beam, decoders.sampled],
        [tf.lite.OpsSet.TFLITE_BUILTINS],
    )


def test_decoding_loops_convert_to_builtins_only(tflite_model, tmp_path):
    names = list_operators(tflite_model)
    assert names == sorted(set(names))
    # WHILE's body is a separate subgraph: its ops are listed too.
    for name in ("WHILE", "ARG_MAX", "TOPK_V2", "GATHER", "MULTINOMIAL"):
        assert name in names
    assert not [n for n in names if n.startswith("Flex") or n == "CUSTOM"]
    assert assert_builtins_only(tflite_model) == names
    path = tmp_path / "decoders.tflite"
    path.write_bytes(tflite_model)
    assert list_operators(path) == names
    assert list_operators(str(path)) == names


def test_interpreter_matches_tensorflow(decoders, tflite_model):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=tflite_model)
    signatures = interpreter.get_signature_list()
    assert set(signatures) == {"greedy", "beam", "sampled"}
    inputs = np.random.default_rng(1).normal(size=(3, WIDTH)).astype("float32")
    for rows in (1, 3):
        x = inputs[3 - rows :]
        for name in ("greedy", "beam", "sampled"):
            expected = getattr(decoders, name)(tf.constant(x))
            # The Python interpreter cannot read a zero-size output
            # ("Invalid tensor size", tensorflow/tensorflow#57084).
            assert np.max(expected["lengths"]) > 0
            got = interpreter.get_signature_runner(name)(x=x)
            np.testing.assert_array_equal(got["ids"], expected["ids"])
            np.testing.assert_array_equal(got["lengths"], expected["lengths"])
            np.testing.assert_allclose(
                got["scores"], expected["scores"], rtol=1e-4, atol=1e-5
            )
        greedy = interpreter.get_signature_runner("greedy")(x=x)
        sampled = interpreter.get_signature_runner("sampled")(x=x)
        np.testing.assert_array_equal(sampled["ids"], greedy["ids"])


def test_flex_ops_are_flagged():
    @tf.function(input_signature=[tf.TensorSpec([None], tf.int32)])
    def masked(x):
        return tf.bitwise.bitwise_and(x, 3)  # BitwiseAnd is not a builtin

    model = _convert(
        None,
        [masked],
        [tf.lite.OpsSet.TFLITE_BUILTINS, tf.lite.OpsSet.SELECT_TF_OPS],
    )
    assert "FlexBitwiseAnd" in list_operators(model)
    with pytest.raises(ValueError, match="FlexBitwiseAnd"):
        assert_builtins_only(model)


def test_rejects_other_inputs():
    with pytest.raises(TypeError, match="`tflite_model`"):
        list_operators(123)

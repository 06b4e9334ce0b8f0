"""The decoding loops trace into a SavedModel that needs no Python."""

import numpy as np
import tensorflow as tf

from keras_seq.decoding import beam_search, greedy_search, sample


def _op_types(concrete_function):
    graph_def = concrete_function.graph.as_graph_def()
    types = {node.op for node in graph_def.node}
    for function in graph_def.library.function:
        types |= {node.op for node in function.node_def}
    return types


def test_saved_model_round_trip(random_step_fn, random_inputs, tmp_path):
    step_fn = random_step_fn
    spec = tf.TensorSpec([None, 4], tf.float32)

    module = tf.Module()
    module.greedy = tf.function(
        lambda x: greedy_search(
            step_fn, step_fn.initial_state(x), tf.shape(x)[0], 6
        ),
        input_signature=[spec],
    )
    module.beam = tf.function(
        lambda x: beam_search(
            step_fn, step_fn.initial_state(x), tf.shape(x)[0], 6, beam_size=3
        ),
        input_signature=[spec],
    )
    module.sample = tf.function(
        lambda x: sample(
            step_fn, step_fn.initial_state(x), tf.shape(x)[0], 6, seed=4
        ),
        input_signature=[spec],
    )
    signatures = {
        name: getattr(module, name).get_concrete_function()
        for name in ("greedy", "beam", "sample")
    }
    tf.saved_model.save(module, str(tmp_path), signatures=signatures)
    loaded = tf.saved_model.load(str(tmp_path))

    x = tf.constant(random_inputs[:3])
    for name, signature in loaded.signatures.items():
        types = _op_types(signature)
        assert "While" in types or "StatelessWhile" in types
        assert not types & {"PyFunc", "EagerPyFunc", "PyFuncStateless"}
        assert not any("TensorList" in t for t in types)
        got = signature(x=x)
        expected = getattr(module, name)(x)
        for key in ("ids", "lengths", "scores"):
            np.testing.assert_array_equal(got[key], expected[key])

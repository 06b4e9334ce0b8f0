"""Shared test helpers, in the spirit of keras-hub's `run_layer_test`."""

import inspect
import json

import keras
import numpy as np


def shapes_of(tree):
    """The shape tuple of every tensor in a tree (None stays None)."""
    return keras.tree.map_structure(lambda x: None if x is None else tuple(x.shape), tree)


def _symbolic(tree):
    return keras.tree.map_structure(
        lambda x: None if x is None else keras.KerasTensor(x.shape, x.dtype), tree)


def _build(layer, inputs):
    """`layer.build` from the shapes of the first inputs its signature takes."""
    count = len(inspect.signature(layer.build).parameters)
    layer.build(*shapes_of(tuple(inputs))[:count])


def _floats(tree):
    return [np.asarray(x, "float32") for x in keras.tree.flatten(tree)
            if x is not None and keras.backend.is_float_dtype(x.dtype)]


def run_layer_test(make, inputs, call_kwargs=None, mixed_precision=True, atol=5e-2):
    """The checks every keras_seq layer gets; returns its eager output.

    1. The config survives a JSON round trip, and the clone with the same
       weights gives the same output.
    2. `build()` (from the inputs' shapes) creates every weight: calling
       the layer afterwards adds none, and a called layer has the same
       weights, by name and shape.
    3. Symbolic and eager calls agree on the output's structure, shapes
       (where known) and dtypes.
    4. Under `mixed_float16` the variables stay float32 and the output,
       with the same weights, is finite and within `atol` of float32's.

    Args:
        make: callable. Returns a new, unbuilt layer (under the current
            policy).
        inputs: tuple. The positional call inputs (arrays, or an
            `EncoderOutput` of tensors).
        call_kwargs: dict or None. Keyword call arguments.
        mixed_precision: bool. Run check 4.
        atol: float. Tolerance of check 4.
    """
    call_kwargs = call_kwargs or {}
    layer = make()
    output = layer(*inputs, **call_kwargs)
    names = [(w.name, tuple(w.shape)) for w in layer.weights]

    # 1. Config round trip through JSON.
    text = json.dumps(keras.saving.serialize_keras_object(layer))
    clone = keras.saving.deserialize_keras_object(json.loads(text))
    assert type(clone) is type(layer) and clone.get_config() == layer.get_config()
    clone(*inputs, **call_kwargs)
    assert [(w.name, tuple(w.shape)) for w in clone.weights] == names
    clone.set_weights(layer.get_weights())
    for a, b in zip(keras.tree.flatten(clone(*inputs, **call_kwargs)),
                    keras.tree.flatten(output)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))

    # 2. build() creates every weight.
    fresh = make()
    assert not fresh.built, "run_layer_test needs `make` to return an unbuilt layer"
    _build(fresh, inputs)
    assert fresh.built
    built = [(w.name, tuple(w.shape)) for w in fresh.weights]
    fresh(*inputs, **call_kwargs)
    assert [(w.name, tuple(w.shape)) for w in fresh.weights] == built
    assert sorted(built) == sorted(names)

    # 3. Symbolic and eager agree.
    spec = layer(*_symbolic(inputs), **call_kwargs)
    keras.tree.assert_same_structure(spec, output)
    for s, o in zip(keras.tree.flatten(spec), keras.tree.flatten(output)):
        if s is None:
            continue
        assert all(a is None or a == b for a, b in zip(s.shape, o.shape)), (s.shape, o.shape)
        assert keras.backend.standardize_dtype(s.dtype) == \
            keras.backend.standardize_dtype(o.dtype)

    # 4. Mixed precision with the same weights.
    if mixed_precision:
        previous = keras.mixed_precision.global_policy()
        keras.mixed_precision.set_global_policy("mixed_float16")
        try:
            mixed = make()
            _build(mixed, inputs)
            mixed.set_weights(layer.get_weights())
            mixed_output = mixed(*inputs, **call_kwargs)
        finally:
            keras.mixed_precision.set_global_policy(previous)
        assert all(w.dtype == "float32" for w in mixed.weights)
        for a, b in zip(_floats(mixed_output), _floats(output)):
            assert np.isfinite(a).all()
            np.testing.assert_allclose(a, b, atol=atol)
    return output

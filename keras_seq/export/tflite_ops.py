"""List the operators of a .tflite flatbuffer, across every subgraph."""

import os

_CUSTOM = "CUSTOM"


def _builtin_names():
    from tensorflow.lite.python import schema_py_generated as schema

    return {
        value: name
        for name, value in vars(schema.BuiltinOperator).items()
        if not name.startswith("_") and isinstance(value, int)
    }


def _read_bytes(tflite_model):
    if isinstance(tflite_model, (bytes, bytearray)):
        return bytes(tflite_model)
    if isinstance(tflite_model, (str, os.PathLike)):
        with open(tflite_model, "rb") as f:
            return f.read()
    raise TypeError(
        "Invalid value for argument `tflite_model`. Expected the bytes of a "
        "TFLite flatbuffer or a path to a .tflite file. "
        f"Received: tflite_model of type {type(tflite_model).__name__}"
    )


def _operator_names(tflite_model):
    """Yield `(name, is_custom)` for each operator used in any subgraph."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(
        bytearray(_read_bytes(tflite_model))
    )
    names = _builtin_names()
    used = {
        op.opcodeIndex
        for subgraph in model.subgraphs or []
        for op in subgraph.operators or []
    }
    for index in sorted(used):
        code = model.operatorCodes[index]
        # Old files set only `deprecated_builtin_code` (an int8 that caps at
        # 127, the placeholder for larger codes); newer files set both. The
        # larger of the two is the operator's code in either case.
        builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
        name = names.get(builtin, f"BUILTIN_{builtin}")
        if name == _CUSTOM:
            custom = code.customCode
            if isinstance(custom, bytes):
                custom = custom.decode("utf-8")
            yield custom or _CUSTOM, True
        else:
            yield name, False


def list_operators(tflite_model):
    """Return the sorted names of the operators a TFLite model uses.

    Reads the flatbuffer itself, so operators inside WHILE/IF bodies (which
    are separate subgraphs) are listed too; the interpreter's own listing
    only shows the main subgraph. Builtin operators appear by their schema
    name (`"WHILE"`, `"TOPK_V2"`), custom operators by their custom code
    (Flex operators as e.g. `"FlexBitwiseAnd"`).

    Args:
        tflite_model: bytes, or path to a `.tflite` file.

    Returns:
        Sorted list of unique operator names.

    Example:

    >>> converter = tf.lite.TFLiteConverter.from_concrete_functions([fn])
    >>> names = keras_seq.export.tflite_ops.list_operators(converter.convert())
    """
    return sorted({name for name, _ in _operator_names(tflite_model)})


def assert_builtins_only(tflite_model):
    """Raise `ValueError` if a TFLite model uses custom or Flex operators.

    Such a model needs the Flex delegate or a custom op resolver at run time;
    a builtins-only model runs with the stock TFLite runtime.

    Args:
        tflite_model: bytes, or path to a `.tflite` file.

    Returns:
        The sorted operator names (as `list_operators`) when all are builtins.
    """
    custom = sorted(
        {name for name, is_custom in _operator_names(tflite_model) if is_custom}
    )
    if custom:
        raise ValueError(
            "The TFLite model uses operators that are not TFLite builtins: "
            f"{custom}. Convert with `target_spec.supported_ops = "
            "[tf.lite.OpsSet.TFLITE_BUILTINS]` and replace the TensorFlow "
            "ops that lower to them (Flex ops are TensorFlow kernels)."
        )
    return list_operators(tflite_model)

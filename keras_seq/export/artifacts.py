"""What may be replaced: only an export of the same kind that keras_seq wrote.

`export_saved_model(..., overwrite=True)`, `export_tflite(..., overwrite=True)`
and `keras-seq export --overwrite` replace an existing path only when it is
such an artifact. Anything else at the path (a folder of model versions, a
run directory, a user's file) is refused, and nothing is touched.
"""

import os

# The signatures every keras_seq export holds (see `export_saved_model` and
# `export_tflite`); a foreign artifact almost never has all of them.
SAVED_MODEL_SIGNATURES = {"serving_default", "generate_ids"}
TFLITE_SIGNATURES = {"generate", "encode", "decode_step"}


def saved_model_signatures(path):
    """The signature names of the SavedModel in folder `path`, or None.

    Reads `saved_model.pb` as a protocol buffer; runs nothing.
    """
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    try:
        with open(os.path.join(path, "saved_model.pb"), "rb") as f:
            proto.ParseFromString(f.read())
    except Exception:  # missing, unreadable or not a SavedModel proto
        return None
    return {name for graph in proto.meta_graphs for name in graph.signature_def}


def tflite_signatures(path):
    """The signature names of the TFLite file `path`, or None."""
    try:
        with open(path, "rb") as f:
            if f.read(8)[4:8] != b"TFL3":  # the flatbuffer's file identifier
                return None
        from ai_edge_litert.interpreter import Interpreter

        return set(Interpreter(model_path=path).get_signature_list())
    except Exception:
        return None


def check_replaceable(path, kind):
    """Raise `FileExistsError` unless `path` is a keras_seq export of `kind`.

    Args:
        path: str. The existing path an export is about to replace.
        kind: `"savedmodel"` or `"tflite"`.
    """
    if kind == "savedmodel":
        found = saved_model_signatures(path) if os.path.isdir(path) else None
        wanted, what = SAVED_MODEL_SIGNATURES, "a SavedModel version folder"
    else:
        found = tflite_signatures(path) if os.path.isfile(path) else None
        wanted, what = TFLITE_SIGNATURES, "a .tflite file"
    if found is None or not wanted <= found:
        raise FileExistsError(
            f"Refusing to overwrite {path!r}: it is not {what} written by "
            "keras_seq, and overwrite=True only replaces such an export. "
            "Choose another path, or move it away yourself.")

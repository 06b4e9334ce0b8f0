"""One-call exports: TF Serving SavedModel and builtins-only TFLite."""

from keras_seq.export.saved_model import export_saved_model
from keras_seq.export.tflite import export_tflite
from keras_seq.export.tflite_ops import assert_builtins_only, list_operators

__all__ = [
    "assert_builtins_only",
    "export_saved_model",
    "export_tflite",
    "list_operators",
]

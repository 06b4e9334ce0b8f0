"""Fail early and clearly when Keras is not on the TensorFlow backend."""

import os

_ACCEPTED = ("", "tensorflow")


def check_backend():
    """Raise `ImportError` unless Keras runs on the TensorFlow backend.

    keras_seq exports to TF Serving and TFLite and uses TensorFlow ops in its
    decode loops, so other backends are refused here, at import, instead of
    failing later with a confusing error deep inside a layer.
    """
    requested = os.environ.get("KERAS_BACKEND", "")
    if requested not in _ACCEPTED:
        raise ImportError(
            "keras_seq requires the TensorFlow Keras backend. Invalid value "
            "for environment variable `KERAS_BACKEND`. Expected one of "
            f"{{'tensorflow'}} (or unset). Received: KERAS_BACKEND='{requested}'"
        )
    import keras

    active = keras.backend.backend()
    if active != "tensorflow":
        raise ImportError(
            "keras_seq requires the TensorFlow Keras backend, but Keras is "
            f"running on '{active}' (set in ~/.keras/keras.json or by an "
            "earlier import). Set KERAS_BACKEND=tensorflow before importing."
        )

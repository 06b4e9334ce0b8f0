"""Private: configs that hold lists of Keras objects (an ensemble's parts)."""

import keras


def serialize_list(objects):
    """Each object's `keras.saving.serialize_keras_object` config, in order."""
    return [keras.saving.serialize_keras_object(o) for o in objects]


def deserialize_lists(config, *keys):
    """A copy of `config` whose lists under `keys` are objects again."""
    config = dict(config)
    for key in keys:
        config[key] = [keras.saving.deserialize_keras_object(c) for c in config[key]]
    return config

"""The element-wise (weighted) mean of several models' weights, as a new model."""

import keras
import numpy as np

from keras_seq._differences import first_difference, short
from keras_seq.arguments import check_shares, invalid


def average_weights(models, weights=None):
    """A new model whose weights are the element-wise mean of `models`' weights.

    Averaging the weights of checkpoints along one training run (the last
    epochs' saves), or of runs of one configuration, can give a model
    that scores better than any of them, at the cost of one. Every
    model must be built and have the same class and config (apart from the
    model's own `name`), hence the same variables: they are paired in
    order, and their paths (below the model's name) and shapes must agree.

    Float variables get the mean (weighted by `weights`, computed in
    float64 and cast back to each variable's dtype); other variables, such
    as the random state of Dropout's seed generators, are copied from
    `models[0]`. The new model is built from `models[0]`'s config and is
    not compiled. The given models are not modified.

    Args:
        models: list of built `keras.Model`s with one class and config,
            such as `keras_seq.models.Seq2Seq`s.
        weights: None or a list of positive finite numbers, one per model.
            Each model's share of the mean, normalised to sum to 1. Defaults
            to `None` (equal shares).

    Returns:
        A new built `keras.Model` of `models[0]`'s class and config; each
        float variable (any shape, e.g. a kernel `(D, 4D)`) is
        `sum_i weights[i] * models[i]'s variable`.

    Raises:
        ValueError: naming the argument, for an empty list, a value that is
            not a built Keras model, models of different classes or configs
            (naming the first differing config key), different variables
            (naming the first one), or invalid weights.

    Example:

    >>> runs = [keras.saving.load_model(f"runs/g2p-{seed}/model.keras")
    ...         for seed in (1, 2, 3)]
    >>> model = keras_seq.models.average_weights(runs)
    >>> weighted = keras_seq.models.average_weights(runs[:2], weights=[3, 1])
    """
    models = _check_models(models)
    shares = check_shares("weights", weights, len(models), per="model")
    first = models[0]
    for index, model in enumerate(models[1:], 1):
        _check_same_architecture(first, model, index)
    averaged = _rebuild(first)
    floats, others = _split(averaged)
    members = [_split(model)[0] for model in models]
    for position, variable in enumerate(floats):
        total = sum(share * np.asarray(keras.ops.convert_to_numpy(member[position]),
                                       dtype="float64")
                    for share, member in zip(shares, members))
        variable.assign(total.astype(keras.backend.standardize_dtype(variable.dtype)))
    for variable, source in zip(others, _split(first)[1]):
        variable.assign(keras.ops.convert_to_numpy(source))
    return averaged


def _rebuild(model):
    """A new built model of `model`'s class and config, with the same variables."""
    problem = None
    try:
        rebuilt = type(model).from_config(model.get_config())
        build_config = model.get_build_config()
        if build_config:
            rebuilt.build_from_config(build_config)
        if not rebuilt.built:
            rebuilt.build()
    except Exception as e:  # any class's own from_config or build
        lines = str(e).strip().splitlines()
        problem = f"{type(e).__name__}: {lines[0] if lines else ''}"
    else:
        shapes = [[tuple(v.shape) for v in group] for group in _split(rebuilt)]
        if shapes != [[tuple(v.shape) for v in group] for group in _split(model)]:
            problem = "its variables differ from the model's"
    if problem is not None:
        raise ValueError(
            "Invalid value for argument `models`. Expected models that rebuild from "
            "their config (`from_config`, `build_from_config`) with the same "
            f"variables. Received: models[0] of class {type(model).__name__}, whose "
            f"rebuilt copy fails ({problem})")
    return rebuilt


def _check_models(models):
    expected = "a non-empty list of built Keras models"
    if not isinstance(models, (list, tuple)) or not models:
        raise invalid("models", expected, models)
    for index, model in enumerate(models):
        if not isinstance(model, keras.Model):
            raise ValueError(f"Invalid value for argument `models`. Expected {expected}. "
                             f"Received: models[{index}] of type {type(model).__name__}")
        if not model.built or not model.variables:
            raise ValueError(
                f"Invalid value for argument `models`. Expected {expected} (call "
                f"`model.build()` first). Received: models[{index}], not built")
    return list(models)


def _check_same_architecture(first, model, index):
    if type(model) is not type(first):
        raise ValueError(
            "Invalid value for argument `models`. Expected models of one class "
            f"(models[0] is a {type(first).__name__}). Received: models[{index}] "
            f"of class {type(model).__name__}")
    difference = first_difference(_comparable(first.get_config()),
                                  _comparable(model.get_config()))
    if difference is not None:
        key, ours, theirs = difference
        raise ValueError(
            "Invalid value for argument `models`. Expected models with the config "
            f"of models[0]; they differ at `{key}`. Received: models[{index}] with "
            f"{key}={short(theirs)} (models[0] has {short(ours)})")
    mine, theirs = _split(first)[0], _split(model)[0]
    for position in range(max(len(mine), len(theirs))):
        a = _describe(first, mine[position]) if position < len(mine) else "nothing"
        b = _describe(model, theirs[position]) if position < len(theirs) else "nothing"
        if a != b:
            raise ValueError(
                "Invalid value for argument `models`. Expected models with the "
                f"variables of models[0]. Received: models[{index}] has {b} where "
                f"models[0] has {a} (float variable {position})")


def _split(model):
    """(float variables, other variables) of `model`, each in model order."""
    floats, others = [], []
    for variable in model.variables:
        is_float = keras.backend.is_float_dtype(variable.dtype)
        (floats if is_float else others).append(variable)
    return floats, others


def _describe(model, variable):
    """A variable's path below the model's own name, and its shape."""
    path = variable.path
    if path.startswith(model.name + "/"):
        path = path[len(model.name) + 1:]
    return f"{path!r} of shape {tuple(variable.shape)}"


def _comparable(config):
    """A config as JSON would read it (tuples as lists), without the model's name."""
    def plain(value):
        if isinstance(value, dict):
            return {key: plain(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(item) for item in value]
        return value

    config = plain(config)
    config.pop("name", None)
    return config

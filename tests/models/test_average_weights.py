"""average_weights: the NumPy mean of the members' variables, and its refusals."""

import keras
import numpy as np
import pytest

import keras_seq
from keras_seq.models import average_weights


def rnn(seed, units=8, attention="bahdanau"):
    keras.utils.set_random_seed(seed)
    model = keras_seq.models.rnn_seq2seq(20, 20, units=units, attention=attention,
                                         bidirectional=True, dropout=0.1)
    model.build()
    return model


def transformer(seed):
    keras.utils.set_random_seed(seed)
    model = keras_seq.models.transformer_seq2seq(20, 20, num_layers=1, dim=8, num_heads=2,
                                                 ff_dim=16, max_length=10, dropout=0.1)
    model.build()
    return model


def perturb(model, seed):
    """Give every float variable random values (initializers repeat biases)."""
    rng = np.random.default_rng(seed)
    for v in model.variables:
        if "float" in str(v.dtype):
            v.assign(rng.normal(size=v.shape).astype(str(v.dtype)))
    return model


def floats(model):
    return [np.array(v.numpy()) for v in model.variables if "float" in str(v.dtype)]


def others(model):
    return [np.array(v.numpy()) for v in model.variables if "float" not in str(v.dtype)]


def inputs():
    rng = np.random.default_rng(0)
    return {"encoder_ids": rng.integers(4, 20, (3, 5)).astype("int32"),
            "decoder_ids": rng.integers(4, 20, (3, 4)).astype("int32")}


@pytest.mark.parametrize("family", [rnn, transformer])
def test_float_variables_are_the_numpy_mean_and_the_rest_is_the_first_models(family):
    members = [perturb(family(seed), seed) for seed in (1, 2, 3)]
    before = [floats(m) + others(m) for m in members]
    averaged = average_weights(members)
    assert isinstance(averaged, keras_seq.models.Seq2Seq) and averaged.built
    assert all(averaged is not m for m in members)
    got, member_floats = floats(averaged), [floats(m) for m in members]
    assert len(got) == len(member_floats[0]) > 10
    for position, value in enumerate(got):
        values = [f[position] for f in member_floats]
        assert not np.array_equal(values[0], values[1])
        np.testing.assert_allclose(value, np.mean(values, axis=0), rtol=1e-6, atol=1e-7)
        assert value.dtype == values[0].dtype
    # Seed generator states: those of the first model, not a mean.
    assert len(others(averaged)) > 0
    for mine, first in zip(others(averaged), others(members[0])):
        np.testing.assert_array_equal(mine, first)
    # The members are not modified.
    for member, old in zip(members, before):
        for now, then in zip(floats(member) + others(member), old):
            np.testing.assert_array_equal(now, then)


def test_weighted_mean_is_normalised():
    members = [perturb(rnn(seed), seed) for seed in (1, 2, 3)]
    averaged = average_weights(members, weights=[1, np.float32(2.0), 5])
    member_floats = [floats(m) for m in members]
    for position, value in enumerate(floats(averaged)):
        a, b, c = (f[position].astype("float64") for f in member_floats)
        np.testing.assert_allclose(value, (a + 2 * b + 5 * c) / 8, rtol=1e-6, atol=1e-7)
    # Scaling every weight changes nothing.
    scaled = average_weights(members, weights=(0.1, 0.2, 0.5))
    for x, y in zip(floats(averaged), floats(scaled)):
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-7)


def test_average_of_one_model_gives_identical_weights_and_outputs():
    model = rnn(1)
    averaged = average_weights([model])
    for x, y in zip(floats(averaged) + others(averaged), floats(model) + others(model)):
        np.testing.assert_array_equal(x, y)
    data = inputs()
    np.testing.assert_array_equal(averaged(data), model(data))
    np.testing.assert_array_equal(
        averaged.generate(data["encoder_ids"], max_length=6)["ids"],
        model.generate(data["encoder_ids"], max_length=6)["ids"])


def test_average_of_two_copies_is_the_model(tmp_path):
    model = transformer(1)
    path = str(tmp_path / "m.keras")
    model.save(path)
    copy = keras.saving.load_model(path)  # configs differ in tuples vs lists only
    for members in ([model, model], [model, copy], [copy, model, copy]):
        averaged = average_weights(members)
        for x, y in zip(floats(averaged), floats(model)):
            np.testing.assert_array_equal(x, y)
        data = inputs()
        np.testing.assert_array_equal(averaged(data), model(data))


class Tiny(keras.Model):
    """A model whose variables depend on the input shape it was built on."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(2, name="dense")

    def call(self, x):
        return self.dense(x)


def refusal(models, weights=None):
    with pytest.raises(ValueError) as error:
        average_weights(models, weights)
    message = str(error.value)
    assert "\n" not in message
    return message


def test_refusals_name_the_argument_and_what_differs():
    a = rnn(1)
    expected = ("Invalid value for argument `models`. Expected a non-empty list of "
                "built Keras models.")
    assert refusal([]) == f"{expected} Received: models=[]"
    assert refusal(a).startswith(f"{expected} Received: models=<Seq2Seq")
    assert refusal([a, "model"]) == f"{expected} Received: models[1] of type str"
    unbuilt = keras_seq.models.rnn_seq2seq(20, 20, units=8)
    assert refusal([a, unbuilt]) == (
        "Invalid value for argument `models`. Expected a non-empty list of built Keras "
        "models (call `model.build()` first). Received: models[1], not built")
    other_class = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    assert refusal([a, other_class]) == (
        "Invalid value for argument `models`. Expected models of one class (models[0] "
        "is a Seq2Seq). Received: models[1] of class Sequential")
    assert refusal([a, a, rnn(2, units=16)]) == (
        "Invalid value for argument `models`. Expected models with the config of "
        "models[0]; they differ at `encoder.config.units`. Received: models[2] with "
        "encoder.config.units=8 (models[0] has 4)")
    assert refusal([a, rnn(2, attention="luong")]).endswith(
        "they differ at `decoder.config.attention`. Received: models[1] with "
        "decoder.config.attention='luong' (models[0] has 'bahdanau')")
    assert "they differ at `encoder.module`" in refusal([a, transformer(1)])
    small, large = Tiny(), Tiny()
    small(np.zeros((1, 3), "float32"))
    large(np.zeros((1, 4), "float32"))
    assert refusal([small, large]) == (
        "Invalid value for argument `models`. Expected models with the variables of "
        "models[0]. Received: models[1] has 'dense/kernel' of shape (4, 2) where "
        "models[0] has 'dense/kernel' of shape (3, 2) (float variable 0)")
    # Built by a call, which its config does not record: it cannot be rebuilt.
    assert refusal([small]).startswith(
        "Invalid value for argument `models`. Expected models that rebuild from their "
        "config (`from_config`, `build_from_config`) with the same variables. "
        "Received: models[0] of class Tiny, whose rebuilt copy fails (")


@pytest.fixture(scope="module")
def model():
    return rnn(1)


@pytest.mark.parametrize("weights", [
    [1, -1], [1, 0], [1, float("nan")], [1, float("inf")], [1], [1, 2, 3], "ab", 2,
    [True, 1], [1, "2"], [1e308, 1e308],
])
def test_bad_weights_are_refused(weights, model):
    assert refusal([model, model], weights) == (
        "Invalid value for argument `weights`. Expected None or a list of 2 positive "
        f"finite numbers (one per model). Received: weights={weights!r}")

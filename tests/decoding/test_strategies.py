"""Decoding strategies as values: checks, config, `get`, and their searches."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_seq import decoding
from keras_seq.decoding import Beam, Greedy, Sample, Strategy
from keras_seq.decoding import beam_search, greedy_search, sample

STRATEGIES = [Greedy(), Beam(size=3, length_penalty=0.6, num_return=2),
              Sample(temperature=0.7, top_k=5, top_p=0.9, seed=3)]


@pytest.mark.parametrize("strategy", STRATEGIES, ids=repr)
def test_config_round_trips_through_json(strategy):
    config = strategy.get_config()
    assert type(strategy).from_config(config) == strategy
    text = json.dumps(keras.saving.serialize_keras_object(strategy))
    clone = keras.saving.deserialize_keras_object(json.loads(text))
    assert type(clone) is type(strategy) and clone.get_config() == config
    assert decoding.get(json.loads(text)) == strategy
    assert eval(repr(strategy), vars(decoding)) == strategy  # repr reads back


def test_settings_are_stored_as_plain_python_numbers():
    beam = Beam(size=np.int64(5), length_penalty=np.float32(0.5), num_return=np.int32(2))
    assert beam.get_config() == {"size": 5, "length_penalty": 0.5, "num_return": 2}
    assert all(type(v) in (int, float) for v in beam.get_config().values())
    sampled = Sample(temperature=np.float64(2), top_k=np.int16(3), top_p=np.float32(0.5),
                     seed=np.uint8(7))
    assert sampled.get_config() == {"temperature": 2.0, "top_k": 3, "top_p": 0.5, "seed": 7}
    # Equal values are equal keys: Seq2Seq.generate caches one graph per strategy.
    assert Beam(size=np.int64(4)) == Beam() and hash(Beam(size=np.int64(4))) == hash(Beam())
    assert Beam(size=3) != Beam() and Greedy() != Beam(size=1)


def test_get_resolves_names_values_and_refuses_the_rest():
    assert decoding.get("greedy") == Greedy()
    assert decoding.get("beam") == Beam(size=4, length_penalty=0.0, num_return=1)
    assert decoding.get("sample") == Sample(temperature=1.0, top_k=0, top_p=1.0, seed=None)
    beam = Beam(size=2)
    assert decoding.get(beam) is beam
    for bad in ("Beam", "topk", None, 4, {"class_name": "Nothing", "config": {}}):
        with pytest.raises(ValueError, match=r"argument `strategy`\. Expected one of "
                                             r"\{'beam', 'greedy', 'sample'\}"):
            decoding.get(bad)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Beam(size=0), r"`size`.*positive integer.*size=0"),
        (lambda: Beam(size=2.0), r"`size`.*size=2\.0"),
        (lambda: Beam(size=True), r"`size`"),
        (lambda: Beam(length_penalty=-0.1), r"`length_penalty`"),
        (lambda: Beam(length_penalty=float("nan")), r"`length_penalty`"),
        (lambda: Beam(size=2, num_return=3), r"`num_return`.*\[1, 2\].*at most `size`"),
        (lambda: Sample(temperature=0), r"`temperature`"),
        (lambda: Sample(temperature=float("inf")), r"`temperature`"),
        (lambda: Sample(top_k=-1), r"`top_k`"),
        (lambda: Sample(top_p=0), r"`top_p`"),
        (lambda: Sample(top_p=1.5), r"`top_p`"),
        (lambda: Sample(seed=1.5), r"`seed`.*integer or None"),
        (lambda: Greedy(size=2), None),
    ],
)
def test_each_setting_is_checked_once_when_built(make, message):
    if message is None:  # Greedy has no settings
        with pytest.raises(TypeError):
            make()
        return
    with pytest.raises(ValueError, match=rf"Invalid value for argument {message}"):
        make()


def test_search_runs_the_loop_with_the_settings(random_step_fn):
    """Each strategy's `search` gives exactly its loop's output."""
    x = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    state = random_step_fn.initial_state(x)
    pairs = [
        (Greedy(), greedy_search(random_step_fn, state, 3, 7)),
        (Beam(size=3, length_penalty=0.6, num_return=2),
         beam_search(random_step_fn, state, 3, 7, beam_size=3, length_penalty=0.6,
                     num_return=2)),
        (Sample(temperature=0.5, top_k=4, seed=9),
         sample(random_step_fn, state, 3, 7, temperature=0.5, top_k=4, seed=9)),
    ]
    for strategy, expected in pairs:
        out = strategy.search(random_step_fn, state, 3, 7)
        for key in ("ids", "lengths", "scores"):
            np.testing.assert_array_equal(out[key], expected[key], err_msg=repr(strategy))
    assert Beam(size=3, num_return=2).search(random_step_fn, state, 3, 7)["ids"].shape[:2] \
        == (2, 3)
    # A different setting gives a different result: the settings reach the loop.
    greedy = Greedy().search(random_step_fn, state, 3, 7)
    wide = Beam(size=6).search(random_step_fn, state, 3, 7)
    assert np.all(wide["scores"].numpy() >= greedy["scores"].numpy() - 1e-5)
    assert np.any(wide["scores"].numpy() > greedy["scores"].numpy() + 1e-3)


def test_beams_say_how_many_rows_a_source_decodes():
    assert Greedy().beams == 1 and Sample().beams == 1 and Beam(size=5).beams == 5
    assert Beam(size=5, num_return=3).num_return == 3 and Greedy().num_return == 1
    assert all(isinstance(s, Strategy) for s in STRATEGIES)


def test_search_traces_in_a_function(random_step_fn):
    beam = Beam(size=2)

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32)])
    def run(x):
        return beam.search(random_step_fn, random_step_fn.initial_state(x), tf.shape(x)[0], 5)

    x = np.random.default_rng(1).normal(size=(2, 4)).astype("float32")
    eager = beam.search(random_step_fn, random_step_fn.initial_state(x), 2, 5)
    np.testing.assert_array_equal(run(x)["ids"], eager["ids"])

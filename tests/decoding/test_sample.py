import re

import numpy as np
import pytest
import tensorflow as tf

from keras_seq.constants import EOS
from keras_seq.decoding import greedy_search, sample

VOCAB = 8


def _fixed_step_fn(probs):
    """Same distribution at every step, whatever the input; state unused."""
    logits = tf.constant(np.log(probs)[None], tf.float32)

    def step_fn(ids_t, state):
        return tf.tile(logits, [tf.shape(ids_t)[0], 1]), state

    return step_fn


# EOS (3) has probability 0 so rows always run to max_length.
SKEWED = np.array([0.01, 0.01, 0.01, 1e-9, 0.5, 0.3, 0.15, 0.02])
SKEWED = SKEWED / SKEWED.sum()
FLAT = np.array([1.0] * VOCAB)
FLAT[EOS] = 1e-9
FLAT = FLAT / FLAT.sum()


def _draw(probs, rows=200, length=5, **kwargs):
    out = sample(_fixed_step_fn(probs), (), rows, length, **kwargs)
    return out["ids"].numpy(), out["scores"].numpy()


def test_top_k_one_equals_greedy(random_step_fn, random_inputs):
    state = random_step_fn.initial_state(random_inputs)
    greedy = greedy_search(random_step_fn, state, 5, 8)
    for seed in (None, 7):
        sampled = sample(
            random_step_fn, state, 5, 8, top_k=1, temperature=0.7, seed=seed
        )
        for key in ("ids", "lengths", "scores"):
            np.testing.assert_array_equal(sampled[key], greedy[key])


def test_same_seed_same_samples_different_seed_different():
    first, _ = _draw(FLAT, seed=11)
    again, _ = _draw(FLAT, seed=11)
    other, _ = _draw(FLAT, seed=12)
    np.testing.assert_array_equal(first, again)
    assert np.mean(first != other) > 0.5
    # Steps draw independently: columns are not copies of each other.
    assert np.mean(first[:, 0] != first[:, 1]) > 0.5


def test_seed_none_gives_fresh_samples():
    first, _ = _draw(FLAT)
    second, _ = _draw(FLAT)
    assert np.mean(first != second) > 0.5


def test_seeded_in_tf_function_matches_eager():
    step_fn = _fixed_step_fn(FLAT)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.int32)])
    def run(x):
        return sample(step_fn, (), tf.shape(x)[0], 4, seed=5)

    eager = sample(step_fn, (), 6, 4, seed=5)
    np.testing.assert_array_equal(
        run(tf.zeros([6], tf.int32))["ids"], eager["ids"]
    )
    assert run(tf.zeros([2], tf.int32))["ids"].shape == (2, 4)
    assert run.experimental_get_tracing_count() == 1


def test_top_p_excludes_the_tail():
    # Sorted: 0.5, 0.3, 0.15, ...; mass before token 6 is 0.8 >= 0.75.
    ids, _ = _draw(SKEWED, seed=0, top_p=0.75)
    assert set(np.unique(ids)) == {4, 5}
    ids, _ = _draw(SKEWED, seed=0, top_p=0.9)
    assert set(np.unique(ids)) == {4, 5, 6}
    # The most likely token is always kept.
    ids, _ = _draw(SKEWED, seed=0, top_p=0.01)
    assert set(np.unique(ids)) == {4}


def test_top_k_excludes_the_tail():
    ids, _ = _draw(SKEWED, seed=0, top_k=2)
    assert set(np.unique(ids)) == {4, 5}
    ids, _ = _draw(SKEWED, seed=0, top_k=100)  # more than the vocabulary
    assert {4, 5, 6} <= set(np.unique(ids))


def test_temperature_sharpens_and_flattens():
    probs = np.array([1e-9] * 4 + [0.6, 0.4, 1e-9, 1e-9])
    probs = probs / probs.sum()
    for temperature, expected in ((0.25, 0.835), (1.0, 0.6), (4.0, 0.515)):
        # p(token) is proportional to p ** (1 / T).
        tempered = probs ** (1 / temperature)
        np.testing.assert_allclose(
            tempered[4] / tempered.sum(), expected, atol=0.005
        )
        ids, _ = _draw(probs, rows=400, seed=3, temperature=temperature)
        np.testing.assert_allclose(np.mean(ids == 4), expected, atol=0.03)


def test_scores_use_the_unmodified_distribution():
    ids, scores = _draw(
        SKEWED, rows=20, seed=1, top_k=2, top_p=0.9, temperature=0.5
    )
    log_probs = np.log(SKEWED)
    np.testing.assert_allclose(scores, log_probs[ids].sum(-1), rtol=1e-5)


def test_rows_stop_at_their_own_eos(make_ends_at_step_fn):
    step_fn, log_p = make_ends_at_step_fn()
    state = (tf.zeros([3], tf.int32), tf.constant([0, 2, 9]))
    out = sample(step_fn, state, 3, 4, top_k=1)
    np.testing.assert_array_equal(out["lengths"], [0, 2, 4])
    np.testing.assert_array_equal(out["ids"], [[0] * 4, [4, 4, 0, 0], [4] * 4])
    np.testing.assert_allclose(
        out["scores"], [log_p, 3 * log_p, 4 * log_p], rtol=1e-6
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"temperature": 0.0}, "temperature=0.0"),
        ({"temperature": -1}, "temperature=-1"),
        ({"top_k": -1}, "top_k=-1"),
        ({"top_k": 1.5}, "top_k=1.5"),
        ({"top_p": 0.0}, "top_p=0.0"),
        ({"top_p": 1.5}, "top_p=1.5"),
        ({"seed": "a"}, "seed='a'"),
    ],
)
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(f"Received: {message}")):
        sample(lambda ids, s: (None, s), (), 2, 3, **kwargs)

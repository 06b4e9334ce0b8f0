"""`min_length`: no output ends before it, in every loop (NumPy references)."""

import numpy as np
import pytest
import tensorflow as tf

from keras_seq.constants import EOS
from keras_seq.decoding import Beam, Greedy, Sample, beam_search, greedy_search, sample


def np_greedy(step_fn, x, max_length, min_length):
    """Greedy decoding in NumPy over `step_fn`, one row at a time."""
    rows = []
    for row in x:
        state = step_fn.initial_state(row[None])
        token, ids, score = 2, [], 0.0
        for t in range(max_length):
            logits, state = step_fn(tf.constant([token], tf.int32), state)
            logits = np.asarray(logits[0], np.float64)
            log_probs = logits - np.log(np.exp(logits - logits.max()).sum()) - logits.max()
            allowed = log_probs.copy()
            if t < min_length:
                allowed[EOS] = -np.inf
            token = int(np.argmax(allowed))
            score += log_probs[token]  # the model's own log-probability
            if token == EOS:
                break
            ids.append(token)
        rows.append((ids, score))
    return rows


@pytest.mark.parametrize("min_length", [0, 2, 5, 9])
def test_greedy_min_length_matches_numpy(random_step_fn, random_inputs, min_length):
    out = greedy_search(random_step_fn, random_step_fn.initial_state(random_inputs),
                        len(random_inputs), 8, min_length=min_length)
    expected = np_greedy(random_step_fn, random_inputs, 8, min_length)
    lengths = out["lengths"].numpy()
    for i, (ids, score) in enumerate(expected):
        assert lengths[i] == len(ids) >= min(min_length, 8)
        np.testing.assert_array_equal(out["ids"][i, : len(ids)], ids)
        np.testing.assert_allclose(out["scores"][i], score, atol=1e-4)
    if min_length == 0:  # the default: the same as no argument
        plain = greedy_search(random_step_fn, random_step_fn.initial_state(random_inputs),
                              len(random_inputs), 8)
        np.testing.assert_array_equal(out["ids"], plain["ids"])


def test_greedy_min_length_overrides_an_eos_at_the_first_step(make_ends_at_step_fn):
    """Rows that would end at once emit their second-best token first."""
    step_fn, log_p = make_ends_at_step_fn()
    state = (tf.zeros([2], tf.int32), tf.constant([0, 4]))
    out = greedy_search(step_fn, state, 2, 6, min_length=2)
    # Row 0: EOS is likeliest at step 0 (forbidden), then token 4 is, then
    # EOS at step 2 is no longer the end step, so token 4 until max_length.
    assert out["lengths"].numpy().tolist()[1] == 4
    assert out["lengths"].numpy()[0] >= 2
    assert np.all(out["ids"].numpy()[1, :4] == 4)


@pytest.mark.parametrize("min_length", [3, 6])
def test_beam_min_length_bounds_lengths_and_keeps_model_scores(
    random_step_fn, random_inputs, min_length
):
    out = beam_search(random_step_fn, random_step_fn.initial_state(random_inputs),
                      len(random_inputs), 8, beam_size=3, num_return=3,
                      min_length=min_length)
    lengths = out["lengths"].numpy()  # (R, B)
    assert np.all(lengths >= min_length)
    for r in range(3):
        for b, x in enumerate(random_inputs):
            ids = out["ids"].numpy()[r, b, : lengths[r, b]]
            ended = lengths[r, b] < 8
            # The score is the teacher-forced sum of the model's log-probs.
            np.testing.assert_allclose(out["scores"][r, b],
                                       random_step_fn.rescore(x, ids, ended), atol=1e-4)
    # Without the constraint some hypothesis is shorter: the test can fail.
    free = beam_search(random_step_fn, random_step_fn.initial_state(random_inputs),
                       len(random_inputs), 8, beam_size=3, num_return=3)
    assert np.any(free["lengths"].numpy() < 6)


def test_beam_of_one_with_min_length_equals_greedy(random_step_fn, random_inputs):
    state = random_step_fn.initial_state(random_inputs)
    greedy = greedy_search(random_step_fn, state, len(random_inputs), 8, min_length=4)
    beam = beam_search(random_step_fn, state, len(random_inputs), 8, beam_size=1,
                       min_length=4)
    np.testing.assert_array_equal(beam["ids"], greedy["ids"])
    np.testing.assert_allclose(beam["scores"], greedy["scores"], atol=1e-5)


def test_sample_never_draws_eos_early(random_step_fn, random_inputs):
    state = random_step_fn.initial_state(random_inputs)
    for seed in range(5):
        out = sample(random_step_fn, state, len(random_inputs), 8, temperature=3.0,
                     seed=seed, min_length=5)
        assert np.all(out["lengths"].numpy() >= 5)
    # Without the constraint, these draws end early somewhere: the test can fail.
    free = [sample(random_step_fn, state, len(random_inputs), 8, temperature=3.0, seed=seed)
            for seed in range(5)]
    assert any(np.any(out["lengths"].numpy() < 5) for out in free)


@pytest.mark.parametrize("strategy", [Greedy(), Beam(size=2), Sample(seed=1)], ids=repr)
def test_strategies_pass_min_length_to_their_loop(random_step_fn, random_inputs, strategy):
    state = random_step_fn.initial_state(random_inputs)
    out = strategy.search(random_step_fn, state, len(random_inputs), 8, min_length=7)
    assert np.all(out["lengths"].numpy() >= 7)


@pytest.mark.parametrize("value", [-1, 1.5, "2", True])
def test_bad_min_length_is_refused(random_step_fn, random_inputs, value):
    with pytest.raises(ValueError, match="argument `min_length`"):
        greedy_search(random_step_fn, random_step_fn.initial_state(random_inputs),
                      len(random_inputs), 8, min_length=value)
    with pytest.raises(ValueError, match="argument `min_length`"):
        beam_search(random_step_fn, random_step_fn.initial_state(random_inputs),
                    len(random_inputs), 8, min_length=value)

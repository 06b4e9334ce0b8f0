import re

import numpy as np
import pytest
import tensorflow as tf

from keras_seq.constants import BOS, EOS, PAD
from keras_seq.decoding import beam_search, greedy_search

A, B = 4, 5


def _table(rows, steps=3, vocab=6):
    """Log-probability table from `{(step, prev): {token: prob}}`.

    Unlisted rows put almost all mass on EOS; unlisted tokens of a listed
    row get a tiny probability so every logit is finite.
    """
    probs = np.full((steps, vocab, vocab), 1e-6)
    probs[:, :, EOS] = 1.0
    for (step, prev), row in rows.items():
        probs[step, prev] = 1e-6
        for token, p in row.items():
            probs[step, prev, token] = p
    probs /= probs.sum(-1, keepdims=True)
    return np.log(probs).astype("float32")


# Greedy takes A (0.5) then must end with EOS at 0.35: 0.175 in total.
# Beam search finds B (0.4) then EOS at 0.9: 0.36 in total.
GREEDY_TRAP = {
    (0, BOS): {A: 0.5, B: 0.4, EOS: 0.1},
    (1, A): {EOS: 0.35, A: 0.33, B: 0.32},
    (1, B): {EOS: 0.9, A: 0.05, B: 0.05},
}


def test_beam_finds_better_sequence_than_greedy(
    make_table_step_fn, np_log_softmax
):
    table = _table(GREEDY_TRAP)
    step_fn = make_table_step_fn(table)
    state = tf.zeros([2], tf.int32)
    logp = np_log_softmax(table)

    greedy = greedy_search(step_fn, state, batch_size=2, max_length=5)
    np.testing.assert_array_equal(greedy["ids"], [[A], [A]])
    greedy_score = logp[0, BOS, A] + logp[1, A, EOS]
    np.testing.assert_allclose(greedy["scores"], [greedy_score] * 2, rtol=1e-5)
    np.testing.assert_allclose(greedy_score, np.log(0.175), rtol=1e-3)

    beam = beam_search(step_fn, state, batch_size=2, max_length=5, beam_size=2)
    np.testing.assert_array_equal(beam["ids"], [[B], [B]])
    np.testing.assert_array_equal(beam["lengths"], [1, 1])
    beam_score = logp[0, BOS, B] + logp[1, B, EOS]
    np.testing.assert_allclose(beam["scores"], [beam_score] * 2, rtol=1e-5)
    np.testing.assert_allclose(beam_score, np.log(0.36), rtol=1e-3)


def test_n_best_sorted_and_distinct(make_table_step_fn, np_log_softmax):
    table = _table(GREEDY_TRAP)
    logp = np_log_softmax(table)
    out = beam_search(
        make_table_step_fn(table),
        tf.zeros([1], tf.int32),
        batch_size=1,
        max_length=5,
        beam_size=2,
        num_return=2,
    )
    assert out["ids"].shape == (2, 1, 1)
    np.testing.assert_array_equal(out["ids"][:, 0], [[B], [A]])
    np.testing.assert_array_equal(out["lengths"], [[1], [1]])
    expected = [
        logp[0, BOS, B] + logp[1, B, EOS],
        logp[0, BOS, A] + logp[1, A, EOS],
    ]
    np.testing.assert_allclose(out["scores"][:, 0], expected, rtol=1e-5)


def test_length_penalty_changes_ranking(make_table_step_fn, np_log_softmax):
    # [] = EOS at once (0.4, length 1); [A] = A then EOS (0.6 * 0.6, length 2).
    table = _table({(0, BOS): {EOS: 0.4, A: 0.6}, (1, A): {EOS: 0.6, A: 0.3}})
    logp = np_log_softmax(table)
    empty = logp[0, BOS, EOS]
    one = logp[0, BOS, A] + logp[1, A, EOS]
    step_fn = make_table_step_fn(table)

    def run(alpha):
        return beam_search(
            step_fn,
            tf.zeros([1], tf.int32),
            1,
            5,
            beam_size=2,
            length_penalty=alpha,
            num_return=2,
        )

    plain = run(0.0)
    np.testing.assert_array_equal(plain["lengths"][:, 0], [0, 1])
    np.testing.assert_allclose(plain["scores"][:, 0], [empty, one], rtol=1e-5)

    # GNMT: score / ((5 + length) / 6) ** alpha, length including EOS.
    penalised = run(1.0)
    np.testing.assert_array_equal(penalised["ids"][:, 0], [[A], [PAD]])
    np.testing.assert_array_equal(penalised["lengths"][:, 0], [1, 0])
    expected = [one / (7 / 6), empty / (6 / 6)]
    assert expected[0] > expected[1]
    np.testing.assert_allclose(penalised["scores"][:, 0], expected, rtol=1e-5)


def test_beam_size_one_equals_greedy(random_step_fn, random_inputs):
    state = random_step_fn.initial_state(random_inputs)
    greedy = greedy_search(random_step_fn, state, 5, 8)
    beam = beam_search(random_step_fn, state, 5, 8, beam_size=1)
    # The random step function ends rows at different steps.
    assert len(set(greedy["lengths"].numpy().tolist())) > 1
    for key in ("ids", "lengths", "scores"):
        np.testing.assert_array_equal(beam[key], greedy[key])


def test_n_best_rescore_with_nested_state(random_step_fn, random_inputs):
    """Each returned score equals a teacher-forced rescoring of its ids.

    This fails if the nested state is not reordered with its hypothesis.
    """
    state = random_step_fn.initial_state(random_inputs)
    max_length = 6
    out = beam_search(
        random_step_fn, state, 5, max_length, beam_size=4, num_return=4
    )
    assert out["ids"].shape[:2] == (4, 5)
    ids, lengths, scores = (
        out[key].numpy() for key in ("ids", "lengths", "scores")
    )
    beam_better_somewhere = False
    greedy = greedy_search(random_step_fn, state, 5, max_length)
    for b in range(5):
        hypotheses = {tuple(ids[r, b, : lengths[r, b]]) for r in range(4)}
        assert len(hypotheses) == 4
        assert np.all(np.diff(scores[:, b]) <= 0)
        for r in range(4):
            length = lengths[r, b]
            assert np.all(ids[r, b, length:] == PAD)
            assert not np.any(ids[r, b, :length] == EOS)
            expected = random_step_fn.rescore(
                random_inputs[b], ids[r, b, :length], length < max_length
            )
            np.testing.assert_allclose(scores[r, b], expected, atol=1e-4)
        assert scores[0, b] >= greedy["scores"][b].numpy() - 1e-5
        beam_better_somewhere |= scores[0, b] > greedy["scores"][b] + 1e-3
    assert beam_better_somewhere


def test_stops_when_all_beams_finished(make_table_step_fn, call_counter):
    # Every row puts nearly all mass on EOS from step 2 on.
    table = _table({(0, BOS): {A: 0.5, B: 0.5}, (1, A): {A: 0.5, B: 0.5},
                    (1, B): {A: 0.5, B: 0.5}})
    counted = call_counter(make_table_step_fn(table))
    out = beam_search(counted, tf.zeros([3], tf.int32), 3, 20, beam_size=3)
    np.testing.assert_array_equal(out["lengths"], [2, 2, 2])
    assert int(counted.calls.numpy()) == 3


def test_empty_best_hypothesis_gives_zero_width(make_ends_at_step_fn):
    step_fn, log_p = make_ends_at_step_fn()
    state = (tf.zeros([2], tf.int32), tf.zeros([2], tf.int32))
    out = beam_search(step_fn, state, 2, 4, beam_size=2)
    assert out["ids"].shape == (2, 0)
    np.testing.assert_array_equal(out["lengths"], [0, 0])
    np.testing.assert_allclose(out["scores"], [log_p, log_p], rtol=1e-6)


def test_unfinished_hypotheses_at_max_length(make_ends_at_step_fn):
    step_fn, log_p = make_ends_at_step_fn()
    state = (tf.zeros([1], tf.int32), tf.constant([100]))
    out = beam_search(step_fn, state, 1, 3, beam_size=2, length_penalty=0.5)
    np.testing.assert_array_equal(out["ids"], [[4, 4, 4]])
    # Cut at max_length: length 3, no EOS.
    expected = 3 * log_p / ((5 + 3) / 6) ** 0.5
    np.testing.assert_allclose(out["scores"], [expected], rtol=1e-5)


def test_dynamic_batch_in_tf_function(random_step_fn, random_inputs):
    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32)])
    def run(x):
        state = random_step_fn.initial_state(x)
        return beam_search(
            random_step_fn, state, tf.shape(x)[0], 6, beam_size=3, num_return=2
        )

    eager = beam_search(
        random_step_fn,
        random_step_fn.initial_state(random_inputs),
        5,
        6,
        beam_size=3,
        num_return=2,
    )
    for rows in (2, 5):
        out = run(random_inputs[:rows])
        longest = int(np.max(out["lengths"]))
        np.testing.assert_array_equal(
            out["ids"], eager["ids"][:, :rows, :longest]
        )
        np.testing.assert_array_equal(
            out["lengths"], eager["lengths"][:, :rows]
        )
        np.testing.assert_allclose(
            out["scores"], eager["scores"][:, :rows], rtol=1e-6
        )
    assert run.experimental_get_tracing_count() == 1


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"beam_size": 0},
            "Invalid value for argument `beam_size`. Expected a positive "
            "integer. Received: beam_size=0",
        ),
        ({"beam_size": 2, "num_return": 3}, "num_return=3"),
        ({"num_return": 0}, "num_return=0"),
        ({"length_penalty": -0.5}, "length_penalty=-0.5"),
        ({"max_length": -1}, "max_length=-1"),
    ],
)
def test_invalid_arguments(kwargs, message):
    arguments = {"batch_size": 2, "max_length": 3}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=re.escape(message)):
        beam_search(lambda ids, s: (None, s), (), **arguments)

import numpy as np
import pytest
import tensorflow as tf

from keras_seq.constants import BOS, EOS, PAD
from keras_seq.decoding import greedy_search


def test_rows_stop_at_their_own_eos(make_ends_at_step_fn):
    step_fn, log_p = make_ends_at_step_fn()
    ends = tf.constant([2, 0, 5, 3])
    state = (tf.zeros([4], tf.int32), ends)
    out = greedy_search(step_fn, state, batch_size=4, max_length=5)

    # Row 2 never reaches its EOS step within 5 steps.
    np.testing.assert_array_equal(out["lengths"], [2, 0, 5, 3])
    expected = np.full((4, 5), PAD)
    for row, length in enumerate([2, 0, 5, 3]):
        expected[row, :length] = 4
    np.testing.assert_array_equal(out["ids"], expected)
    # Every chosen token (including EOS) has probability 0.6.
    np.testing.assert_allclose(
        out["scores"], np.array([3, 1, 5, 4]) * log_p, rtol=1e-6
    )
    assert out["ids"].dtype == tf.int32
    assert out["lengths"].dtype == tf.int32
    assert out["scores"].dtype == tf.float32


def test_ids_trimmed_to_longest_row(make_ends_at_step_fn):
    step_fn, _ = make_ends_at_step_fn()
    state = (tf.zeros([3], tf.int32), tf.constant([1, 3, 2]))
    out = greedy_search(step_fn, state, batch_size=3, max_length=10)
    assert out["ids"].shape == (3, 3)
    np.testing.assert_array_equal(
        out["ids"], [[4, PAD, PAD], [4, 4, 4], [4, 4, PAD]]
    )


def test_all_rows_eos_at_first_step_gives_empty_ids(
    make_ends_at_step_fn, call_counter
):
    step_fn, log_p = make_ends_at_step_fn()
    counted = call_counter(step_fn)
    state = (tf.zeros([2], tf.int32), tf.zeros([2], tf.int32))
    out = greedy_search(counted, state, batch_size=2, max_length=7)
    assert out["ids"].shape == (2, 0)
    np.testing.assert_array_equal(out["lengths"], [0, 0])
    np.testing.assert_allclose(out["scores"], [log_p, log_p], rtol=1e-6)
    assert int(counted.calls.numpy()) == 1


def test_loop_stops_when_all_rows_finished(make_ends_at_step_fn, call_counter):
    step_fn, _ = make_ends_at_step_fn()
    counted = call_counter(step_fn)

    @tf.function
    def run(ends):
        state = (tf.zeros_like(ends), ends)
        return greedy_search(counted, state, tf.shape(ends)[0], 50)

    out = run(tf.constant([1, 4, 2]))
    np.testing.assert_array_equal(out["lengths"], [1, 4, 2])
    # Steps 0..4: the last row emits EOS at step 4.
    assert int(counted.calls.numpy()) == 5


def test_max_length_caps_the_loop(make_ends_at_step_fn, call_counter):
    step_fn, _ = make_ends_at_step_fn()
    counted = call_counter(step_fn)
    state = (tf.zeros([2], tf.int32), tf.constant([100, 100]))
    out = greedy_search(counted, state, batch_size=2, max_length=6)
    np.testing.assert_array_equal(out["lengths"], [6, 6])
    assert out["ids"].shape == (2, 6)
    assert int(counted.calls.numpy()) == 6


def test_first_step_feeds_bos_and_custom_ids(make_table_step_fn):
    # Only a BOS (or token 5) input leads to token 4; anything else to EOS.
    table = np.zeros((1, 6, 6), np.float32)
    table[0, :, EOS] = 5.0
    table[0, BOS, 4] = 10.0
    table[0, 5, 4] = 10.0
    step_fn = make_table_step_fn(table)
    out = greedy_search(step_fn, tf.zeros([1], tf.int32), 1, 4)
    np.testing.assert_array_equal(out["ids"], [[4]])
    # Token 4 as the end token, 5 as the start token: stops at once.
    out = greedy_search(
        step_fn, tf.zeros([1], tf.int32), 1, 4, bos_id=5, eos_id=4
    )
    assert out["ids"].shape == (1, 0)


def test_known_scores_on_table(make_table_step_fn, np_log_softmax):
    rng = np.random.default_rng(3)
    table = rng.normal(size=(4, 6, 6)).astype("float32")
    table[3, :, EOS] = 50.0  # everyone ends at step 3 at the latest
    step_fn = make_table_step_fn(table)
    out = greedy_search(step_fn, tf.zeros([1], tf.int32), 1, 8)

    # Reference in numpy.
    prev, total, ids = BOS, 0.0, []
    for t in range(4):
        logp = np_log_softmax(table[t, prev])
        token = int(np.argmax(logp))
        total += logp[token]
        if token == EOS:
            break
        ids.append(token)
        prev = token
    np.testing.assert_array_equal(out["ids"][0], ids)
    np.testing.assert_allclose(out["scores"][0], total, rtol=1e-5)


def test_dynamic_batch_and_length_in_one_trace(random_step_fn, random_inputs):
    @tf.function(
        input_signature=[
            tf.TensorSpec([None, 4], tf.float32),
            tf.TensorSpec([], tf.int32),
        ]
    )
    def run(x, max_length):
        state = random_step_fn.initial_state(x)
        return greedy_search(random_step_fn, state, tf.shape(x)[0], max_length)

    eager = greedy_search(
        random_step_fn, random_step_fn.initial_state(random_inputs), 5, 6
    )
    for rows in (1, 5):
        out = run(random_inputs[:rows], tf.constant(6))
        for key in ("ids", "lengths"):
            np.testing.assert_array_equal(out[key], eager[key][:rows])
        # oneDNN may pick another matmul kernel for 1 row than for 5: the
        # float sums agree to rounding, not bit for bit.
        np.testing.assert_allclose(out["scores"], eager["scores"][:rows], rtol=1e-5)
    assert run.experimental_get_tracing_count() == 1


def test_float16_logits_are_cast(make_ends_at_step_fn):
    step_fn, log_p = make_ends_at_step_fn()

    def half_step(ids_t, state):
        logits, state = step_fn(ids_t, state)
        return tf.cast(logits, tf.float16), state

    state = (tf.zeros([1], tf.int32), tf.constant([2]))
    out = greedy_search(half_step, state, 1, 5)
    assert out["scores"].dtype == tf.float32
    np.testing.assert_allclose(out["scores"], [3 * log_p], rtol=1e-3)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"batch_size": 0}, "batch_size=0"),
        ({"max_length": 0}, "max_length=0"),
        ({"max_length": 2.5}, "max_length=2.5"),
        ({"bos_id": -1}, "bos_id=-1"),
        ({"eos_id": None}, "eos_id=None"),
    ],
)
def test_invalid_arguments(kwargs, message):
    arguments = {"batch_size": 2, "max_length": 3}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=f"Received: {message}"):
        greedy_search(lambda ids, s: (None, s), (), **arguments)


def test_step_fn_must_be_callable():
    with pytest.raises(TypeError, match="`step_fn`"):
        greedy_search(None, (), 2, 3)

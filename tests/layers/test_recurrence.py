"""counted_loop: the bounded loop behind run_rnn and input feeding."""

import numpy as np
import tensorflow as tf

from keras_seq.layers.recurrence import counted_loop


def _powers(steps):
    """Carry (sum of the indices, a buffer with 2**i added at index i)."""

    def body(i, carry):
        total, buffer = carry
        update = tf.one_hot(i, 5) * tf.pow(2.0, tf.cast(i, tf.float32))
        return total + i, buffer + update

    return counted_loop(steps, body, (tf.constant(0), tf.zeros(5)))


def test_counted_loop_runs_body_once_per_index_in_order():
    total, buffer = _powers(4)
    assert int(total) == 0 + 1 + 2 + 3
    np.testing.assert_array_equal(buffer.numpy(), [1, 2, 4, 8, 0])


def test_counted_loop_with_zero_steps_returns_the_initial_carry():
    total, buffer = _powers(0)
    assert int(total) == 0
    np.testing.assert_array_equal(buffer.numpy(), np.zeros(5))


def test_counted_loop_takes_a_traced_step_count_and_compiles_under_xla():
    @tf.function(jit_compile=True, input_signature=[tf.TensorSpec([None], tf.float32)])
    def sum_of_squares(x):
        def body(i, carry):
            return carry + x[i] * x[i]

        return counted_loop(tf.shape(x)[0], body, tf.constant(0.0))

    assert float(sum_of_squares(tf.constant([1.0, 2.0, 3.0]))) == 14.0

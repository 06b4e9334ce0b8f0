import numpy as np
import pytest
import tensorflow as tf

from keras_seq.decoding import reorder_state, tile_beams


def test_tile_beams_repeats_rows_consecutively():
    tree = {
        "sequence": tf.reshape(tf.range(12, dtype=tf.float32), [2, 3, 2]),
        "pair": (tf.constant([5, 6]), tf.constant([[1], [2]])),
    }
    tiled = tile_beams(tree, 3)
    assert tiled["sequence"].shape == (6, 3, 2)
    np.testing.assert_array_equal(
        tiled["sequence"][:, 0, 0], [0, 0, 0, 6, 6, 6]
    )
    np.testing.assert_array_equal(tiled["pair"][0], [5, 5, 5, 6, 6, 6])
    np.testing.assert_array_equal(tiled["pair"][1][:, 0], [1, 1, 1, 2, 2, 2])


def test_tile_beams_dynamic_batch():
    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.int32)])
    def run(x):
        return tile_beams(x, 2)

    np.testing.assert_array_equal(
        run(tf.constant([[1, 2], [3, 4]])), [[1, 2], [1, 2], [3, 4], [3, 4]]
    )
    assert run(tf.zeros([0, 2], tf.int32)).shape == (0, 2)


def test_tile_beams_validates_beam_size():
    with pytest.raises(ValueError, match="Received: beam_size=0"):
        tile_beams(tf.zeros([2]), 0)


def test_reorder_state_gathers_every_leaf():
    state = {
        "h": tf.constant([[1.0, 1.5], [2.0, 2.5], [3.0, 3.5]]),
        "steps": (tf.constant([10, 20, 30]),),
    }
    out = reorder_state(state, tf.constant([2, 0, 0]))
    np.testing.assert_array_equal(out["h"], [[3.0, 3.5], [1, 1.5], [1, 1.5]])
    np.testing.assert_array_equal(out["steps"][0], [30, 10, 10])
    assert reorder_state((), [1, 0]) == ()

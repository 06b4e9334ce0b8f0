"""Training under MirroredStrategy over two logical CPUs matches one device."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras, numpy as np, keras_seq
    sys.path.insert(0, sys.argv[1])
    from conftest import make_copy_task

    x, y = make_copy_task(128, max_length=5)

    def run(strategy):
        keras.utils.set_random_seed(7)
        with strategy.scope():
            model = keras_seq.models.rnn_seq2seq(
                12, 12, units=16, attention="bahdanau")
            model.compile(keras.optimizers.SGD(0.5),
                          keras_seq.metrics.MaskedSparseCrossEntropy())
            model(x)
        model.set_weights(weights)
        history = model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
        return history.history["loss"]

    keras.utils.set_random_seed(7)
    weights = keras_seq.models.rnn_seq2seq(
        12, 12, units=16, attention="bahdanau")
    weights(x)
    weights = weights.get_weights()
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert mirrored.num_replicas_in_sync == 2
    # A model that fit builds by itself (Keras traces it with float32
    # placeholders under a strategy) trains too.
    with mirrored.scope():
        fresh = keras_seq.models.rnn_seq2seq(12, 12, units=16)
        fresh.compile("adam", keras_seq.metrics.MaskedSparseCrossEntropy())
    fresh_loss = fresh.fit(x, y, batch_size=32, verbose=0).history["loss"]
    print(json.dumps({"single": run(tf.distribute.get_strategy()),
                      "mirrored": run(mirrored), "fresh": fresh_loss}))
    """
)


@pytest.mark.slow
def test_mirrored_strategy_matches_single_device():
    tests_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, tests_dir],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    losses = json.loads(result.stdout.strip().splitlines()[-1])
    single, mirrored = losses["single"], losses["mirrored"]
    assert single[1] < single[0]
    assert all(v == v for v in losses["fresh"])  # finite, not NaN
    for a, b in zip(single, mirrored):
        assert abs(a - b) < 2e-3 * abs(a), losses

"""TerminateOnNonFinite, SafeBackupAndRestore and TimeLimit inside model.fit."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_seq.training import (
    NonFiniteLossError,
    SafeBackupAndRestore,
    TerminateOnNonFinite,
    TimeLimit,
)


def regression(nan_batch=None, batches=6, batch_size=4):
    """A tiny float problem; batch `nan_batch` (0-based) holds a NaN feature."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batches * batch_size, 3)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], "float32")
    if nan_batch is not None:
        x[nan_batch * batch_size, 0] = np.nan
    return x, y


def dense_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.05), "mse")
    return model


def backup_state(backup, rng=False):
    with open(os.path.join(backup, "training_metadata.json")) as f:
        state = json.load(f)
    return state if rng else {k: v for k, v in state.items() if k != "rng"}


def test_nan_batch_stops_fit_and_keeps_the_last_finite_backup(tmp_path):
    backup = str(tmp_path / "backup")
    x, y = regression(nan_batch=4)
    model = dense_model()
    seen = []
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda b, logs: seen.append(model.get_weights()))
    with pytest.raises(NonFiniteLossError, match=r"epoch 1, step 5.*last good backup") as e:
        model.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0,
                  callbacks=[TerminateOnNonFinite(backup),
                             SafeBackupAndRestore(backup, save_freq=2), record])
    assert (e.value.epoch, e.value.step) == (0, 4)
    # Backups after steps 2 and 4; step 5 is NaN and nothing is written after.
    assert backup_state(backup) == {"epoch": 0, "batch": 3, "steps_done": 4}
    restored = dense_model()
    restored.load_weights(os.path.join(backup, "latest.weights.h5"))
    for a, b in zip(restored.get_weights(), seen[3]):
        np.testing.assert_array_equal(a, b)
    assert all(np.isfinite(w).all() for w in restored.get_weights())


def test_keras_terminate_on_nan_would_have_saved_nan_weights(tmp_path):
    """Why TerminateOnNonFinite raises: Keras' TerminateOnNaN lets epoch end run."""
    backup = str(tmp_path / "backup")
    x, y = regression(nan_batch=1)
    model = dense_model()
    with pytest.raises(NonFiniteLossError, match="non-finite"):
        model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0,
                  callbacks=[keras.callbacks.TerminateOnNaN(),
                             SafeBackupAndRestore(backup)])
    assert not os.path.exists(os.path.join(backup, "latest.weights.h5"))


def test_message_says_when_no_backup_exists_yet(tmp_path):
    x, y = regression(nan_batch=0)
    with pytest.raises(NonFiniteLossError, match="no backup had been written yet"):
        dense_model().fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0,
                          callbacks=[TerminateOnNonFinite(str(tmp_path / "b"))])


def test_a_failed_write_leaves_the_previous_backup_loadable(tmp_path, monkeypatch):
    backup = str(tmp_path / "backup")
    x, y = regression()
    model = dense_model()
    model.fit(x, y, batch_size=4, epochs=1, verbose=0,
              callbacks=[SafeBackupAndRestore(backup, delete_checkpoint=False)])
    good = model.get_weights()

    def dies_half_way(path, overwrite=True):
        with open(path, "wb") as f:
            f.write(b"\x89HDF half")
        raise OSError("disk full")

    monkeypatch.setattr(model, "save_weights", dies_half_way)
    with pytest.raises(OSError, match="disk full"):
        model.fit(x, y, batch_size=4, epochs=2, verbose=0,
                  callbacks=[SafeBackupAndRestore(backup, delete_checkpoint=False)])
    assert set(os.listdir(backup)) <= {  # no temporary file left behind
        "latest.weights.h5", "latest.weights.h5.bkp",
        "training_metadata.json", "training_metadata.json.bkp"}
    restored = dense_model()
    restored.load_weights(os.path.join(backup, "latest.weights.h5"))
    for a, b in zip(restored.get_weights(), good):
        np.testing.assert_array_equal(a, b)
    assert backup_state(backup) == {"epoch": 1, "batch": 0, "steps_done": 0}


def test_resumed_run_skips_the_steps_it_had_done(tmp_path):
    backup = str(tmp_path / "backup")
    x, y = regression()

    class Crash(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if self.params and self.model.optimizer.iterations.numpy() == 15:
                raise KeyboardInterrupt

    model = dense_model()
    with pytest.raises(KeyboardInterrupt):  # dies in epoch 3, step 3
        model.fit(x, y, batch_size=4, epochs=4, shuffle=False, verbose=0,
                  callbacks=[SafeBackupAndRestore(backup, save_freq=2), Crash()])
    assert backup_state(backup) == {"epoch": 2, "batch": 1, "steps_done": 2}

    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)
    model = dense_model()
    restore = SafeBackupAndRestore(backup, save_freq=3)
    assert restore.resume_position() == (2, 2)
    seen = []
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda b, logs: seen.append(
            (restore._current_epoch, b, restore._offset)))

    class CrashAgain(keras.callbacks.Callback):  # epoch 3, its 5th step
        def on_train_batch_end(self, batch, logs=None):
            if self.model.optimizer.iterations.numpy() == 17:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        model.fit(data.skip(2), epochs=3, verbose=0, shuffle=False,
                  callbacks=[restore, record, CrashAgain()])
    assert seen == [(2, 0, 2), (2, 1, 2), (2, 2, 2)]  # steps 3, 4, 5 of epoch 3
    # A second kill inside the resumed epoch still counts from its start.
    assert backup_state(backup) == {"epoch": 2, "batch": 2, "steps_done": 5}

    model = dense_model()
    restore = SafeBackupAndRestore(backup, save_freq=3)
    epoch, done = restore.resume_position()
    first = model.fit(data.skip(done), epochs=epoch + 1, verbose=0, callbacks=[restore])
    rest = model.fit(data, epochs=4, verbose=0, callbacks=[restore])
    assert len(first.history["loss"]) == 1 and len(rest.history["loss"]) == 1
    assert int(model.optimizer.iterations.numpy()) == 24  # as uninterrupted
    assert not os.path.exists(backup)


def test_time_limit_checks_its_argument_and_stops():
    with pytest.raises(ValueError, match="minutes"):
        TimeLimit(0)
    x, y = regression()
    limit = TimeLimit(1e-9)
    history = dense_model().fit(x, y, batch_size=4, epochs=5, verbose=0, callbacks=[limit])
    assert len(history.history["loss"]) == 1


def test_dropout_random_state_is_backed_up_and_restored(tmp_path):
    backup = str(tmp_path / "backup")
    x, y = regression()

    def dropout_model():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dropout(0.5),
                                  keras.layers.Dense(1)])
        model.compile(keras.optimizers.SGD(0.05), "mse")
        return model

    model = dropout_model()
    model.fit(x, y, batch_size=4, epochs=1, verbose=0,
              callbacks=[SafeBackupAndRestore(backup, delete_checkpoint=False)])
    saved = backup_state(backup, rng=True)["rng"]
    state = model.layers[0].seed_generator.state
    assert saved == [np.asarray(state.numpy()).tolist()]
    fresh = dropout_model()
    assert np.asarray(fresh.layers[0].seed_generator.state.numpy()).tolist() != saved[0]
    fresh.fit(x, y, batch_size=4, epochs=1, verbose=0,  # resumes: nothing to do
              callbacks=[SafeBackupAndRestore(backup, delete_checkpoint=False)])
    assert np.asarray(fresh.layers[0].seed_generator.state.numpy()).tolist() == saved[0]


def test_cosine_over_time_follows_the_clock(monkeypatch):
    from keras_seq.training import CosineOverTime

    now = [100.0]
    monkeypatch.setattr("keras_seq.training.cosine_over_time.time.monotonic", lambda: now[0])
    schedule = CosineOverTime(0.1, minutes=1, warmup=0.1, floor=0.01)
    # Warm-up, the cosine, the floor, and past the budget.
    for spent, want in [(0.0, 0.001), (0.05, 0.05), (0.1, 0.1 * 0.5 * (1 + np.cos(0.1 * np.pi))),
                        (0.5, 0.05), (0.99, 0.001), (2.0, 0.001)]:
        np.testing.assert_allclose(schedule.rate(spent), want, rtol=1e-6)
    x, y = regression()
    model = dense_model()
    seen = []
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[
        schedule, keras.callbacks.LambdaCallback(on_train_batch_begin=lambda b, logs: (
            seen.append(float(model.optimizer.learning_rate.numpy())),
            now.__setitem__(0, now[0] + 6.0)))])
    # Each batch sees the rate of the time before it: 0, 6, 12, ... seconds.
    np.testing.assert_allclose(seen, [schedule.rate(6.0 * i / 60) for i in range(6)], rtol=1e-6)
    for bad in ({"peak": 0}, {"minutes": -1}, {"warmup": 1.0}, {"floor": 0}):
        with pytest.raises(ValueError, match=list(bad)[0]):
            CosineOverTime(**{"peak": 0.1, "minutes": 1, **bad})

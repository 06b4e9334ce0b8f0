"""EpochCheckpoints: the last N epochs' weights, written atomically, pruned safely."""

import os

import keras
import numpy as np
import pytest

from keras_seq.training import EpochCheckpoints, NonFiniteLossError
from keras_seq.training.epoch_checkpoints import TEMPORARY, checkpoint_name


def regression(batches=3, batch_size=4):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batches * batch_size, 3)).astype("float32")
    return x, x @ np.array([[1.0], [-2.0], [0.5]], "float32")


def dense_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, name="dense")])
    model.compile(keras.optimizers.SGD(0.05), "mse")
    return model


def fit(model, directory, epochs, keep, initial_epoch=0):
    """Fit with EpochCheckpoints; returns the weights at each epoch's end."""
    seen = {}
    record = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.__setitem__(epoch + 1, model.get_weights()))
    x, y = regression()
    model.fit(x, y, batch_size=4, epochs=epochs, initial_epoch=initial_epoch,
              shuffle=False, verbose=0,
              callbacks=[EpochCheckpoints(directory, keep=keep), record])
    return seen


def loaded(path):
    model = dense_model()
    model.load_weights(path)
    return model.get_weights()


def test_keeps_the_last_n_epochs_weights(tmp_path):
    directory = str(tmp_path / "checkpoints")
    model = dense_model()
    seen = fit(model, directory, epochs=5, keep=2)
    assert sorted(os.listdir(directory)) == ["epoch-0004.weights.h5",
                                             "epoch-0005.weights.h5"]
    for epoch in (4, 5):
        for got, want in zip(loaded(os.path.join(directory, checkpoint_name(epoch - 1))),
                             seen[epoch]):
            np.testing.assert_array_equal(got, want)
    assert not np.array_equal(seen[4][0], seen[5][0])  # they are two epochs' weights
    saver = EpochCheckpoints(directory, keep=2)
    assert [os.path.basename(p) for p in saver.checkpoints()] == [
        "epoch-0004.weights.h5", "epoch-0005.weights.h5"]


def test_deletes_only_its_own_older_files(tmp_path):
    directory = tmp_path / "checkpoints"
    directory.mkdir()
    foreign = {"notes.txt": b"mine", "epoch-12.weights.h5": b"two digits",
               "epoch-0001.weights.h5.bak": b"a copy", "Epoch-0001.weights.h5": b"case",
               "epoch-0099.weights.h5": b"a later epoch: never pruned"}
    for name, data in foreign.items():
        (directory / name).write_bytes(data)
    (directory / "epoch-0002.weights.h5.d").mkdir()
    fit(dense_model(), str(directory), epochs=4, keep=1)
    names = set(os.listdir(directory))
    assert names == set(foreign) | {"epoch-0002.weights.h5.d", "epoch-0004.weights.h5"}
    for name, data in foreign.items():
        assert (directory / name).read_bytes() == data


def test_a_resumed_fit_replaces_the_epochs_it_redoes(tmp_path):
    directory = str(tmp_path / "checkpoints")
    model = dense_model()
    fit(model, directory, epochs=3, keep=3)
    model.set_weights([w + 1 for w in model.get_weights()])
    seen = fit(model, directory, epochs=3, keep=3, initial_epoch=2)  # redo epoch 3
    assert sorted(os.listdir(directory)) == [checkpoint_name(e) for e in range(3)]
    for got, want in zip(loaded(os.path.join(directory, checkpoint_name(2))), seen[3]):
        np.testing.assert_array_equal(got, want)


def test_a_failed_write_leaves_the_previous_files_and_no_temporary(tmp_path, monkeypatch):
    directory = str(tmp_path / "checkpoints")
    model = dense_model()
    fit(model, directory, epochs=2, keep=1)
    before = open(os.path.join(directory, checkpoint_name(1)), "rb").read()

    def die(path, overwrite=True):
        with open(path, "wb") as f:
            f.write(b"half a file")
        raise OSError("No space left on device")

    monkeypatch.setattr(model, "save_weights", die)
    saver = EpochCheckpoints(directory, keep=1)
    saver.set_model(model)
    with pytest.raises(OSError, match="No space left"):
        saver.on_epoch_end(2)
    assert os.listdir(directory) == [checkpoint_name(1)]
    assert open(os.path.join(directory, checkpoint_name(1)), "rb").read() == before


def test_temporary_names_match_the_pattern_the_run_cleans(tmp_path, monkeypatch):
    names = []

    def record(path, overwrite=True):
        names.append(os.path.basename(path))
        raise OSError("stop")

    model = dense_model()
    monkeypatch.setattr(model, "save_weights", record)
    saver = EpochCheckpoints(str(tmp_path), keep=1)
    saver.set_model(model)
    with pytest.raises(OSError):
        saver.on_epoch_end(6)
    assert len(names) == 1 and names[0].startswith(".tmp-epoch-0007-")
    assert TEMPORARY.match(names[0])
    assert not TEMPORARY.match("epoch-0007.weights.h5")


def test_non_finite_weights_are_never_saved(tmp_path):
    model = dense_model()
    kernel, bias = model.get_weights()
    model.set_weights([np.full_like(kernel, np.nan), bias])
    saver = EpochCheckpoints(str(tmp_path / "checkpoints"), keep=2)
    saver.set_model(model)
    with pytest.raises(NonFiniteLossError, match=r"non-finite \(weight \S*dense/kernel\) "
                                                 r"at epoch 3\."):
        saver.on_epoch_end(2)
    assert not os.path.exists(tmp_path / "checkpoints")


@pytest.mark.parametrize("keep", [0, -1, 1.5, "2", None])
def test_keep_must_be_a_positive_integer(tmp_path, keep):
    with pytest.raises(ValueError) as error:
        EpochCheckpoints(str(tmp_path), keep=keep)
    assert str(error.value) == ("Invalid value for argument `keep`. Expected a positive "
                                f"integer. Received: keep={keep!r}")

"""DistributedTrainer: the strategy.run loop equals one device, resumes, stops on NaN."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_seq.data import make_dataset
from keras_seq.models import rnn_seq2seq
from keras_seq.training import DistributedTrainer, NonFiniteLossError

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def dataset(make_copy_task, n=40, batch_size=8):
    x, y = make_copy_task(n, max_length=5)
    # Unshuffled, unbucketed: the same batches in every process and epoch.
    return make_dataset(x["encoder_ids"], x["decoder_ids"], y, batch_size, bucket=False)


def build(strategy=None, learning_rate=1e-2):
    strategy = strategy or tf.distribute.get_strategy()
    keras.utils.set_random_seed(3)
    with strategy.scope():
        model = rnn_seq2seq(12, 12, units=8, attention="luong", dropout=0.0)
        model.build()
        optimizer = keras.optimizers.Adam(learning_rate)
    return model, optimizer


def max_difference(a, b):
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b))


def test_step_is_the_token_mean_loss_of_the_global_batch(copy_task):
    from keras_seq.metrics import MaskedSparseCrossEntropy

    model, optimizer = build()
    data = dataset(copy_task, n=8)
    inputs, targets = next(iter(data))
    expected = float(MaskedSparseCrossEntropy()(targets, model(inputs)))
    history = DistributedTrainer(model, optimizer, verbose=False).fit(data, epochs=1)
    assert history["loss"][0] == pytest.approx(expected, rel=1e-5)


def test_interrupted_run_resumes_mid_epoch_to_the_same_weights(copy_task, tmp_path):
    data = dataset(copy_task)  # 5 steps per epoch
    model, optimizer = build()
    DistributedTrainer(model, optimizer, verbose=False).fit(data, epochs=2)
    uninterrupted = model.get_weights()

    backup = str(tmp_path / "backup")
    model, optimizer = build()
    trainer = DistributedTrainer(model, optimizer, backup_dir=backup,
                                 backup_every=2, verbose=False)
    step, calls = trainer.steps.train, []

    def dies_at_step_8(*args):  # epoch 2, step 3: last backup at epoch 2 step 2
        calls.append(1)
        if len(calls) == 8:
            raise KeyboardInterrupt
        return step(*args)

    trainer.steps.train = dies_at_step_8
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(data, epochs=2)
    with np.load(os.path.join(backup, "latest.npz")) as saved:
        assert list(saved["position"]) == [1, 2]

    model, optimizer = build()  # a fresh process: new weights, same backup
    trainer = DistributedTrainer(model, optimizer, backup_dir=backup,
                                 backup_every=2, verbose=False)
    steps = []
    step2 = trainer.steps.train
    trainer.steps.train = lambda *a: steps.append(1) or step2(*a)
    history = trainer.fit(data, epochs=2)
    assert len(steps) == 3 and len(history["loss"]) == 1  # steps 3-5 of epoch 2
    assert max_difference(model.get_weights(), uninterrupted) < 1e-6
    assert int(optimizer.iterations.numpy()) == 10


def test_nan_loss_raises_and_keeps_the_last_finite_backup(copy_task, tmp_path):
    backup = str(tmp_path / "backup")
    model, optimizer = build(learning_rate=1e38)  # overflows within two steps
    trainer = DistributedTrainer(model, optimizer, backup_dir=backup,
                                 backup_every=1, verbose=False)
    with pytest.raises(NonFiniteLossError, match="loss became nan.*last good backup"):
        trainer.fit(dataset(copy_task), epochs=3)
    with np.load(os.path.join(backup, "latest.npz")) as saved:
        arrays = [saved[k] for k in saved.files]
    assert all(np.isfinite(a).all() for a in arrays)


def test_corrupt_backup_gives_a_clear_error(copy_task, tmp_path):
    backup = tmp_path / "backup"
    backup.mkdir()
    (backup / "latest.npz").write_bytes(b"PK\x03\x04 truncated")
    model, optimizer = build()
    trainer = DistributedTrainer(model, optimizer, backup_dir=str(backup), verbose=False)
    with pytest.raises(ValueError, match="corrupt or foreign"):
        trainer.fit(dataset(copy_task), epochs=1)


def test_arguments_are_checked(copy_task):
    model, optimizer = build()
    with pytest.raises(ValueError, match="backup_every"):
        DistributedTrainer(model, optimizer, backup_every=0)
    with pytest.raises(ValueError, match="clipnorm"):
        DistributedTrainer(model, optimizer, clipnorm=-1.0)
    with pytest.raises(ValueError, match="without clipnorm"):
        DistributedTrainer(model, keras.optimizers.Adam(clipnorm=1.0))
    unbuilt = rnn_seq2seq(12, 12, units=8)
    with pytest.raises(ValueError, match="Build `model`"):
        DistributedTrainer(unbuilt, optimizer)


MIRRORED = textwrap.dedent(
    """
    import json, os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    sys.path.insert(0, sys.argv[1])
    sys.path.insert(0, os.path.join(sys.argv[1], "training"))
    from conftest import make_copy_task
    from test_distributed_trainer import build, dataset, max_difference
    from keras_seq.training import DistributedTrainer

    # 7-row batches: one all-PAD row is added to split them over 2 replicas.
    data = dataset(make_copy_task, n=21, batch_size=7)
    results = {}
    for name, strategy in (
            ("single", tf.distribute.get_strategy()),
            ("mirrored", tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))):
        model, optimizer = build(strategy)
        history = DistributedTrainer(model, optimizer, strategy, clipnorm=1.0,
                                     verbose=False).fit(data, data, epochs=2)
        results[name] = (history, model.get_weights())
    print(json.dumps({
        "replicas": strategy.num_replicas_in_sync,
        "single": results["single"][0], "mirrored": results["mirrored"][0],
        "difference": max_difference(results["single"][1], results["mirrored"][1]),
    }))
    """
)


@pytest.mark.slow
def test_mirrored_over_two_devices_matches_one_device():
    result = subprocess.run([sys.executable, "-c", MIRRORED, TESTS],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["replicas"] == 2
    assert out["difference"] < 1e-5
    for key in ("loss", "val_loss", "token_accuracy"):
        np.testing.assert_allclose(out["mirrored"][key], out["single"][key], rtol=1e-5)


WORKER = textwrap.dedent(
    """
    import json, os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    import tensorflow as tf
    multi = "TF_CONFIG" in os.environ
    if multi:  # as `keras-seq train` does: a host's stall is not a lost worker
        from keras_seq.cli import coordination
        coordination.configure()
    strategy = (tf.distribute.MultiWorkerMirroredStrategy() if multi
                else tf.distribute.get_strategy())
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    sys.path.insert(0, os.path.join(sys.argv[1], "training"))
    from conftest import make_copy_task
    from test_distributed_trainer import build, dataset
    from keras_seq.training import DistributedTrainer

    data = dataset(make_copy_task, n=36, batch_size=9)  # odd global batches
    model, optimizer = build(strategy)
    backup = sys.argv[3] if len(sys.argv) > 3 else None
    epochs = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    history = DistributedTrainer(model, optimizer, strategy, clipnorm=1.0,
                                 backup_dir=backup, verbose=False).fit(
                                     data, data, epochs=epochs)
    np.savez(sys.argv[2], *model.get_weights())
    print(json.dumps({"replicas": strategy.num_replicas_in_sync, **history}))
    """
)


def start_workers(tmp_path, environments, *args):
    return [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, TESTS, str(tmp_path / f"w{index}.npz"), *args],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for index, env in enumerate(environments(2))
    ]


def finish(workers):
    outputs = []
    for worker in workers:
        try:
            out, err = worker.communicate(timeout=600)
        finally:
            worker.kill()
        assert worker.returncode == 0, err[-3000:]
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    return outputs


def run_alone(path, *args):
    single = subprocess.run([sys.executable, "-c", WORKER, TESTS, str(path), *args],
                            capture_output=True, text=True, timeout=600)
    assert single.returncode == 0, single.stderr[-3000:]
    return json.loads(single.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_two_workers_on_loopback_end_identical_and_equal_one_process(
        tmp_path, worker_environments):
    workers = start_workers(tmp_path, worker_environments)
    alone = run_alone(tmp_path / "single.npz")
    outputs = finish(workers)
    assert [o["replicas"] for o in outputs] == [2, 2] and alone["replicas"] == 1

    weights = [np.load(tmp_path / f"{n}.npz") for n in ("w0", "w1", "single")]
    names = weights[0].files
    for name in names:  # both workers: bit-identical weights
        np.testing.assert_array_equal(weights[0][name], weights[1][name])
    assert max(float(np.abs(weights[0][n] - weights[2][n]).max()) for n in names) < 1e-5
    np.testing.assert_allclose(outputs[0]["loss"], alone["loss"], rtol=1e-5)
    np.testing.assert_allclose(outputs[1]["val_loss"], alone["val_loss"], rtol=1e-5)


@pytest.mark.slow
def test_two_workers_resume_from_the_chiefs_backup(tmp_path, worker_environments):
    """Epoch 1 alone with a backup, then two workers finish epoch 2 from it."""
    backup = str(tmp_path / "backup")
    first = run_alone(tmp_path / "first.npz", backup, "1")
    assert len(first["loss"]) == 1 and os.path.exists(os.path.join(backup, "latest.npz"))
    workers = start_workers(tmp_path, worker_environments, backup, "2")
    whole = run_alone(tmp_path / "whole.npz")  # 2 epochs, uninterrupted
    outputs = finish(workers)
    assert [len(o["loss"]) for o in outputs] == [1, 1]  # only epoch 2 was left
    weights = [np.load(tmp_path / f"{n}.npz") for n in ("w0", "w1", "whole")]
    names = weights[0].files
    for name in names:
        np.testing.assert_array_equal(weights[0][name], weights[1][name])
    assert max(float(np.abs(weights[0][n] - weights[2][n]).max()) for n in names) < 1e-5
    np.testing.assert_allclose(outputs[1]["val_loss"], whole["val_loss"][1:], rtol=1e-5)

"""`keras-seq train` survives SIGKILL, NaN, and runs on two workers."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

from keras_seq.cli import main
from keras_seq.cli.run_directory import read_history

ARGS = ["train", "--task", "sort", "--examples", "2000", "--units", "32",
        "--batch-size", "32", "--epochs", "8", "--seed", "5", "--learning-rate", "0.01"]
SMALL = ["train", "--task", "reverse", "--examples", "300", "--units", "16",
         "--batch-size", "32", "--dropout", "0.1"]


def command(*args):
    return [sys.executable, "-m", "keras_seq.cli", *args]


def backup_position(out):
    try:
        with open(os.path.join(out, "backup", "training_metadata.json")) as f:
            state = json.load(f)
        return state["epoch"], state["batch"]
    except (OSError, ValueError, KeyError):
        return None


def model_weights(path):
    """Every array in a .keras file's weights, by name."""
    import zipfile

    with zipfile.ZipFile(path) as archive, archive.open("model.weights.h5") as f:
        arrays = {}
        with h5py.File(f, "r") as h5:
            h5.visititems(lambda name, obj: arrays.__setitem__(name, obj[()])
                          if isinstance(obj, h5py.Dataset) else None)
    return arrays


@pytest.mark.slow
def test_sigkilled_mid_epoch_resumes_and_matches_an_uninterrupted_run(tmp_path):
    out, reference = str(tmp_path / "run"), str(tmp_path / "reference")
    step_backups = ["--backup-every", "10"]
    uninterrupted = subprocess.Popen(command(*ARGS, *step_backups, "--out", reference),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    log = open(tmp_path / "first.log", "w")
    first = subprocess.Popen(command(*ARGS, *step_backups, "--out", out),
                             stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 600
    # Kill without warning once a backup inside epoch 3 exists.
    while time.time() < deadline:
        position = backup_position(out)
        if position and position[0] >= 2 and position[1] > 0:
            break
        assert first.poll() is None, (tmp_path / "first.log").read_text()[-2000:]
        time.sleep(0.05)
    else:
        pytest.fail("the first run never backed up inside epoch 3")
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert not os.path.exists(os.path.join(out, "model.keras"))
    epochs_done = len(read_history(out))
    assert epochs_done == position[0]

    second = subprocess.run(command(*ARGS, *step_backups, "--out", out),
                            capture_output=True, text=True, timeout=900)
    assert second.returncode == 0, second.stderr[-2000:]
    text = second.stdout + second.stderr
    assert "resuming the run" in text
    epochs = [line.split()[1] for line in text.splitlines() if line.startswith("Epoch ")]
    # The interrupted epoch is finished alone (Keras counts it as the last of
    # a fit of position[0] + 1 epochs), then the remaining epochs.
    assert epochs == [f"{position[0] + 1}/{position[0] + 1}"] + [
        f"{e}/8" for e in range(position[0] + 2, 9)], text[-3000:]
    assert os.path.exists(os.path.join(out, "model.keras"))
    assert not os.path.exists(os.path.join(out, "backup"))  # removed after saving

    _, err = uninterrupted.communicate(timeout=900)
    assert uninterrupted.returncode == 0, err[-2000:]
    resumed, whole = read_history(out), read_history(reference)
    assert [int(r["epoch"]) for r in resumed] == list(range(1, 9))
    first_loss = float(whole[0]["val_loss"])
    resumed_loss, whole_loss = float(resumed[-1]["val_loss"]), float(whole[-1]["val_loss"])
    assert whole_loss < 0.25 * first_loss  # it learned
    # Same seed; the resumed run skips the steps it had done, replays each
    # epoch's shuffle (set_epoch) and restores dropout's random state, so it
    # takes the very same steps: the losses agree to float noise.
    for a, b in zip(resumed, whole):
        assert float(a["val_loss"]) == pytest.approx(float(b["val_loss"]), rel=1e-3)
    assert resumed_loss == pytest.approx(whole_loss, rel=1e-3)


@pytest.mark.slow
def test_deterministic_runs_with_one_seed_give_identical_weights(tmp_path):
    runs = [subprocess.Popen(command(*SMALL, "--epochs", "2", "--seed", "3",
                                     "--deterministic", "--out", str(tmp_path / name)),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for name in ("a", "b")]  # side by side: the same ops in any order
    for run in runs:
        try:
            err = run.communicate(timeout=600)[1]
        finally:
            run.kill()
        assert run.returncode == 0, err[-2000:]
    paths = [os.path.join(tmp_path / name, "model.keras") for name in ("a", "b")]
    a, b = model_weights(paths[0]), model_weights(paths[1])
    assert a.keys() == b.keys() and len(a) > 4
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    other = str(tmp_path / "c")
    assert main([*SMALL, "--epochs", "2", "--seed", "4", "--out", other]) == 0
    c = model_weights(os.path.join(other, "model.keras"))
    assert any(not np.array_equal(a[n], c[n]) for n in a)  # the seed matters


@pytest.mark.slow
def test_nan_loss_stops_with_a_message_and_keeps_the_last_good_backup(tmp_path, capsys):
    out = str(tmp_path / "run")
    # Adam at 1e36 puts ~1e36-1e37 in the weights after one step (an
    # embedding row's sparse update can be a few times the learning rate):
    # finite, but the next forward pass overflows to inf (or inf - inf = NaN,
    # depending on the kernel's order of sums).
    code = main([*SMALL, "--epochs", "3", "--learning-rate", "1e36",
                 "--clipnorm", "0", "--backup-every", "1", "--out", out])
    err = capsys.readouterr().err
    assert code == 2
    assert re.search(r"loss became (nan|inf) at epoch 1, step 2;", err), err
    assert "last good backup is kept in" in err and err.count("\n") == 1
    assert not os.path.exists(os.path.join(out, "model.keras"))
    assert backup_position(out) == (0, 0)
    with h5py.File(os.path.join(out, "backup", "latest.weights.h5"), "r") as h5:
        arrays = []
        h5.visititems(lambda n, o: arrays.append(o[()]) if isinstance(o, h5py.Dataset) else None)
    assert arrays and all(np.isfinite(a).all() for a in arrays)


def test_training_option_errors_are_clear(tmp_path, capsys, monkeypatch):
    with pytest.raises(SystemExit) as e:
        main([*SMALL, "--backup-every", "0", "--out", str(tmp_path / "a")])
    assert e.value.code == 2
    assert "'epoch' or a positive number of steps" in capsys.readouterr().err
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert main([*SMALL, "--strategy", "multi-worker", "--out", str(tmp_path / "b")]) == 2
    assert "needs the TF_CONFIG" in capsys.readouterr().err
    assert main([*SMALL, "--connect-timeout", "5", "--out", str(tmp_path / "d")]) == 2
    assert capsys.readouterr().err == ("keras-seq: error: --connect-timeout applies only "
                                       "to --strategy multi-worker\n")
    with pytest.raises(SystemExit) as e:
        main([*SMALL, "--strategy", "multi-worker", "--connect-timeout", "0",
              "--out", str(tmp_path / "e")])
    assert e.value.code == 2
    assert "argument --connect-timeout: expected" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main([*SMALL, "--clipnorm", "-1", "--out", str(tmp_path / "c")])
    assert e.value.code == 2
    assert "argument --clipnorm: expected a finite number >= 0" in capsys.readouterr().err


@pytest.mark.slow
def test_mirrored_strategy_cli_trains_with_the_custom_loop(tmp_path, capsys):
    out = str(tmp_path / "run")
    # One CPU here, so one replica; the two-device split is tested in
    # tests/training/test_distributed_trainer.py.
    assert main([*SMALL, "--epochs", "2", "--strategy", "mirrored", "--out", out]) == 0
    printed = capsys.readouterr().out
    assert "Epoch 2/2 - " in printed and "val_loss" in printed
    rows = read_history(out)
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert float(rows[1]["loss"]) < float(rows[0]["loss"])
    assert not os.path.exists(os.path.join(out, "backup"))
    assert main(["predict", out, "abc"]) == 0

"""A killed `keras-seq train` resumes from its backup when started again."""

import os
import signal
import subprocess
import sys
import time

import pytest

ARGS = ["train", "--task", "reverse", "--examples", "2000", "--units", "16",
        "--batch-size", "32", "--epochs", "6"]


@pytest.mark.slow
def test_sigkilled_run_resumes_where_it_stopped(tmp_path):
    out = str(tmp_path / "run")
    command = [sys.executable, "-m", "keras_seq.cli", *ARGS, "--out", out]
    log = open(tmp_path / "first.log", "w")
    first = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    backup = os.path.join(out, "backup")
    deadline = time.time() + 300
    # Wait until two epochs have been backed up, then kill without warning.
    while time.time() < deadline:
        text = (tmp_path / "first.log").read_text()
        if "Epoch 3/6" in text and os.path.isdir(backup) and os.listdir(backup):
            break
        assert first.poll() is None, text[-2000:]
        time.sleep(0.2)
    else:
        pytest.fail("the first run never reached epoch 3")
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert not os.path.exists(os.path.join(out, "model.keras"))

    second = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr[-2000:]
    text = second.stdout + second.stderr
    assert "resuming the run" in text
    assert "Epoch 1/6" not in text and "Epoch 6/6" in text
    assert os.path.exists(os.path.join(out, "model.keras"))

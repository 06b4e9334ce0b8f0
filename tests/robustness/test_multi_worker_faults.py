"""`train --strategy multi-worker` when a peer is missing or dies (issue 13,
case 17; docs/robustness.md "Files and runs").

Each test starts real worker processes on loopback ports: a worker whose
peer never starts, one stopped by SIGTERM or SIGINT while it waits, and a
worker stopped mid-epoch, whose survivor must say so in one line and whose
restart must resume from the backup, undisturbed by a worker that its host
stalls for 20 s.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from keras_seq.cli import main
from keras_seq.cli import run_directory as rd

TRAIN = ["train", "--task", "reverse", "--units", "16", "--batch-size", "32",
         "--strategy", "multi-worker"]


def start(out, env, *extra):
    return subprocess.Popen(
        [sys.executable, "-m", "keras_seq.cli", *TRAIN, *extra, "--out", out],
        env=dict(env, TF_CPP_MIN_LOG_LEVEL="2"), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)


def last_line(text):
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""


def processes():
    """{pid: (state, parent pid, command line)} of the processes now running."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as s:
                state, parent = s.read().split(")")[-1].split()[:2]
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                found[int(pid)] = (state, int(parent), f.read())
        except OSError:  # it ended meanwhile
            continue
    return found


def processes_naming(out):
    """Pids of live processes whose command line mentions `out`."""
    return [pid for pid, (state, _, command) in processes().items()
            if out.encode() in command and state != "Z"]


def listening(host_port):
    host, _, port = host_port.rpartition(":")
    try:
        socket.create_connection((host, int(port)), 0.5).close()
        return True
    except OSError:
        return False


def children_of(pid):
    """Pids of the live processes whose parent is `pid`."""
    return [child for child, (state, parent, _) in processes().items()
            if parent == pid and state != "Z"]


def stop_for(pids, seconds):
    """Freeze `pids` (SIGSTOP) for `seconds`, as a stalled host would."""
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(seconds)
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


def wait_for(condition, seconds):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def address(env, index):
    return json.loads(env["TF_CONFIG"])["cluster"]["worker"][index]


@pytest.mark.slow
def test_a_peer_that_never_starts_stops_the_worker_at_the_connect_timeout(
        tmp_path, worker_environments):
    out = str(tmp_path / "run")
    chief_env, other_env = worker_environments(2)
    began = time.monotonic()
    worker = start(out, chief_env, "--examples", "300", "--connect-timeout", "5")
    try:
        _, err = worker.communicate(timeout=120)
    finally:
        worker.kill()
    assert worker.returncode == 2, err[-2000:]
    assert time.monotonic() - began < 60
    assert "Traceback" not in err
    assert last_line(err) == (
        "keras-seq: error: the workers in TF_CONFIG did not all connect within "
        f"--connect-timeout 5 s; not reachable: worker 1 at {address(other_env, 1)}")
    assert not os.path.exists(out)  # nothing written, nothing left running
    assert processes_naming(out) == []


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_sigint_stop_a_worker_waiting_for_its_peer(
        tmp_path, worker_environments, signum):
    out = str(tmp_path / "run")
    env = worker_environments(2)[0]
    worker = start(out, env, "--examples", "300")
    try:
        # The worker's own server listens once it waits for its peer.
        assert wait_for(lambda: listening(address(env, 0)), 60)
        sent = time.monotonic()
        worker.send_signal(signum)
        _, err = worker.communicate(timeout=60)
    finally:
        worker.kill()
    assert time.monotonic() - sent < 10
    assert worker.returncode == 128 + signum, err[-2000:]
    assert last_line(err) == (f"keras-seq: stopped by {signal.Signals(signum).name}; "
                              "the workers had not all connected yet")
    assert wait_for(lambda: processes_naming(out) == [], 10)


@pytest.mark.slow
def test_a_lost_worker_is_one_line_and_a_restart_resumes_from_the_backup(
        tmp_path, worker_environments):
    out = str(tmp_path / "run")
    envs = worker_environments(2)
    args = ["--examples", "800", "--epochs", "6", "--backup-every", "5"]
    chief, other = [start(out, env, *args) for env in envs]
    try:
        backup = os.path.join(out, "backup", "latest.npz")
        assert wait_for(lambda: os.path.exists(backup), 180), "no backup was written"
        # SIGTERM on a training worker: it stops at once and keeps the backup.
        sent = time.monotonic()
        other.send_signal(signal.SIGTERM)
        _, other_err = other.communicate(timeout=60)
        assert time.monotonic() - sent < 10
        _, chief_err = chief.communicate(timeout=120)
    finally:
        chief.kill()
        other.kill()
    assert other.returncode == 128 + signal.SIGTERM, other_err[-2000:]
    assert last_line(other_err) == (
        f"keras-seq: stopped by SIGTERM; the run resumes from its last backup in {out} "
        "when every worker is started again")
    # The survivor: one line naming the lost worker, no traceback.
    assert chief.returncode == 2, chief_err[-2000:]
    assert "Traceback" not in chief_err
    assert last_line(chief_err) == (
        f"keras-seq: error: lost worker 1 at {address(envs[1], 1)} during training; "
        f"the run resumes from its last backup in {out} when every worker is started again")
    assert os.path.exists(backup) and not os.path.exists(os.path.join(out, rd.MODEL))
    assert wait_for(lambda: processes_naming(out) == [], 10)

    def run_both(stall=0):
        workers = [start(out, env, *args) for env in envs]
        try:
            if stall:
                # Mid-training (the chief writes a newer backup), the host
                # stalls worker 1 for longer than TensorFlow's default 10 s
                # heartbeat timeout: a stall, not a lost worker.
                written = os.stat(backup).st_mtime_ns
                assert wait_for(lambda: os.stat(backup).st_mtime_ns != written, 180)
                trainer = children_of(workers[1].pid)
                assert len(trainer) == 1, trainer
                stop_for(trainer, stall)
            outputs = [worker.communicate(timeout=300) for worker in workers]
        finally:
            for worker in workers:
                worker.kill()
        assert [w.returncode for w in workers] == [0, 0], [
            err[-2000:] for _, err in outputs]
        return [stdout for stdout, _ in outputs]

    chief_out, other_out = run_both(stall=20)
    assert "resuming the run in" in chief_out and "resuming at epoch" in chief_out
    assert "Epoch 6/6" in chief_out and f"saved {out}/model.keras" in chief_out
    assert "Epoch" not in other_out and "saved" not in other_out  # only the chief writes
    assert [r["epoch"] for r in rd.read_history(out)] == [str(e) for e in range(1, 7)]
    assert {rd.MODEL, rd.CONFIG, "history.csv"} <= set(os.listdir(out))
    assert not os.path.exists(os.path.join(out, "backup"))
    assert main(["predict", out, "abc"]) == 0
    # Started again on the finished run, both workers return at once.
    chief_out, other_out = run_both()
    assert "finished training already" in chief_out and "Epoch" not in chief_out

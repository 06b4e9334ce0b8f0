"""A `train --strategy multi-worker` that can be stopped while it connects.

`MultiWorkerMirroredStrategy()` waits for every worker in TF_CONFIG inside
one C++ call that holds the GIL, so no Python timer or signal handler runs
until it returns, and TensorFlow's coordination service installs its own
SIGTERM handler. A worker whose peer never starts therefore hangs for good.

So each worker trains in a child process (the same command, with
`CHILD_ENV` set) and this process watches it: it stops the child when the
workers have not all connected within `--connect-timeout` seconds, names
the peers it could not reach, and on SIGTERM or SIGINT stops the child at
once. Every file the child writes is written atomically, so stopping it
(even with SIGKILL) keeps the last backup, and restarting every worker
resumes from it.
"""

import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time

CHILD_ENV = "KERAS_SEQ_WORKER_READY_FD"
SUPERVISOR_ENV = "KERAS_SEQ_WORKER_SUPERVISOR"
PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>
GRACE_SECONDS = 3.0  # a child still in Python may exit by itself first


class _Stopped(Exception):
    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def is_child():
    return CHILD_ENV in os.environ


def follow_supervisor():
    """In the child: die with the supervisor, even when it is SIGKILLed."""
    supervisor = os.environ.get(SUPERVISOR_ENV)
    if supervisor is None:
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return  # not Linux: the supervisor's own handlers still stop us
    if os.getppid() != int(supervisor):  # it died before prctl took effect
        os._exit(128 + signal.SIGKILL)


def report_connected():
    """In the child: tell the supervisor every worker has connected."""
    os.environ.pop(SUPERVISOR_ENV, None)
    fd = os.environ.pop(CHILD_ENV, None)
    if fd is None:
        return
    try:
        os.write(int(fd), b"1")
        os.close(int(fd))
    except (OSError, ValueError):
        pass  # no supervisor listening: nothing to tell


def cluster_peers():
    """{(job, index): "host:port"} of the other tasks in TF_CONFIG."""
    try:
        config = json.loads(os.environ.get("TF_CONFIG", ""))
        own = (config["task"]["type"], config["task"]["index"])
        tasks = {(job, i): address for job, addresses in config["cluster"].items()
                 for i, address in enumerate(addresses)}
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}
    tasks.pop(own, None)
    return tasks


def describe(task, address):
    return f"{task[0]} {task[1]} at {address}"


def unreachable(peers, timeout=1.0):
    """The peers (as `cluster_peers` gives them) that refuse a TCP connection."""
    missing = []
    for task, address in peers.items():
        host, _, port = address.rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout):
                pass
        except (OSError, ValueError):
            missing.append(describe(task, address))
    return missing


def lost_peers(message):
    """The peers a TensorFlow error message names, e.g. "worker 1 at h:p"."""
    peers = cluster_peers()
    named = re.findall(r"/job:(\w+)/replica:\d+/task:(\d+)", message)
    found = []
    for job, index in dict.fromkeys(named):
        task = (job, int(index))
        if task in peers:
            found.append(describe(task, peers[task]))
    return found


def supervise(argv, connect_timeout, out):
    """Run `keras-seq *argv` as a watched child; return the exit status.

    Args:
        argv: list of str. The command-line arguments, as given.
        connect_timeout: float. Seconds the workers have to connect.
        out: str. The run directory, named in messages.
    """
    read_end, write_end = os.pipe()
    env = dict(os.environ, **{CHILD_ENV: str(write_end), SUPERVISOR_ENV: str(os.getpid())})
    child = subprocess.Popen([sys.executable, "-m", "keras_seq.cli", *argv],
                             env=env, pass_fds=(write_end,))
    os.close(write_end)
    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}

    def stop(signum, frame):
        raise _Stopped(signum)

    for s in previous:
        signal.signal(s, stop)
    connected = False
    try:
        try:
            connected = wait_connected(child, read_end, connect_timeout)
            if not connected:
                end(child, signal.SIGKILL)
                missing = unreachable(cluster_peers())
                print(f"keras-seq: error: the workers in TF_CONFIG did not all connect "
                      f"within --connect-timeout {connect_timeout:g} s; "
                      + (f"not reachable: {', '.join(missing)}" if missing else
                         "every peer answers: check that all use the same TF_CONFIG"),
                      file=sys.stderr)
                return 2
            while True:
                try:
                    return child.wait(timeout=0.5)
                except subprocess.TimeoutExpired:
                    continue
        except _Stopped as stopped:
            for s in previous:  # a second signal now may not interrupt the cleanup
                signal.signal(s, signal.SIG_IGN)
            # Still connecting, the child sits in C++ and cannot act on a signal.
            end(child, stopped.signum if connected else signal.SIGKILL)
            name = signal.Signals(stopped.signum).name
            print(f"keras-seq: stopped by {name}; " + (
                f"the run resumes from its last backup in {out} when every worker "
                "is started again" if connected else
                "the workers had not all connected yet"), file=sys.stderr)
            return 128 + stopped.signum
    finally:
        os.close(read_end)
        for s, handler in previous.items():
            signal.signal(s, handler)
        if child.poll() is None:
            end(child, signal.SIGKILL)


def wait_connected(child, read_end, timeout):
    """True once the child reports its connection or exits; False on timeout."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([read_end], [], [], min(left, 0.5))
        if ready:  # a byte, or EOF because the child ended
            return True
        if child.poll() is not None:
            return True
    return False


def end(child, signum):
    """Pass `signum` on; SIGKILL a child still alive after the grace time."""
    if child.poll() is not None:
        return
    child.send_signal(signum)
    try:
        child.wait(timeout=0 if signum == signal.SIGKILL else GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()

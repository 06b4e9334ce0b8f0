"""The helpers of `keras_seq.cli.worker_supervisor` (no TensorFlow needed);
the processes themselves are tested in tests/robustness/test_multi_worker_faults.py."""

import json
import os
import socket

from keras_seq.cli import worker_supervisor as ws


def tf_config(monkeypatch, cluster, job="worker", index=0):
    monkeypatch.setenv("TF_CONFIG", json.dumps(
        {"cluster": cluster, "task": {"type": job, "index": index}}))


def test_cluster_peers_are_the_other_tasks_of_every_job(monkeypatch):
    tf_config(monkeypatch, {"chief": ["a:1"], "worker": ["b:2", "c:3"]}, "worker", 1)
    assert ws.cluster_peers() == {("chief", 0): "a:1", ("worker", 0): "b:2"}
    monkeypatch.setenv("TF_CONFIG", "{not json")
    assert ws.cluster_peers() == {}
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": ["x"], "task": {}}))
    assert ws.cluster_peers() == {}


def test_lost_peers_names_the_tasks_a_tensorflow_error_names(monkeypatch):
    tf_config(monkeypatch, {"worker": ["h:1", "h:2", "h:3"]})
    message = ("Collective ops is aborted by: recvmsg:Connection reset by peer\n"
               "Additional GRPC error information from remote target "
               "/job:worker/replica:0/task:2 while calling RecvBuf; again "
               "/job:worker/replica:0/task:2 and our own /job:worker/replica:0/task:0")
    assert ws.lost_peers(message) == ["worker 2 at h:3"]
    assert ws.lost_peers("Socket closed") == []


def test_unreachable_lists_only_peers_that_refuse_a_connection():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    try:
        peers = {("worker", 1): f"127.0.0.1:{server.getsockname()[1]}",
                 ("worker", 2): f"127.0.0.1:{closed_port}",
                 ("worker", 3): "no-port"}
        assert ws.unreachable(peers) == [f"worker 2 at 127.0.0.1:{closed_port}",
                                         "worker 3 at no-port"]
    finally:
        server.close()


def test_report_connected_writes_once_to_the_supervisor_pipe(monkeypatch):
    read_end, write_end = os.pipe()
    monkeypatch.setenv(ws.CHILD_ENV, str(write_end))
    monkeypatch.setenv(ws.SUPERVISOR_ENV, "1")
    assert ws.is_child()
    ws.report_connected()
    assert os.read(read_end, 10) == b"1"
    assert os.read(read_end, 10) == b""  # closed: the supervisor sees EOF after it
    assert not ws.is_child() and ws.SUPERVISOR_ENV not in os.environ
    ws.report_connected()  # a second call (or none supervising) does nothing
    os.close(read_end)

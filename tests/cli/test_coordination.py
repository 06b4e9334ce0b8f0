"""The multi-worker coordination service's heartbeat timeout."""

import json
import os
import subprocess
import sys

import pytest

from keras_seq.cli import coordination

SHOW = """
from keras_seq.cli import coordination
from tensorflow.python.eager import context
coordination.configure({seconds})
config = context.context().coordination_service
print(config.service_type, config.service_leader, config.heartbeat_timeout_in_ms,
      [(j.name, j.num_tasks) for j in config.coordinated_job_list])
"""


def configured(seconds, cluster):
    """What `configure(seconds)` sets, in a fresh process for worker 0."""
    env = {"TF_CONFIG": json.dumps({"cluster": cluster,
                                    "task": {"type": "worker", "index": 0}}),
           "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run([sys.executable, "-c", SHOW.format(seconds=seconds)],
                            capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, **env))
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip().splitlines()[-1]


def test_the_heartbeat_timeout_is_set_and_the_jobs_are_the_clusters():
    workers = {"worker": ["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"]}
    assert configured("", workers) == (
        "standalone /job:worker/replica:0/task:0 60000 [('worker', 3)]")
    with_chief = {"chief": ["127.0.0.1:1"], "worker": ["127.0.0.1:2"]}
    assert configured(2.5, with_chief) == (
        "standalone /job:chief/replica:0/task:0 2500 [('chief', 1), ('worker', 1)]")


@pytest.mark.parametrize("seconds", [0, -1, float("nan")])
def test_a_timeout_that_is_not_positive_is_refused(seconds):
    with pytest.raises(ValueError, match="heartbeat_timeout must be a positive"):
        coordination.configure(seconds)

"""The coordination service of a `--strategy multi-worker` cluster.

`MultiWorkerMirroredStrategy` starts TensorFlow's coordination service,
whose heartbeats declare a worker dead after 10 s without one, and then
stop every worker. A live worker that its host stalls for longer (swapping,
memory reclaim, a saturated CPU) would end the whole run. A worker that
really ends is still seen at once, since its connections close, so a
longer heartbeat timeout costs nothing there; it only delays noticing a
worker that hangs without ending.
"""

HEARTBEAT_TIMEOUT = 60  # seconds


def configure(heartbeat_timeout=HEARTBEAT_TIMEOUT):
    """Set up the coordination service as `MultiWorkerMirroredStrategy`
    would, with a heartbeat timeout of `heartbeat_timeout` seconds.

    Call it before creating the strategy (which keeps a configuration it
    finds) and before any TensorFlow op.

    Args:
        heartbeat_timeout: positive number. Seconds without a heartbeat
            after which a worker counts as lost.

    Raises:
        ValueError, KeyError: TF_CONFIG is not a valid cluster.
    """
    import tensorflow as tf
    from tensorflow.compiler.xla.tsl.protobuf import coordination_config_pb2
    from tensorflow.python.distribute import multi_worker_util
    from tensorflow.python.eager import context

    if not heartbeat_timeout > 0:
        raise ValueError(f"heartbeat_timeout must be a positive number of seconds, "
                         f"received {heartbeat_timeout!r}")
    cluster = tf.distribute.cluster_resolver.TFConfigClusterResolver().cluster_spec()
    jobs = [coordination_config_pb2.CoordinatedJob(name=job, num_tasks=cluster.num_tasks(job))
            for job in ("chief", "worker") if job in cluster.jobs]
    context.context().configure_coordination_service(
        service_type="standalone",
        service_leader=multi_worker_util.coordination_leader(cluster),
        coordinated_jobs=jobs,
        heartbeat_timeout_in_ms=int(heartbeat_timeout * 1000))

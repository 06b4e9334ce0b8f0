"""How `DistributedTrainer` cuts one global batch into replica slices."""

import tensorflow as tf

from keras_seq.constants import PAD


def split_global_batch(strategy, replicas, inputs, targets):
    """Pad a global batch to a multiple of `replicas` and give each a slice.

    The batch is padded with all-PAD rows (they carry no loss and no
    gradient), then cut into equal consecutive slices, replica `r` taking
    rows `r * per` to `(r + 1) * per`.

    Args:
        strategy: the `tf.distribute` strategy.
        replicas: int. Replicas in sync (all devices of all workers).
        inputs: dict of int tensors `(N, ...)`.
        targets: int tensor `(N, T)`.

    Returns:
        A distributed `(inputs, targets)` value for `strategy.run`.
    """
    size = int(tf.shape(targets)[0])
    per = max(1, -(-size // replicas))
    extra = per * replicas - size

    def pad(x):
        x = tf.convert_to_tensor(x)
        padding = [[0, extra]] + [[0, 0]] * (x.shape.rank - 1)
        return tf.pad(x, padding, constant_values=PAD)

    inputs = {k: pad(v) for k, v in inputs.items()}
    targets = pad(targets)

    def value(context):
        r = context.replica_id_in_sync_group
        rows = slice(r * per, (r + 1) * per)
        return {k: v[rows] for k, v in inputs.items()}, targets[rows]

    # One call: a value function may return a nest (inputs, targets).
    return strategy.experimental_distribute_values_from_function(value)

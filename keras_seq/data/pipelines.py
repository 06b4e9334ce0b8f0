"""tf.data pipelines: token ids to batched `({encoder_ids, decoder_ids}, targets)`."""

import numpy as np
import tensorflow as tf

from keras_seq.arguments import check_int
from keras_seq.constants import PAD

# Most buckets a pipeline uses; past this many distinct source lengths the
# boundaries are length quantiles.
_MAX_BUCKETS = 16


def make_dataset(
    source_ids,
    decoder_ids,
    target_ids,
    batch_size,
    shuffle=False,
    seed=0,
    bucket=True,
):
    """Build a batched seq2seq `tf.data.Dataset` from token ids.

    Each element is `({"encoder_ids": [B, S], "decoder_ids": [B, T]},
    target_ids [B, T])`, int32, padded with PAD (0) per batch, so a batch is
    only as wide as its longest row. With `bucket=True` examples are grouped
    by source length (up to 16 buckets, one per distinct length or at length
    quantiles), so rows in a batch have similar lengths and little padding;
    the batches are those `tf.data.Dataset.bucket_by_sequence_length` makes
    from the examples in order (a bucket's batch comes out when its last
    example arrives; the part-filled ones end the pass), worked out for a
    whole pass at once so that each batch costs one gather. Bucketing
    reorders examples, so use `bucket=False` where the order must be kept
    (scoring against references). With `shuffle=True` examples are shuffled
    (over the whole dataset, reshuffled each epoch) before bucketing; the
    same `seed` gives the same order. The pipeline ends with
    `prefetch(AUTOTUNE)`.

    Args:
        source_ids: the encoder input of each example (source tokens, no
            BOS/EOS): a list of int sequences, a `tf.RaggedTensor` [N, None],
            or an int array [N, S] right-padded with PAD.
        decoder_ids: the decoder input of each example (BOS + target
            tokens), in one of the same forms.
        target_ids: the training target of each example (target tokens +
            EOS), in one of the same forms.
        batch_size: int. Examples per batch (the last batch of each bucket
            may be smaller).
        shuffle: bool. Whether to shuffle examples. Defaults to `False`.
        seed: int. The shuffle seed. Defaults to `0`.
        bucket: bool. Whether to batch examples of similar source length
            together. Defaults to `True`.

    Returns:
        A `tf.data.Dataset` of `({"encoder_ids", "decoder_ids"}, target_ids)`.

    Example:

    >>> ds = keras_seq.data.make_dataset(
    ...     [[5, 6], [7]], [[2, 6, 5], [2, 7]], [[6, 5, 3], [7, 3]],
    ...     batch_size=2, bucket=False)
    >>> inputs, target = next(iter(ds))
    >>> inputs["encoder_ids"].numpy().tolist()
    [[5, 6], [7, 0]]
    >>> target.numpy().tolist()
    [[6, 5, 3], [7, 3, 0]]
    """
    batch_size = check_int("batch_size", batch_size, 1)
    seed = check_int("seed", seed, 0)
    columns = {
        "source_ids": _as_ragged(source_ids, "source_ids"),
        "decoder_ids": _as_ragged(decoder_ids, "decoder_ids"),
        "target_ids": _as_ragged(target_ids, "target_ids"),
    }
    counts = {name: int(ids.nrows()) for name, ids in columns.items()}
    if len(set(counts.values())) > 1:
        raise ValueError(
            "Arguments `source_ids`, `decoder_ids` and `target_ids` must hold "
            f"the same number of examples. Received: {counts}"
        )
    size = counts["source_ids"]
    source_lengths = columns["source_ids"].row_lengths().numpy()
    boundaries = _bucket_boundaries(source_lengths) if bucket else []
    layout = _batch_layout(source_lengths, boundaries, batch_size)

    counter = None
    if shuffle and size > 1:
        # Pass k reads and bumps `counter`; its order is a stateless
        # permutation seeded by (seed, k).
        counter = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")

    def batches_of_one_pass(_):
        order = (tf.range(size, dtype=tf.int32) if counter is None
                 else _permutation(size, seed, counter))
        return tf.data.Dataset.from_tensor_slices(_batch_rows(order, layout))

    def gather(rows, count):
        rows = rows[:count]  # (B,)
        ids = [tf.gather(columns[name], rows).to_tensor(default_value=PAD)
               for name in ("source_ids", "decoder_ids", "target_ids")]
        return {"encoder_ids": ids[0], "decoder_ids": ids[1]}, ids[2]

    # One pass's batches are worked out at once, as example indices, so each
    # batch is one gather per column. Taking examples one at a time through
    # `bucket_by_sequence_length` cost 13-20 s of CPU per CMUdict epoch, on
    # the cores training runs on (benchmarks/input_pipeline.py).
    ds = tf.data.Dataset.from_tensors(0).flat_map(batches_of_one_pass)
    ds = ds.map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    # flat_map hides the number of batches from tf.data; it is the same
    # every epoch (bucket membership depends on lengths only), so state it:
    # Keras then knows the epoch length from the start.
    ds = ds.apply(tf.data.experimental.assert_cardinality(len(layout["starts"])))
    ds = ds.prefetch(tf.data.AUTOTUNE)
    ds._keras_seq_epoch = counter
    return ds


def set_epoch(dataset, epoch):
    """Make the next pass over a shuffled `make_dataset` use epoch `epoch`'s order.

    Datasets derived from it afterwards (`dataset.skip(n)`, ...) share the
    counter, so `set_epoch(ds, 3)` then iterating `ds.skip(10)` gives epoch
    3's batches from the 11th on. Unshuffled datasets have one order; for
    them this does nothing.

    Args:
        dataset: a dataset returned by `make_dataset`.
        epoch: int >= 0, counted from 0.
    """
    epoch = check_int("epoch", epoch, 0)
    if not hasattr(dataset, "_keras_seq_epoch"):
        raise ValueError(
            "Invalid value for argument `dataset`: expected a dataset made by "
            "keras_seq.data.make_dataset (or a task's train split). "
            f"Received: {type(dataset).__name__}"
        )
    if dataset._keras_seq_epoch is not None:
        dataset._keras_seq_epoch.assign(epoch)


def _permutation(size, seed, counter):
    """A permutation of [0, size) for pass `counter` (then bump it)."""
    epoch = counter.assign_add(1) - 1
    keys = tf.random.stateless_uniform(
        [size], seed=tf.stack([tf.constant(seed, tf.int64), epoch]))
    return tf.argsort(keys)


def _batch_layout(lengths, boundaries, batch_size):
    """Where each batch lies once a pass's examples are grouped by bucket.

    Example i belongs to bucket `searchsorted(boundaries, length_i, "right")`
    (as in `tf.data.Dataset.bucket_by_sequence_length`). Grouped by bucket,
    a pass's examples fill each bucket's batches of `batch_size` in arrival
    order. The sizes of the buckets, and so the batches' places, are the
    same every pass; only which examples fill them changes.

    Returns:
        A dict of NumPy arrays over the M batches: `starts` and `counts`
        (the batch's slice of the grouped examples), `full` (whether it
        holds `batch_size` examples) and `bucket`; and `buckets`, each
        example's bucket [N].
    """
    buckets = np.searchsorted(np.asarray(boundaries, dtype=np.int64),
                              np.asarray(lengths, dtype=np.int64), side="right")
    sizes = np.bincount(buckets, minlength=len(boundaries) + 1)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    starts, counts, bucket_of = [], [], []
    for bucket, (offset, n) in enumerate(zip(offsets, sizes)):
        for first in range(0, int(n), batch_size):
            starts.append(offset + first)
            counts.append(min(batch_size, int(n) - first))
            bucket_of.append(bucket)
    counts = np.asarray(counts, np.int32)
    return {
        "starts": np.asarray(starts, np.int32),
        "counts": counts,
        "full": counts == batch_size,
        "bucket": np.asarray(bucket_of, np.int32),
        "buckets": buckets.astype(np.int32),
    }


def _batch_rows(order, layout):
    """One pass's batches, in the order bucketing by arrival emits them.

    Examples arrive in `order` [N]; each goes to its bucket, and a bucket's
    batch is emitted when its last example arrives; the part-filled batches
    follow at the end of the pass, by bucket.

    Returns:
        `(rows, counts)`: example indices [M, W], W the largest batch (the
        first `counts[m]` of row m are batch m's, in arrival order) and
        counts [M].
    """
    # (N,) arrival positions grouped by bucket; stable, so each bucket's
    # examples keep their arrival order.
    grouped = tf.argsort(tf.gather(layout["buckets"], order), stable=True)
    last = tf.gather(grouped, layout["starts"] + layout["counts"] - 1)  # (M,)
    size = tf.shape(order, out_type=tf.int32)[0]
    emitted = tf.argsort(tf.where(layout["full"], last, size + layout["bucket"]))
    # Rows as wide as the largest batch (not `batch_size`, which may be huge).
    width = int(layout["counts"].max()) if layout["counts"].size else 1
    slots = layout["starts"][:, None] + np.arange(width, dtype=np.int32)
    slots = np.minimum(slots, layout["starts"][:, None] + layout["counts"][:, None] - 1)
    rows = tf.gather(order, tf.gather(grouped, slots))  # (M, W)
    return tf.gather(rows, emitted), tf.gather(layout["counts"], emitted)


def _bucket_boundaries(lengths):
    """Bucket boundaries for source lengths: [b0, b1, ...], increasing."""
    if lengths.size == 0:
        return []
    distinct = np.unique(lengths)
    if distinct.size > _MAX_BUCKETS:
        quantiles = np.linspace(0, 1, _MAX_BUCKETS + 1)[1:-1]
        distinct = np.unique(np.quantile(lengths, quantiles, method="higher"))
    # Bucket i holds lengths in [b_{i-1}, b_i); the smallest length needs
    # no boundary of its own.
    return [int(b) for b in distinct if b > lengths.min()]


def _as_ragged(ids, name):
    """Convert ids (lists, ragged or padded) to an int32 RaggedTensor [N, None]."""
    if isinstance(ids, tf.RaggedTensor):
        ragged = ids
    elif isinstance(ids, (list, tuple)) and all(
        isinstance(row, (list, tuple, np.ndarray)) for row in ids
    ):
        rows = [np.asarray(row, dtype=np.int64).reshape(-1) for row in ids]
        values = np.concatenate(rows) if rows else np.zeros([0], np.int64)
        ragged = tf.RaggedTensor.from_row_lengths(
            values, [len(row) for row in rows]
        )
    else:
        dense = tf.convert_to_tensor(ids)
        if dense.shape.rank != 2:
            raise ValueError(
                f"Invalid value for argument `{name}`. Expected a list of int "
                "sequences, a tf.RaggedTensor [N, None] or a padded int "
                f"array [N, S]. Received: {name}.shape={dense.shape}"
            )
        ragged = tf.RaggedTensor.from_tensor(dense, padding=PAD)
    if ragged.shape.rank != 2 or not ragged.dtype.is_integer:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected integer token ids "
            f"of rank 2 [N, None]. Received: {name} with shape "
            f"{ragged.shape} and dtype {ragged.dtype.name}"
        )
    return tf.cast(ragged, tf.int32)

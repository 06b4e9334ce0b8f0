"""make_dataset: structure, bucketing, seeded shuffling."""

import numpy as np
import pytest

import keras_seq.data
from keras_seq.constants import BOS, EOS


def mixed_examples(n=400, seed=0):
    """Sources of lengths 1..40 at random; targets = source + 1 token."""
    rng = np.random.default_rng(seed)
    sources = [list(rng.integers(4, 20, rng.integers(1, 41))) for _ in range(n)]
    decoder = [[BOS] + s for s in sources]
    target = [s + [EOS] for s in sources]
    return sources, decoder, target


def widths(dataset):
    return [int(x["encoder_ids"].shape[1]) for x, _ in dataset]


def test_structure_and_padding():
    ds = keras_seq.data.make_dataset(
        [[5, 6], [7]], np.array([[2, 6, 5], [2, 7, 0]]), [[6, 5, 3], [7, 3]],
        batch_size=2, bucket=False,
    )
    (inputs, target), = list(ds)
    assert inputs["encoder_ids"].dtype.name == "int32"
    assert inputs["encoder_ids"].numpy().tolist() == [[5, 6], [7, 0]]
    assert inputs["decoder_ids"].numpy().tolist() == [[2, 6, 5], [2, 7, 0]]
    assert target.numpy().tolist() == [[6, 5, 3], [7, 3, 0]]


def test_bucketing_groups_similar_lengths():
    examples = mixed_examples()
    plain = keras_seq.data.make_dataset(*examples, batch_size=16, bucket=False)
    bucketed = keras_seq.data.make_dataset(*examples, batch_size=16, shuffle=True)
    assert sum(len(x["encoder_ids"]) for x, _ in bucketed) == 400
    assert np.mean(widths(bucketed)) < 0.75 * np.mean(widths(plain))
    for x, _ in bucketed:  # rows in a batch have similar lengths
        lengths = (x["encoder_ids"].numpy() != 0).sum(axis=1)
        assert lengths.max() - lengths.min() <= 5


def test_shuffle_is_seeded():
    examples = mixed_examples(100)

    def first_column(seed):
        ds = keras_seq.data.make_dataset(
            *examples, batch_size=8, shuffle=True, seed=seed, bucket=False
        )
        return np.concatenate([x["encoder_ids"][:, 0].numpy() for x, _ in ds])

    assert (first_column(7) == first_column(7)).all()
    assert (first_column(7) != first_column(8)).any()
    unshuffled = keras_seq.data.make_dataset(*examples, batch_size=8, bucket=False)
    in_order = np.concatenate([x["encoder_ids"][:, 0].numpy() for x, _ in unshuffled])
    assert in_order.tolist() == [s[0] for s in examples[0]]


def test_errors():
    with pytest.raises(ValueError, match="same number of examples"):
        keras_seq.data.make_dataset([[4]], [[2, 4]], [[4, 3], [5, 3]], batch_size=2)
    with pytest.raises(ValueError, match="`batch_size`"):
        keras_seq.data.make_dataset([[4]], [[2, 4]], [[4, 3]], batch_size=0)
    with pytest.raises(ValueError, match="`source_ids`"):
        keras_seq.data.make_dataset(np.zeros([2, 2, 2]), [[2]], [[3]], batch_size=1)


def _first_column(dataset):
    return [row for x, _ in dataset for row in x["encoder_ids"].numpy()[:, 0].tolist()]


def test_shuffled_order_is_a_function_of_seed_and_epoch():
    from keras_seq.data import make_dataset, set_epoch

    sources = [[i + 4] for i in range(12)]
    targets = [[i + 4, 3] for i in range(12)]
    decoder = [[2, i + 4] for i in range(12)]

    def make(seed):
        return make_dataset(sources, decoder, targets, 4, shuffle=True, seed=seed,
                            bucket=False)

    ds = make(1)
    epochs = [_first_column(ds) for _ in range(3)]
    assert sorted(epochs[0]) == list(range(4, 16))
    assert len({tuple(e) for e in epochs}) == 3  # reshuffled each pass: three orders
    other = make(1)  # another process, same seed: same sequence of orders
    assert [_first_column(other) for _ in range(3)] == epochs
    set_epoch(other, 2)  # resume at epoch 3 ...
    assert _first_column(other) == epochs[2]
    set_epoch(other, 1)  # ... or at its 5th example via a derived dataset
    assert _first_column(other.skip(1)) == epochs[1][4:]
    assert _first_column(other) == epochs[2]  # the counter moved on
    assert _first_column(make(2)) != epochs[0]


def test_set_epoch_checks_its_arguments():
    import tensorflow as tf

    from keras_seq.data import make_dataset, set_epoch

    with pytest.raises(ValueError, match="make_dataset"):
        set_epoch(tf.data.Dataset.range(3), 0)
    ds = make_dataset([[4]], [[2, 4]], [[4, 3]], 1)
    with pytest.raises(ValueError, match="epoch"):
        set_epoch(ds, -1)
    set_epoch(ds, 5)  # unshuffled: a no-op
    assert _first_column(ds) == [4]


@pytest.mark.parametrize("n, batch_size, seed", [(1, 4, 0), (37, 4, 1), (400, 32, 2), (400, 7, 3)])
@pytest.mark.parametrize("bucket", [True, False])
def test_cardinality_is_the_number_of_batches_every_epoch(n, batch_size, seed, bucket):
    import tensorflow as tf

    from keras_seq.data import make_dataset

    sources, decoder, targets = mixed_examples(n, seed)
    ds = make_dataset(sources, decoder, targets, batch_size, shuffle=True,
                      seed=seed, bucket=bucket)
    stated = int(ds.cardinality())
    assert stated > 0
    for _ in range(2):  # the same count after a reshuffle
        assert sum(1 for _ in ds) == stated
    assert int(ds.skip(1).cardinality()) == stated - 1
    assert tf.data.experimental.cardinality(ds) != tf.data.UNKNOWN_CARDINALITY


def _bucketed_by_tf_data(examples, order, boundaries, batch_size):
    """The oracle: tf.data's own bucketing of the examples taken in `order`."""
    import tensorflow as tf

    columns = [tf.ragged.constant(column, dtype=tf.int32) for column in examples]
    ds = tf.data.Dataset.from_tensor_slices(order).map(
        lambda i: ({"encoder_ids": columns[0][i], "decoder_ids": columns[1][i]},
                   columns[2][i]))
    if boundaries:
        ds = ds.bucket_by_sequence_length(
            lambda x, y: tf.shape(x["encoder_ids"])[0], boundaries,
            [batch_size] * (len(boundaries) + 1), padding_values=0)
    else:
        ds = ds.padded_batch(batch_size, padding_values=0)
    return ds


def _batches(dataset):
    return [(x["encoder_ids"].numpy().tolist(), x["decoder_ids"].numpy().tolist(),
             y.numpy().tolist()) for x, y in dataset]


@pytest.mark.parametrize("n, batch_size, seed, longest", [
    (400, 16, 0, 41), (37, 4, 1, 41), (400, 7, 3, 41), (300, 32, 5, 6), (1, 4, 0, 5)])
@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("bucket", [True, False])
def test_batches_are_those_tf_data_bucketing_makes(n, batch_size, seed, longest,
                                                   shuffle, bucket):
    # make_dataset works out a pass's batches at once (one gather per batch);
    # they must be exactly tf.data's per-example bucketing of the same order:
    # the same rows, in the same batches, padded alike, in the same order.
    import tensorflow as tf

    from keras_seq.data.pipelines import _bucket_boundaries, _permutation

    rng = np.random.default_rng(seed)
    sources = [list(rng.integers(4, 20, rng.integers(1, longest))) for _ in range(n)]
    examples = (sources, [[BOS] + s for s in sources], [s + [EOS] for s in sources])
    ds = keras_seq.data.make_dataset(*examples, batch_size=batch_size,
                                     shuffle=shuffle, seed=seed, bucket=bucket)
    boundaries = (_bucket_boundaries(np.array([len(s) for s in sources]))
                  if bucket else [])
    if bucket and longest == 41:
        assert len(boundaries) > 1  # the case is really bucketed
    counter = tf.Variable(0, dtype=tf.int64)
    for epoch in range(3):
        order = (_permutation(n, seed, counter) if shuffle and n > 1
                 else tf.range(n, dtype=tf.int32))
        expected = _batches(_bucketed_by_tf_data(examples, order, boundaries, batch_size))
        assert _batches(ds) == expected, f"epoch {epoch}"


def test_a_batch_size_beyond_the_data_makes_one_batch():
    # Index rows are as wide as the largest batch, not `batch_size`.
    examples = mixed_examples(30)
    ds = keras_seq.data.make_dataset(*examples, batch_size=10**9, shuffle=True,
                                     bucket=False)
    (x, _), = list(ds)
    assert sorted(x["encoder_ids"][:, 0].numpy().tolist()) == sorted(
        s[0] for s in examples[0])

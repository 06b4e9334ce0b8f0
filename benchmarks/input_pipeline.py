"""Input pipeline cost: `make_dataset` against a per-example tf.data pipeline.

The baselines are the pipeline the TensorFlow guides describe for seq2seq
data: take the examples one at a time out of ragged columns (by index, as
`make_dataset` did before 2026-12-01, or as slices), then
`bucket_by_sequence_length`. Both make the same batches
(tests/data/test_pipelines.py checks it). On a machine with few cores the
pipeline shares them with training, so its cost shows up in training speed.

It prints (1) the seconds each pipeline takes to produce one epoch of
CMUdict batches on its own, and (2) training examples/s of `make demo`'s
model when it was written (bidirectional LSTM encoder, Bahdanau LSTM
decoder with input feeding, batch 128) fed by each, taking turns in one
process on one model, after a warm-up.

    python benchmarks/input_pipeline.py                # about 7 minutes on 2 cores
    python benchmarks/input_pipeline.py --batches 100 --rounds 2 --max-words 20000
"""

import argparse
import os
import platform
import statistics
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The baseline cannot state its length, so a `take` of it may look short to Keras.
warnings.filterwarnings("ignore", message=".*ran out of data")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_seq  # noqa: E402
from _fit_clock import FitClock  # noqa: E402
from keras_seq.data._build import split_columns  # noqa: E402
from keras_seq.data.pipelines import _bucket_boundaries  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--units", type=int, default=128)
parser.add_argument("--batch-size", type=int, default=128)
parser.add_argument("--batches", type=int, default=200, help="batches per timed round")
parser.add_argument("--rounds", type=int, default=3, help="timed rounds per pipeline")
parser.add_argument("--max-words", type=int, default=None, help="subsample CMUdict")
args = parser.parse_args()
keras.utils.set_random_seed(0)

task = keras_seq.data.cmudict(max_words=args.max_words, test_size=1000,
                              batch_size=args.batch_size)
source_ids, decoder_ids, target_ids = split_columns(
    "train", task.sources["train"], task.references["train"],
    task.source_tokenizer, task.target_tokenizer)
examples = int(source_ids.shape[0])


def per_example_pipeline(index_gather):
    """One example at a time, then tf.data's bucketing. `index_gather`: map
    shuffled indices to rows of the ragged columns (`make_dataset` before
    2026-12-01, which reshuffled each pass), or slice columns shuffled once
    beforehand (the cheapest per-example pipeline)."""
    order = np.random.default_rng(0).permutation(examples)
    columns = [tf.RaggedTensor.from_tensor(tf.gather(ids, order), padding=0)
               for ids in (source_ids, decoder_ids, target_ids)]
    boundaries = _bucket_boundaries(columns[0].row_lengths().numpy())
    if index_gather:
        ds = tf.data.Dataset.from_tensor_slices(np.arange(examples))
        ds = ds.map(lambda i: ({"encoder_ids": columns[0][i], "decoder_ids": columns[1][i]},
                               columns[2][i]),
                    num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    else:
        ds = tf.data.Dataset.from_tensor_slices(tuple(columns))
        ds = ds.map(lambda s, d, t: ({"encoder_ids": s, "decoder_ids": d}, t),
                    num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.bucket_by_sequence_length(
        lambda x, y: tf.shape(x["encoder_ids"])[0], boundaries,
        [args.batch_size] * (len(boundaries) + 1), padding_values=0)
    return ds.prefetch(tf.data.AUTOTUNE)


BASELINE = "per-example tf.data, index gather (make_dataset before; baseline)"
pipelines = {
    BASELINE: per_example_pipeline(index_gather=True),
    "per-example tf.data, column slices": per_example_pipeline(index_gather=False),
    "keras_seq make_dataset": keras_seq.data.make_dataset(
        source_ids, decoder_ids, target_ids, args.batch_size, shuffle=True),
}

# 1. Each pipeline alone: seconds per epoch (best of 2).
alone = {}
for name, ds in pipelines.items():
    times = []
    for _ in range(2):
        start = time.perf_counter()
        batches = sum(1 for _ in ds)
        times.append(time.perf_counter() - start)
    alone[name] = min(times)

# 2. Training fed by each, taking turns on one model.
model = keras_seq.models.rnn_seq2seq(
    task.source_tokenizer.vocab_size, task.target_tokenizer.vocab_size, cell="lstm",
    units=args.units, bidirectional=True, attention="bahdanau", dropout=0.1)
model.compile(keras.optimizers.Adam(1e-3, clipnorm=1.0),
              keras_seq.metrics.MaskedSparseCrossEntropy())


model.fit(pipelines["keras_seq make_dataset"].take(20), verbose=0, shuffle=False)  # traces the step
rates = {name: [] for name in pipelines}
for _ in range(args.rounds):
    for name, ds in pipelines.items():
        clock = FitClock(args.batch_size)
        model.fit(ds.take(args.batches + 1), verbose=0, shuffle=False, callbacks=[clock])
        rates[name].append(clock.rate)

print(f"{platform.machine()}, {os.cpu_count()} cores; CMUdict train split, "
      f"{examples} examples, {batches} batches of {args.batch_size}; model "
      f"LSTM {args.units} (bidirectional encoder, Bahdanau decoder); "
      f"{args.rounds} rounds of {args.batches} batches each, taking turns")
print("| pipeline | one epoch alone (s) | training examples/s (median) | ratio |")
print("|---|--:|--:|--:|")
base = statistics.median(rates[BASELINE])
for name in pipelines:
    rate = statistics.median(rates[name])
    print(f"| {name} | {alone[name]:.2f} | {rate:.0f} "
          f"({min(rates[name]):.0f}-{max(rates[name]):.0f}) | {rate / base:.2f} |")

"""Training throughput with and without XLA, side by side.

Keras' `compile(jit_compile="auto")` turns XLA on wherever a GPU is visible
and off on CPU-only machines. This script trains the same model both ways on
fixed-length synthetic batches and prints examples/s with XLA off as the
baseline and the ratio for XLA on.

    python benchmarks/train_throughput.py --model attention --units 256 --layers 2
"""

import argparse
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_seq  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--model", default="attention", choices=("rnn", "attention", "transformer"))
parser.add_argument("--units", type=int, default=256)
parser.add_argument("--layers", type=int, default=2)
parser.add_argument("--batch-size", type=int, default=128)
parser.add_argument("--length", type=int, default=12, help="source and target length")
parser.add_argument("--batches", type=int, default=40, help="timed batches per mode")
parser.add_argument("--policy", default="float32", choices=("float32", "mixed_float16"))
args = parser.parse_args()
keras.mixed_precision.set_global_policy(args.policy)
VOCAB = 40


def build():
    keras.utils.set_random_seed(0)
    if args.model == "transformer":
        return keras_seq.models.transformer_seq2seq(
            VOCAB, VOCAB, num_layers=args.layers, dim=args.units, num_heads=4,
            ff_dim=4 * args.units, max_length=args.length + 1)
    return keras_seq.models.rnn_seq2seq(
        VOCAB, VOCAB, cell="lstm", units=args.units, num_layers=args.layers,
        bidirectional=True, dropout=0.3,
        attention="bahdanau" if args.model == "attention" else None)


rng = np.random.default_rng(0)
n = args.batch_size * args.batches
x = {"encoder_ids": rng.integers(4, VOCAB, (n, args.length)).astype("int32"),
     "decoder_ids": rng.integers(4, VOCAB, (n, args.length)).astype("int32")}
y = rng.integers(4, VOCAB, (n, args.length)).astype("int32")

rows = []
for jit in (False, True):
    model = build()
    model.compile(keras.optimizers.Adam(1e-3, clipnorm=1.0),
                  keras_seq.metrics.MaskedSparseCrossEntropy(), jit_compile=jit)
    model.fit(x, y, batch_size=args.batch_size, epochs=1, verbose=0)  # trace, compile
    start = time.perf_counter()
    history = model.fit(x, y, batch_size=args.batch_size, epochs=1, verbose=0)
    seconds = time.perf_counter() - start
    rows.append(("XLA" if jit else "graph (baseline)", n / seconds,
                 history.history["loss"][-1]))

base = rows[0][1]
print(f"\n{args.model} {args.units}x{args.layers}, batch {args.batch_size}, "
      f"length {args.length}, {args.policy}, {n} examples timed per mode")
print("| mode | examples/s | ratio | last loss |\n|---|--:|--:|--:|")
for mode, speed, loss in rows:
    print(f"| {mode} | {speed:.0f} | {speed / base:.2f} | {loss:.4f} |")
gpus = tf.config.list_physical_devices("GPU")
print(f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
      f"{len(gpus)} GPU(s)")

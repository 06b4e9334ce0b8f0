"""How close a LiteRT decoding step runs to this CPU's matmul speed.

Issue 15 part 4 asks LiteRT for batch-32 tokens/s >= 4x batch-1 tokens/s.
A step's work is mostly matmuls over its rows (1 or 4 per source: greedy
or beam 4), so batch 32 can be at most (this core's matmul rate) / (the
rate batch 1 already reaches) times faster per token. This script measures
both rates with 1 LiteRT thread and prints that bound next to the gain
measured:

- the matmul rate: a `.tflite` of one `FULLY_CONNECTED` `(rows, K) x (K, N)`
  shaped like the decoder's largest matmul (its LSTM gates), at 1, 4, 32
  and 128 rows (a step's rows: batch x beams);
- each decode: `generate` of an untrained model (EOS forbidden, so every
  row runs `--steps` steps), its multiply-adds counted from the decoder's
  weights (every kernel a step multiplies by, once per row, plus
  attention's reads of the memory).

    python benchmarks/litert_roofline.py --family attention
"""

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # _decode_task

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from ai_edge_litert.interpreter import Interpreter  # noqa: E402

import keras_seq  # noqa: E402

from _decode_task import forbid_eos  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--family", default="attention", choices=("rnn", "attention"))
parser.add_argument("--units", type=int, default=256, help="decode_latency's RNNs: 256")
parser.add_argument("--steps", type=int, default=20)
parser.add_argument("--source-length", type=int, default=16)
parser.add_argument("--rounds", type=int, default=5)
args = parser.parse_args()
V = 64


def best_seconds(run, rounds=args.rounds, calls=10):
    run()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            run()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def matmul_rate(rows, k, n, folder):
    """Multiply-adds per second of one (rows, k) x (k, n) FULLY_CONNECTED."""
    weights = tf.constant(np.random.default_rng(0).normal(size=(k, n)).astype("float32"))
    fn = tf.function(lambda x: tf.matmul(x, weights),
                     input_signature=[tf.TensorSpec((rows, k), tf.float32)])
    converter = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()], fn)
    path = os.path.join(folder, "fc.tflite")
    with open(path, "wb") as f:
        f.write(converter.convert())
    interpreter = Interpreter(path, num_threads=1)
    interpreter.allocate_tensors()
    index = interpreter.get_input_details()[0]["index"]
    interpreter.set_tensor(index, np.ones((rows, k), "float32"))
    return rows * k * n / best_seconds(interpreter.invoke)


def step_macs(model):
    """Multiply-adds per row per decoder step: every 2-D kernel once, plus
    attention's reads over the memory (scores and context)."""
    macs = sum(int(np.prod(v.shape)) for v in model.decoder.trainable_variables
               if len(v.shape) == 2 and "embedding" not in v.path)
    if args.family == "attention":
        macs += 2 * args.source_length * args.units
    return macs


keras.utils.set_random_seed(0)
model = keras_seq.models.rnn_seq2seq(
    V, V, cell="lstm", units=args.units, bidirectional=True,
    attention="bahdanau" if args.family == "attention" else None)
model({"encoder_ids": np.ones((1, 3), "int32"), "decoder_ids": np.ones((1, 2), "int32")})
forbid_eos(model)
macs = step_macs(model)
rng = np.random.default_rng(0)

with tempfile.TemporaryDirectory() as folder:
    gate_in = model.decoder.cells[0].kernel.shape[0]
    peak = {rows: matmul_rate(rows, gate_in, 4 * args.units, folder) for rows in (1, 4, 32, 128)}
    print(f"{args.family}, LSTM {args.units}, {args.steps} steps, source length "
          f"{args.source_length}, LiteRT 1 thread: {macs / 1e6:.2f} M multiply-adds per row "
          f"per step. FULLY_CONNECTED (rows, {gate_in}) x ({gate_in}, {4 * args.units}), "
          "GFLOP/s: " + ", ".join(f"{r} rows {2 * p / 1e9:.1f}" for r, p in peak.items()))
    print("| strategy | batch | rows | ms/step | GFLOP/s | of the matmul rate at these rows | "
          "gain measured | gain bound |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|")
    for strategy, beams in (("greedy", 1), ("beam", 4)):
        path = os.path.join(folder, f"{strategy}.tflite")
        keras_seq.export.export_tflite(model, path, strategy=strategy, max_length=args.steps)
        runner = Interpreter(path, num_threads=1).get_signature_runner("generate")
        rates = {}
        for batch in (1, 32):
            ids = rng.integers(4, V, (batch, args.source_length)).astype("int32")
            per_step = best_seconds(lambda: runner(encoder_ids=ids)) / args.steps
            rows = batch * beams
            rates[batch] = rows * macs / per_step  # multiply-adds per second
            gain = (rates[32] / rates[1]) if batch == 32 else None
            # batch 32 can at best run its rows at the matmul rate for that many rows
            print(f"| {strategy} | {batch} | {rows} | {per_step * 1e3:.3f} | "
                  f"{2 * rates[batch] / 1e9:.1f} | {rates[batch] / peak[rows]:.0%} | "
                  + (f"{gain:.2f}x | {peak[rows] / rates[1]:.2f}x |" if gain else "| |"))

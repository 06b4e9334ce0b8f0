"""What an exported Ensemble costs beyond its members, on LiteRT.

Exports one model and an `Ensemble` of `--members` models of the same
architecture to builtins-only `.tflite` files and times `generate` on LiteRT
(1 thread) at batch 1 and 32, greedy and beam 4. Models are untrained with
their EOS logit at -1e4, so every row runs exactly `--steps` steps and the
work is the same in every call. `overhead` is the ensemble's time over
`--members` times the single model's: 1.00 means the ensemble costs exactly
its members. Calls take turns, so load from other processes hits both alike;
each cell is the best of `--rounds` rounds.

    python benchmarks/ensemble_overhead.py --family attention --members 3
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
from ai_edge_litert.interpreter import Interpreter  # noqa: E402

import keras_seq  # noqa: E402

from _decode_task import forbid_eos  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--family", default="attention", choices=("rnn", "attention", "transformer"))
parser.add_argument("--members", type=int, default=3)
parser.add_argument("--units", type=int, default=128, help="G2P's ensemble members: 128")
parser.add_argument("--steps", type=int, default=12, help="output length (G2P: ~7 phones)")
parser.add_argument("--source-length", type=int, default=9)
parser.add_argument("--rounds", type=int, default=5)
parser.add_argument("--calls", type=int, default=20, help="timed calls per cell and round")
parser.add_argument("--keep", default=None, metavar="DIR",
                    help="write the .tflite files to DIR (kept) instead of a temporary folder, "
                         "e.g. to time two revisions' files side by side in one process")
args = parser.parse_args()
SOURCE_VOCAB, TARGET_VOCAB = 32, 45  # G2P's letters and phones


def member(seed):
    keras.utils.set_random_seed(seed)
    if args.family == "transformer":
        model = keras_seq.models.transformer_seq2seq(
            SOURCE_VOCAB, TARGET_VOCAB, num_layers=3, dim=args.units, num_heads=4,
            ff_dim=4 * args.units, max_length=40)
    else:
        model = keras_seq.models.rnn_seq2seq(
            SOURCE_VOCAB, TARGET_VOCAB, cell="lstm", units=args.units, num_layers=1,
            bidirectional=True, attention="bahdanau" if args.family == "attention" else None)
    model({"encoder_ids": np.ones((1, 3), "int32"), "decoder_ids": np.ones((1, 2), "int32")})
    return forbid_eos(model)


def runner(model, strategy, folder, name):
    path = os.path.join(folder, f"{name}-{strategy}.tflite")
    keras_seq.export.export_tflite(model, path, strategy=strategy, max_length=args.steps)
    return Interpreter(path, num_threads=1).get_signature_runner("generate")


members = [member(seed) for seed in range(args.members)]
systems = {"single": members[0], "ensemble": keras_seq.models.Ensemble(members)}
rng = np.random.default_rng(0)
batches = {b: rng.integers(4, SOURCE_VOCAB, (b, args.source_length)).astype("int32")
           for b in (1, 32)}
print(f"{args.family}, {args.members} members of {args.units} units, {args.steps} steps, "
      f"source length {args.source_length}, LiteRT 1 thread; best of {args.rounds} rounds "
      f"of {args.calls} calls")
print("| strategy | batch | single ms | ensemble ms | overhead |")
print("|---|--:|--:|--:|--:|")
with tempfile.TemporaryDirectory() as scratch:
    folder = args.keep or scratch
    os.makedirs(folder, exist_ok=True)
    for strategy in ("greedy", "beam"):
        runners = {name: runner(model, strategy, folder, name) for name, model in systems.items()}
        for batch, ids in batches.items():
            outputs = {name: run(encoder_ids=ids) for name, run in runners.items()}
            for name, out in outputs.items():  # the work is what it should be
                assert out["ids"].shape[1] >= args.steps - 1, (name, out["ids"].shape)
            best = {name: float("inf") for name in runners}
            for _ in range(args.rounds):
                for name, run in runners.items():
                    start = time.perf_counter()
                    for _ in range(args.calls):
                        run(encoder_ids=ids)
                    best[name] = min(best[name], (time.perf_counter() - start) / args.calls)
            overhead = best["ensemble"] / (args.members * best["single"])
            print(f"| {strategy} | {batch} | {best['single'] * 1e3:.2f} | "
                  f"{best['ensemble'] * 1e3:.2f} | {overhead:.2f} |")

"""Operators per decoding step of a LiteRT export, this tree against a revision.

A timing on a shared 2-core machine moves by +-20% from run to run; the
operators a WHILE body runs per step do not. This script exports the same
untrained models (decode_latency.py's sizes and seeds) with the package of a
baseline git revision and with this tree's, each in its own process, and
prints every subgraph's operator count side by side, with the operators
that differ. Equal counts in the loop bodies mean no step does more work.

    python benchmarks/loop_op_counts.py --baseline 1db62dc
    python benchmarks/loop_op_counts.py --baseline 1db62dc --families rnn,transformer
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

from compare_revisions import unpack  # noqa: E402

VOCAB = 24


def build(family):
    import keras_seq

    if family == "transformer":
        return keras_seq.models.transformer_seq2seq(VOCAB, VOCAB, num_layers=2, dim=64,
                                                    num_heads=4, ff_dim=128, max_length=64)
    attention = {"rnn": None, "luong": "luong", "bahdanau": "bahdanau"}[family]
    return keras_seq.models.rnn_seq2seq(VOCAB, VOCAB, units=64, attention=attention)


def count_here(families, out_path):
    """In this process: {family/method: {subgraph: {operator: count}}}."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    import keras_seq

    names = {v: k for k, v in vars(schema.BuiltinOperator).items()
             if not k.startswith("_") and isinstance(v, int)}
    counts = {}
    with tempfile.TemporaryDirectory() as tmp:
        for family in families:
            keras.utils.set_random_seed(0)
            model = build(family)
            for method in ("greedy", "beam"):
                strategy = keras_seq.decoding.Beam(size=4) if method == "beam" else "greedy"
                path = os.path.join(tmp, f"{family}_{method}.tflite")
                keras_seq.export.export_tflite(model, path, strategy=strategy)
                with open(path, "rb") as f:
                    flat = flatbuffer_utils.convert_bytearray_to_object(bytearray(f.read()))
                graphs = {}
                for i, subgraph in enumerate(flat.subgraphs):
                    name = subgraph.name.decode() if subgraph.name else f"subgraph_{i}"
                    ops = collections.Counter()
                    for op in subgraph.operators or []:
                        code = flat.operatorCodes[op.opcodeIndex]
                        ops[names.get(max(code.builtinCode, code.deprecatedBuiltinCode))] += 1
                    graphs[name] = dict(ops)
                counts[f"{family}/{method}"] = graphs
    with open(out_path, "w") as f:
        json.dump({"keras_seq": os.path.dirname(keras_seq.__file__), "counts": counts}, f)


def run_in(package_root, families, out_path):
    env = dict(os.environ, PYTHONPATH=package_root, TF_CPP_MIN_LOG_LEVEL="2")
    subprocess.run([sys.executable, os.path.abspath(__file__), "--count-here", out_path,
                    "--families", ",".join(families)], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    with open(out_path) as f:
        result = json.load(f)
    expected = os.path.join(os.path.realpath(package_root), "keras_seq")
    if os.path.realpath(result["keras_seq"]) != expected:
        raise SystemExit(f"the run imported {result['keras_seq']}, not {expected}")
    return result["counts"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="a git revision, e.g. 1db62dc")
    parser.add_argument("--families", default="rnn,luong,bahdanau,transformer")
    parser.add_argument("--count-here", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    families = [f for f in args.families.split(",") if f]
    if args.count_here:
        return count_here(families, args.count_here)
    if not args.baseline:
        parser.error("--baseline is required")
    with tempfile.TemporaryDirectory() as tmp:
        base_root = os.path.join(tmp, "baseline")
        os.makedirs(base_root)
        unpack(args.baseline, base_root)
        before = run_in(base_root, families, os.path.join(tmp, "before.json"))
        after = run_in(ROOT, families, os.path.join(tmp, "after.json"))
    print(f"\nLiteRT operators per subgraph; baseline {args.baseline}\n")
    print("| model | subgraph | baseline ops | current ops | difference |")
    print("|---|---|--:|--:|---|")
    for key in before:
        # Paired in order: the loop bodies' names carry counters that differ
        # between trees.
        for (_, a), (name, b) in zip(before[key].items(), after[key].items()):
            diff = {op: b.get(op, 0) - a.get(op, 0) for op in set(a) | set(b)
                    if b.get(op, 0) != a.get(op, 0)}
            text = ", ".join(f"{op} {n:+d}" for op, n in sorted(diff.items())) or "same"
            print(f"| {key} | {name} | {sum(a.values())} | {sum(b.values())} | {text} |")
        if len(before[key]) != len(after[key]):
            print(f"| {key} | (subgraph count) | {len(before[key])} | {len(after[key])} | |")


if __name__ == "__main__":
    main()

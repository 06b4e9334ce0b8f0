"""Decode latency of every model family: `generate`, SavedModel and LiteRT.

For each family (plain LSTM, Bahdanau LSTM, Luong GRU, Transformer) the
script trains a small model briefly on a reverse task (so that it emits EOS
where a real model would), then decodes the same sources greedily and with
beam search (4 beams) through:

    generate     `model.generate` (the compiled `tf.function`)
    savedmodel   the `generate_ids` signature of the reloaded SavedModel
    litert       the `generate` signature of the float `.tflite`
    litert-dyn   the same, dynamic-range quantized (int8 weights)

at batch 1 (each source at its own length) and batch 32 (consecutive sources
padded to the longest of the batch), and prints sentences per second with
the ratio to `generate` at the same batch size. A second table times the
Transformer per generated token at fixed output lengths (EOS suppressed) to
show that the key/value cache keeps each step's cost flat.

    python benchmarks/decode_latency.py --quick            # smoke run
    python benchmarks/decode_latency.py --write docs/benchmarks.md
    python benchmarks/decode_latency.py --quick --controls  # with decoding controls

Exports go to a temporary directory, never into the repository. The tables
are formatted by `decode_latency_report.py` (no TensorFlow; tested alone);
the task, the families and the timing loop are `_decode_task.py`'s.
"""

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # _decode_task, report

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from ai_edge_litert.interpreter import Interpreter  # noqa: E402

import keras_seq  # noqa: E402

from _decode_task import (  # noqa: E402
    BATCH_SIZES,
    BEAM_SIZE,
    FAMILIES,
    MAX_LENGTH,
    MIN_LENGTH,
    VOCAB,
    forbid_eos,
    make_batches,
    quality,
    reverse_task,
    time_runtimes,
    train,
)
from decode_latency_report import report, results_markdown, write_report  # noqa: E402

RUNTIMES = ("generate", "savedmodel", "litert", "litert-dyn")
CACHE_LENGTHS = (8, 16, 32, 64)  # output lengths; the cache holds 64

# `--controls`: a typical set of decoding controls, the same in every runtime.
CONTROLS = dict(min_length=1, max_length_a=2.0, max_length_b=10, no_repeat_ngram_size=4,
                repetition_penalty=1.1)


def runners(model, method, workdir, threads, controls=None):
    """One callable per runtime: int32 (B, S) array -> (ids, lengths) arrays."""
    strategy = keras_seq.decoding.Beam(size=BEAM_SIZE) if method == "beam" else "greedy"
    options = dict(strategy=strategy, **(controls or {}))
    saved_path = os.path.join(workdir, f"saved_{method}")
    keras_seq.export.export_saved_model(model, saved_path, **options)
    signature = tf.saved_model.load(saved_path).signatures["generate_ids"]

    def from_tf(out):
        return out["ids"].numpy(), out["lengths"].numpy()

    def litert(quantization):
        path = os.path.join(workdir, f"{method}_{quantization}.tflite")
        keras_seq.export.export_tflite(model, path, quantization=quantization,
                                       overwrite=True, **options)
        runner = Interpreter(path, num_threads=threads).get_signature_runner("generate")

        def run(ids):
            out = runner(encoder_ids=ids)
            return out["ids"], out["lengths"]

        return run

    return {
        "generate": lambda ids: from_tf(model.generate(ids, **options)),
        "savedmodel": lambda ids: from_tf(signature(encoder_ids=tf.constant(ids))),
        "litert": litert(None),
        "litert-dyn": litert("dynamic"),
    }


def bench_family(name, model, source, lengths, workdir, threads, controls=None):
    """Rows of (family, method, runtime, {batch: (sent/s, ratio, agree, tokens)})."""
    rows = []
    for method in ("greedy", "beam"):
        run = runners(model, method, os.path.join(workdir, name), threads, controls)
        results = {runtime: {} for runtime in RUNTIMES}
        for batch_size in BATCH_SIZES:
            speed, outputs = time_runtimes(run, make_batches(source, lengths, batch_size))
            reference = outputs["generate"]
            for runtime in RUNTIMES:
                agree = np.mean([a == b for a, b in zip(outputs[runtime], reference)])
                ratio = speed[runtime] / speed["generate"]
                tokens = sum(len(ids) for ids in outputs[runtime])
                results[runtime][batch_size] = (speed[runtime], ratio, agree, tokens)
        rows.extend((name, method, runtime, results[runtime]) for runtime in RUNTIMES)
    return rows


def cache_table(source, repeats):
    """Best-of-`repeats` ms per call of an untrained Transformer that never ends."""
    model = FAMILIES["transformer"][0]()
    model.build()
    forbid_eos(model)
    rows = []
    for max_length in CACHE_LENGTHS:
        row = [max_length]
        for batch_size in BATCH_SIZES:
            ids = np.ascontiguousarray(source[:batch_size])
            out = model.generate(ids, max_length=max_length)  # warm-up (traces)
            assert int(out["lengths"].numpy().min()) == max_length
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                model.generate(ids, max_length=max_length)["ids"].numpy()
                times.append(1000 * (time.perf_counter() - start))
            row.append(min(times))
        rows.append(row)
    return rows


def machine_markdown(threads):
    def first(path, key):
        with open(path) as f:
            return next((l.split(":", 1)[1].strip() for l in f if l.startswith(key)), "?")

    ram = int(first("/proc/meminfo", "MemTotal").split()[0]) / 2**20
    version = importlib.metadata.version
    return "\n".join(
        [
            f"- CPU: {first('/proc/cpuinfo', 'model name')}, {os.cpu_count()} cores, "
            f"{ram:.0f} GiB RAM, load average {os.getloadavg()[0]:.1f} at the start",
            f"- Python {platform.python_version()}, TensorFlow {tf.__version__}, "
            f"Keras {keras.__version__}, ai-edge-litert {version('ai-edge-litert')} "
            f"(num_threads={threads})",
            f"- Date: {datetime.date.today().isoformat()}",
            f"- Command: `python {' '.join(sys.argv)}`",
        ]
    )


def write_rows_json(path, rows):
    """The sentences/s rows, the tokens decoded, and which keras_seq ran."""
    cells = [{"family": family, "method": method, "runtime": runtime, "batch": batch,
              "sentences_per_s": speed, "agree": agree, "tokens": tokens}
             for family, method, runtime, results in rows
             for batch, (speed, _, agree, tokens) in results.items()]
    with open(path, "w") as f:
        json.dump({"keras_seq": os.path.dirname(keras_seq.__file__), "cells": cells}, f)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default=",".join(FAMILIES), help="comma-separated")
    parser.add_argument("--sources", type=int, default=256, help="sources to decode")
    parser.add_argument("--quick", action="store_true", help="32 sources, 1 epoch")
    parser.add_argument("--threads", type=int, default=1, help="LiteRT num_threads")
    parser.add_argument("--write", metavar="PATH", help="also write the report here")
    parser.add_argument("--controls", action="store_true",
                        help=f"decode with the controls {CONTROLS} in every runtime")
    parser.add_argument("--json", metavar="PATH",
                        help="write the sentences/s rows as JSON and stop (no cache "
                             "table, no report; what compare_revisions.py reads)")
    args = parser.parse_args(argv)
    families = [f.strip() for f in args.families.split(",") if f.strip()]
    unknown = sorted(set(families) - set(FAMILIES))
    if unknown or not families or args.sources < 1:
        parser.exit(
            2,
            f"Invalid value for --families or --sources. Expected families from "
            f"{{{', '.join(FAMILIES)}}} and sources >= 1. Received: "
            f"--families={args.families} --sources={args.sources}\n",
        )
    n = 32 if args.quick else args.sources
    epochs = 1 if args.quick else None
    machine = machine_markdown(args.threads)  # the load average before we add ours
    source, _, _, lengths = reverse_task(n, seed=1)
    started = time.perf_counter()

    # 1. Train each family briefly, check its outputs, time its runtimes.
    rows = []
    quality_lines = [
        "| family | train s | final loss | exact | mean length | length error |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    with tempfile.TemporaryDirectory() as workdir:
        for name in families:
            model, seconds, loss = train(name, epochs)
            exact, error, mean_length = quality(model, source, lengths)
            quality_lines.append(
                f"| {name} | {seconds:.0f} | {loss:.3f} | {exact:.0%} "
                f"| {mean_length:.1f} | {error:.2f} |"
            )
            print(quality_lines[-1], flush=True)
            rows += bench_family(name, model, source, lengths, workdir, args.threads,
                                 CONTROLS if args.controls else None)
            print(results_markdown(rows[-2 * len(RUNTIMES) :], BATCH_SIZES), flush=True)

    if args.json:
        write_rows_json(args.json, rows)
        return  # the rows are what a comparison reads

    # 2. The Transformer's cost per token at fixed output lengths.
    cache_rows = []
    if "transformer" in families:
        cache_rows = cache_table(source, repeats=2 if args.quick else 7)

    # 3. The report.
    minutes = (time.perf_counter() - started) / 60
    text = report(n, machine, quality_lines, rows, cache_rows, minutes,
                  load=os.getloadavg()[0], lengths=(MIN_LENGTH, MAX_LENGTH),
                  vocab=VOCAB, batch_sizes=BATCH_SIZES, litert=RUNTIMES[2:])
    print("\n" + text)
    if args.write:
        write_report(args.write, text)


if __name__ == "__main__":
    main()

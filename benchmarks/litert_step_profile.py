"""Where a LiteRT decoding step spends its time, at batch 1 and batch 32.

The LiteRT Python interpreter has no per-op profiler, so the step is cut
into components by timing probe graphs, each a `.tflite` of its own, at
batch 1 and batch 32 (beam search: 4 and 128 hypothesis rows):

    generate      the exported `generate` signature (encode + the loop)
    encode        the exported `encode` signature, once per call
    decode_step   the exported `decode_step` signature alone (top level,
                  outside any WHILE: what an app-driven loop pays)
    loop bare     the strategy's loop with a trivial step function and no
                  state: argmax/top-k, log-softmax, the id buffer writes
    state carry   the same loop carrying zeros shaped like the decoder's
                  state, with one ADD pass over them per step (beam search
                  also gathers them every step), minus `loop bare`
    decoder step  what is left: generate - encode - loop - state carry

Models are untrained and EOS is never chosen (its output bias is -1e4), so
every row runs exactly `--steps` steps and each component is reported in
ms per step (encode: its time / steps). `ratio` is the batch-32 time over
the batch-1 time: 1 means the batch comes for free, 32 that nothing is
amortised; `gain` is batch-32 tokens/s over batch-1 tokens/s (issue 15's
goal: >= 4).

The probes and timing helpers are in `_litert_probes.py`.

`--variants` exports the same model under prototype changes
(`_step_variants.py`: ablations that drop a piece of the Transformer step,
and candidate fixes, some of which patch `keras_seq.decoding` for the
measurement only) and times them in turn in one process; the first variant
is the reference of the speed-ups and of the `same ids` check.
`--trained N` instead trains each family as decode_latency.py does and
times the variants' `generate` on N reverse-task sources (sentences/s, as
decode_latency.py reports). `--checks` times re-allocation (inputs of
alternating width) and `num_threads=2`. Variants take turns call by call,
so load from other processes hits them alike; each cell is the best of
`--rounds` rounds.

    python benchmarks/litert_step_profile.py --families transformer
    python benchmarks/litert_step_profile.py --families transformer \
        --variants base,no-cache-write,no-attention,cache-20
    python benchmarks/litert_step_profile.py --families bahdanau,luong \
        --trained 256 --variants keys-every-step,base
"""

import argparse
import os
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # _decode_task

import numpy as np  # noqa: E402
from ai_edge_litert.interpreter import Interpreter  # noqa: E402

import keras_seq  # noqa: E402

from _decode_task import (  # noqa: E402
    BATCH_SIZES,
    BEAM_SIZE,
    FAMILIES,
    VOCAB,
    make_batches,
    reverse_task,
    time_runtimes,
    train,
)
from _litert_probes import (  # noqa: E402
    SOURCE_LENGTH,
    Timer,
    loop_probe,
    never_ending,
    runner_call,
    strategy_of,
)
from _step_variants import VARIANTS  # noqa: E402

def build(name, method, steps, workdir, threads, variant, probes):
    """{(component, batch): (call, reps)} and the generate outputs per batch."""
    model = never_ending(name)
    path = os.path.join(workdir, f"{name}_{method}_{variant}.tflite")
    with VARIANTS[variant]():
        keras_seq.export.export_tflite(model, path, strategy=strategy_of(method),
                                       max_length=steps, overwrite=True)
    files = {}
    if probes:
        for component, with_state in (("loop bare", False), ("loop + state", True)):
            files[component] = loop_probe(
                model, method, steps, with_state,
                os.path.join(workdir, f"{name}_{method}_{with_state}.tflite"))
    rng = np.random.default_rng(0)
    sources = rng.integers(4, VOCAB, (32, SOURCE_LENGTH)).astype("int32")
    rows_per_item = BEAM_SIZE if method == "beam" else 1
    calls, outputs = {}, {}
    for batch in BATCH_SIZES:
        ids = np.ascontiguousarray(sources[:batch])
        reps = 20 if batch == 1 else 3
        call, runner = runner_call(path, "generate", {"encoder_ids": ids}, threads)
        out = runner(encoder_ids=ids)
        assert out["lengths"].min() == steps, out["lengths"]
        outputs[batch] = out["ids"]
        calls[("generate", batch)] = (call, reps)
        for component, probe in files.items():
            calls[(component, batch)] = (
                runner_call(probe, "probe", {"encoder_ids": ids}, threads)[0], reps)
        # encode and decode_step at the loop's row count (B * K for beams).
        rows = np.repeat(ids, rows_per_item, axis=0)
        call, _ = runner_call(path, "encode", {"encoder_ids": ids}, threads)
        calls[("encode", batch)] = (call, reps * 4)
        _, encode = runner_call(path, "encode", {"encoder_ids": rows}, threads)
        inputs = dict(encode(encoder_ids=rows))
        inputs["ids"] = np.full((len(rows),), 2, "int32")
        calls[("decode_step", batch)] = (
            runner_call(path, "decode_step", inputs, threads)[0], reps * 10)
    return calls, outputs


def profile(name, method, steps, workdir, threads, rounds, variants):
    """{variant: rows (component, ms/step at batch 1, at batch 32)}, and
    {variant: True when its generate ids equal base's at both batches}."""
    timer, same, base = Timer(), {}, None
    for variant in variants:
        calls, outputs = build(name, method, steps, workdir, threads, variant,
                               probes=variant == variants[0])
        for (component, batch), (call, reps) in calls.items():
            timer.add((variant, component, batch), call, reps)
        base = base or outputs
        same[variant] = all(np.array_equal(base[b], outputs[b]) for b in BATCH_SIZES)
    ms = timer.run(rounds)
    tables = {}
    for variant in variants:
        per_step = {}
        for batch in BATCH_SIZES:
            def get(component, scale=1.0 / steps):
                return ms.get((variant, component, batch), ms.get(
                    (variants[0], component, batch))) * scale
            per_step[("generate", batch)] = get("generate")
            per_step[("encode", batch)] = get("encode")
            per_step[("decode_step", batch)] = get("decode_step", 1.0)
            per_step[("loop bare", batch)] = get("loop bare")
            per_step[("state carry", batch)] = get("loop + state") - get("loop bare")
            per_step[("decoder step", batch)] = (
                get("generate") - get("encode") - get("loop + state"))
        order = ("generate", "encode", "loop bare", "state carry", "decoder step",
                 "decode_step")
        tables[variant] = [(c, per_step[(c, 1)], per_step[(c, 32)]) for c in order]
    return tables, same


def table(name, method, rows, steps):
    lines = [
        f"\n{name} {method} ({steps} steps; ms/step; beam rows = 4 x batch)",
        "| component | batch 1 | batch 32 | ratio |",
        "|---|--:|--:|--:|",
    ]
    for component, one, many in rows:
        ratio = many / one if one > 0 else float("nan")
        lines.append(f"| {component} | {one:.3f} | {many:.3f} | {ratio:.1f} |")
    generate = rows[0]
    lines.append(f"tokens/s: batch 1 {1000 / generate[1]:.0f}, batch 32 "
                 f"{32000 / generate[2]:.0f}, gain {32 * generate[1] / generate[2]:.2f}x")
    return "\n".join(lines)


def compare(name, method, tables, same):
    """generate ms/step of each variant, and its speed-up over the first."""
    base = tables[next(iter(tables))][0]
    lines = [
        f"\n{name} {method}: generate per variant (ms/step; speed-up vs "
        f"{next(iter(tables))}; gain = batch-32 tokens/s over batch-1 tokens/s)",
        "| variant | batch 1 | x | batch 32 | x | gain | same ids |",
        "|---|--:|--:|--:|--:|--:|---|",
    ]
    for variant, rows in tables.items():
        _, one, many = rows[0]
        lines.append(f"| {variant} | {one:.3f} | {base[1] / one:.2f} | {many:.3f} "
                     f"| {base[2] / many:.2f} | {32 * one / many:.2f}x "
                     f"| {'yes' if same[variant] else 'NO'} |")
    return "\n".join(lines)


def interpreter_checks(name, steps, workdir, rounds):
    """greedy generate at batch 1 and 32: the same input again, inputs of
    alternating width (resize + AllocateTensors every call), 2 threads."""
    path = os.path.join(workdir, f"{name}_checks.tflite")
    keras_seq.export.export_tflite(never_ending(name), path, max_length=steps,
                                   overwrite=True)
    rng = np.random.default_rng(0)
    sources = rng.integers(4, VOCAB, (32, SOURCE_LENGTH)).astype("int32")
    runners = {threads: Interpreter(path, num_threads=threads)
               .get_signature_runner("generate") for threads in (1, 2)}
    timer = Timer()
    for batch in BATCH_SIZES:
        wide = np.ascontiguousarray(sources[:batch])
        narrow = np.ascontiguousarray(wide[:, :-1])
        flip = [0]

        def alternating(wide=wide, narrow=narrow, flip=flip):
            flip[0] ^= 1
            runners[1](encoder_ids=narrow if flip[0] else wide)

        reps = 20 if batch == 1 else 3
        timer.add((batch, "same shape, 1 thread"),
                  lambda wide=wide: runners[1](encoder_ids=wide), reps)
        timer.add((batch, "alternating width, 1 thread"), alternating, reps + 1)
        timer.add((batch, "same shape, 2 threads"),
                  lambda wide=wide: runners[2](encoder_ids=wide), reps)
    ms = timer.run(rounds)
    lines = [f"\n{name} greedy generate (ms/call, {steps} steps)",
             "| batch | case | ms | vs same shape, 1 thread |", "|--:|---|--:|--:|"]
    for (batch, case), value in ms.items():
        first = ms[(batch, "same shape, 1 thread")]
        lines.append(f"| {batch} | {case} | {value:.2f} | {value / first:.2f} |")
    return "\n".join(lines)


def trained(name, methods, variants, workdir, threads, sources, epochs):
    """decode_latency's measurement for each variant of one trained model:
    sentences/s at batch 1 and 32 (variants take turns batch by batch)."""
    model = train(name, epochs)[0]
    source, _, _, lengths = reverse_task(sources, seed=1)
    tables = []
    for method in methods:
        run = {}
        for variant in variants:
            path = os.path.join(workdir, f"{name}_{method}_{variant}_trained.tflite")
            with VARIANTS[variant]():
                keras_seq.export.export_tflite(
                    model, path, strategy=strategy_of(method), overwrite=True)
            runner = Interpreter(path, num_threads=threads).get_signature_runner(
                "generate")
            run[variant] = lambda ids, runner=runner: (
                lambda out: (out["ids"], out["lengths"]))(runner(encoder_ids=ids))
        speed, same = {}, {}
        for batch in BATCH_SIZES:
            speed[batch], outputs = time_runtimes(run, make_batches(source, lengths, batch))
            same[batch] = all(outputs[v] == outputs[variants[0]] for v in variants)
        lines = [
            f"\n{name} {method}, trained ({sources} reverse-task sources; "
            "sentences/s; gain = batch-32 tokens/s over batch-1 tokens/s)",
            "| variant | batch 1 | x | batch 32 | x | gain |",
            "|---|--:|--:|--:|--:|--:|",
        ]
        for variant in variants:
            one, many = speed[1][variant], speed[32][variant]
            lines.append(f"| {variant} | {one:.1f} | {one / speed[1][variants[0]]:.2f} "
                         f"| {many:.1f} | {many / speed[32][variants[0]]:.2f} "
                         f"| {many / one:.2f}x |")
        lines.append(f"same ids as {variants[0]}: " + ", ".join(
            f"batch {batch} {'yes' if same[batch] else 'NO'}" for batch in BATCH_SIZES))
        tables.append("\n".join(lines))
    return "\n".join(tables)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default=",".join(FAMILIES), help="comma-separated")
    parser.add_argument("--methods", default="greedy,beam",
                        help="comma-separated; empty with --checks for the checks alone")
    parser.add_argument("--steps", type=int, default=20, help="decoding steps")
    parser.add_argument("--threads", type=int, default=1, help="LiteRT num_threads")
    parser.add_argument("--rounds", type=int, default=3, help="best of this many")
    parser.add_argument("--trained", type=int, default=0, metavar="N",
                        help="instead: train as decode_latency does and time the "
                             "variants on N sources")
    parser.add_argument("--epochs", type=int, default=None, help="with --trained")
    parser.add_argument("--checks", action="store_true",
                        help="also time re-allocation and num_threads")
    parser.add_argument("--variants", default="base",
                        help=f"comma-separated, from {{{', '.join(VARIANTS)}}}")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as workdir:
        if args.checks:
            for name in args.families.split(","):
                print(interpreter_checks(name, args.steps, workdir, args.rounds),
                      flush=True)
        for name in args.families.split(","):
            variants = args.variants.split(",")
            if args.trained:
                print(trained(name, args.methods.split(","), variants, workdir,
                              args.threads, args.trained, args.epochs), flush=True)
                continue
            for method in filter(None, args.methods.split(",")):
                tables, same = profile(name, method, args.steps, workdir,
                                       args.threads, args.rounds, variants)
                for variant in variants:
                    print(table(f"{name} [{variant}]", method, tables[variant],
                                args.steps), flush=True)
                print(compare(name, method, tables, same), flush=True)


if __name__ == "__main__":
    main()

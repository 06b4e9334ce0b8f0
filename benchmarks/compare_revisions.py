"""Decode speed of this tree against an earlier revision, side by side.

Runs `decode_latency.py --json` (the current script) alternately over the
package of a baseline git revision and over this tree's, and, with
`--controls`, over this tree's once more with the decoding controls on. Each
run trains the same models (same seeds), exports them and times every
runtime; the rounds alternate so that load from other processes hits the
variants alike, and odd rounds run them in reverse order. Prints, per
family, method, runtime and batch size, the median sentences/s of each
variant and the ratios

    current / baseline    an export without controls against the baseline's
    controls / current    what the controls cost in the same tree

    python benchmarks/compare_revisions.py --baseline 1db62dc --rounds 2 --controls

The baseline's package is unpacked with `git archive` into a temporary
directory; the repository is not touched.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "benchmarks", "decode_latency.py")


def unpack(revision, where):
    """The `keras_seq` package of `revision`, extracted under `where`."""
    archive = subprocess.run(["git", "-C", ROOT, "archive", revision, "keras_seq"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", where], input=archive, check=True)


def run_once(package_root, extra, out_path, passthrough):
    env = dict(os.environ, PYTHONPATH=package_root, TF_CPP_MIN_LOG_LEVEL="2")
    subprocess.run([sys.executable, SCRIPT, "--json", out_path, *extra, *passthrough],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    with open(out_path) as f:
        result = json.load(f)
    expected = os.path.join(os.path.realpath(package_root), "keras_seq")
    if os.path.realpath(result["keras_seq"]) != expected:
        raise SystemExit(f"the run imported {result['keras_seq']}, not {expected}")
    return {(c["family"], c["method"], c["runtime"], c["batch"]): (c["sentences_per_s"],
                                                                    c.get("tokens"))
            for c in result["cells"]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="a git revision, e.g. 1db62dc")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--controls", action="store_true",
                        help="also time this tree with decode_latency's --controls")
    args, passthrough = parser.parse_known_args(argv)
    passthrough = passthrough or ["--quick"]
    variants = {"baseline": None, "current": ROOT}
    if args.controls:
        variants["controls"] = ROOT
    speeds = {name: [] for name in variants}
    with tempfile.TemporaryDirectory() as tmp:
        baseline_root = os.path.join(tmp, "baseline")
        os.makedirs(baseline_root)
        unpack(args.baseline, baseline_root)
        variants["baseline"] = baseline_root
        for round_index in range(args.rounds):
            # Odd rounds run the variants in reverse, so that neither always
            # runs first (a warm or loaded machine favours one position).
            order = list(variants.items())
            for name, package_root in order[::-1] if round_index % 2 else order:
                extra = ["--controls"] if name == "controls" else []
                out = os.path.join(tmp, f"{name}_{round_index}.json")
                speeds[name].append(run_once(package_root, extra, out, passthrough))
                print(f"round {round_index + 1}: {name} done", flush=True)
    median = {name: {key: statistics.median(run[key][0] for run in runs) for key in runs[0]}
              for name, runs in speeds.items()}
    # Different trees may train slightly different models: when their
    # outputs differ in length, sentences/s compare unequal work.
    differ = sorted({key[:2] for key in median["baseline"]
                     if speeds["baseline"][0][key][1] != speeds["current"][0][key][1]})
    columns = ["baseline", "current", "current / baseline"]
    if args.controls:
        columns += ["controls", "controls / current"]
    print(f"\nsentences/s, median of {args.rounds} rounds; baseline {args.baseline}, "
          f"decode_latency.py {' '.join(passthrough)}\n")
    print("| family | method | runtime | batch | " + " | ".join(columns) + " |")
    print("|---|---|---|--:|" + "--:|" * len(columns))
    for key in median["baseline"]:
        base, current = median["baseline"][key], median["current"][key]
        cells = [f"{base:.1f}", f"{current:.1f}", f"{current / base:.2f}x"]
        if args.controls:
            controlled = median["controls"][key]
            cells += [f"{controlled:.1f}", f"{controlled / current:.2f}x"]
        print("| " + " | ".join(map(str, key)) + " | " + " | ".join(cells) + " |")
    if differ:
        print("\nThe baseline and the current tree decoded different numbers of "
              f"tokens for {differ}: those ratios compare different outputs.")
    else:
        print("\nThe baseline and the current tree decoded the same numbers of tokens "
              "in every cell.")


if __name__ == "__main__":
    main()

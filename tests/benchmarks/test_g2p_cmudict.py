"""Smoke test of benchmarks/g2p_cmudict.py on a tiny generated lexicon.

The benchmark is a script, not a test; this only keeps its three paths
working: train and save, decode a saved run again (`--load`), train a
saved run further with a moving average of the weights (`--init --ema`),
and decode several saved runs as an ensemble (exported to LiteRT too), as
the average of their weights, or as an ensemble of averages.
"""

import os
import re

import keras
import numpy as np
import pytest

PHONES = {"a": "AA", "b": "B", "d": "D", "e": "EH", "k": "K", "o": "OW", "s": "S", "t": "T"}


def write_lexicon(path, words):
    with open(path, "w", encoding="utf-8") as f:
        for word in words:
            prons = [" ".join(PHONES[c] for c in word)]
            if word.endswith("s"):  # a second pronunciation, as CMUdict has
                prons.append(prons[0][:-1] + "Z")
            f.write(word.upper() + "\t" + "\t".join(prons) + "\n")


def make_split(tmp_path, seed):
    """A random lexicon: 40 test words, the rest for training."""
    rng = np.random.default_rng(seed)
    letters = sorted(PHONES)
    words = sorted({"".join(rng.choice(letters, rng.integers(2, 7))) for _ in range(400)})
    write_lexicon(tmp_path / "train", words[40:])
    write_lexicon(tmp_path / "ref", words[:40])


@pytest.fixture
def g2p(tmp_path, run_benchmark):
    """`g2p(*flags, stdout=None)`: run the benchmark on tmp_path's split at a
    tiny size; return its (WER, PER) row, appending its stdout to `stdout`."""

    def run(*flags, stdout=None):
        out = run_benchmark(
            "g2p_cmudict.py", "--train", str(tmp_path / "train"),
            "--test", str(tmp_path / "ref"), "--units", "16", "--layers", "1",
            "--batch-size", "16", "--method", "greedy", *flags)
        row = re.search(r"^\| keras_seq .*\| ([\d.]+) \| ([\d.]+) \|$", out, re.M)
        assert row, out[-2000:]
        assert "40 test words" in out
        if stdout is not None:
            stdout.append(out)
        return float(row.group(1)), float(row.group(2))

    return run


@pytest.mark.slow
def test_benchmark_trains_reloads_and_trains_further_with_ema(tmp_path, g2p):
    make_split(tmp_path, seed=1)

    first = g2p("--minutes", "0.05", "--save", str(tmp_path / "a"))
    assert 0 <= first[0] <= 100 and first[1] >= 0
    # The vocabularies are rebuilt from --train, so a reload scores the same.
    assert g2p("--load", str(tmp_path / "a")) == first

    g2p("--init", str(tmp_path / "a"), "--ema", "0.9", "--schedule", "cosine",
        "--minutes", "0.05", "--save", str(tmp_path / "b"))
    before = keras.saving.load_model(str(tmp_path / "a" / "model.keras"))
    after = keras.saving.load_model(str(tmp_path / "b" / "model.keras"))
    assert after.optimizer.use_ema and not before.optimizer.use_ema
    assert [w.shape for w in after.get_weights()] == [w.shape for w in before.get_weights()]
    assert any(not np.array_equal(x, y) for x, y in zip(after.get_weights(), before.get_weights()))


@pytest.mark.slow
def test_benchmark_decodes_an_ensemble_and_an_average(tmp_path, g2p):
    make_split(tmp_path, seed=2)
    for seed in ("1", "2"):
        g2p("--seed", seed, "--epochs", "2", "--save-every-epoch",
            "--save", str(tmp_path / seed))
    assert sorted(os.listdir(tmp_path / "1")) == ["epoch-001", "epoch-002", "model.keras"]
    a = keras.saving.load_model(str(tmp_path / "1" / "model.keras"))
    b = keras.saving.load_model(str(tmp_path / "2" / "model.keras"))
    assert not np.allclose(a.get_weights()[0], b.get_weights()[0])  # the seeds differ

    printed = []
    ensemble = g2p("--load", str(tmp_path / "1"), str(tmp_path / "2"),
             "--export-tflite", str(tmp_path / "e.tflite"), stdout=printed)
    assert 0 <= ensemble[0] <= 100
    lite = re.search(r"^\| keras_seq ensemble of .*\(LiteRT\) \| ([\d.]+) \| ([\d.]+) \|$",
                     printed[0], re.M)
    assert lite and (float(lite.group(1)), float(lite.group(2))) == ensemble
    assert "100.0% of its outputs equal Keras'" in printed[0]
    assert re.search(r"batch 1 \d+ words/s .* batch 32 \d+ words/s", printed[0])

    epochs = [str(tmp_path / "1" / f"epoch-00{i}") for i in (1, 2)]
    printed = []
    average = g2p("--load", *epochs, "--average", stdout=printed)
    assert "| keras_seq average of " in printed[0]
    # DIR+DIR is that average as one model, so it can be an ensemble member.
    assert g2p("--load", "+".join(epochs)) == average
    printed = []
    g2p("--load", "+".join(epochs), str(tmp_path / "2"), stdout=printed)
    assert f"| keras_seq ensemble of {'+'.join(epochs)}, {tmp_path / '2'}, " in printed[0]

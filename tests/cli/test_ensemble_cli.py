"""`--ensemble`: predict and export several runs as one model."""

import os
import re

import numpy as np
import pytest

from keras_seq.cli import main
from keras_seq.cli import run_directory as rd
from keras_seq.cli.decode_texts import decode_texts
from keras_seq.models import Ensemble

TINY = ["--examples", "300", "--units", "16", "--epochs", "1", "--batch-size", "32"]
WORDS = ["abc", "mnop", "qrst"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    made = {}
    for name, task, model in (("attention", "reverse", "attention"),
                              ("transformer", "reverse", "transformer"),
                              ("addition", "addition", "rnn")):
        out = str(root / name)
        assert main(["train", "--task", task, "--model", model, *TINY, "--out", out]) == 0
        made[name] = out
    return made


def outputs(capsys):
    lines = capsys.readouterr().out.strip().splitlines()
    return [line.split("\t")[1:] for line in lines]


@pytest.mark.slow
def test_predict_and_export_an_ensemble_of_runs(runs, tmp_path, capsys):
    a, b = runs["attention"], runs["transformer"]
    assert main(["predict", a, *WORDS, "--ensemble", b, "--ensemble-weights", "2", "1"]) == 0
    ensembled = outputs(capsys)
    # What the Python API gives for the same runs and weights.
    _, model_a, source_tokenizer, target_tokenizer = rd.load_run(a)
    model_b = rd.load_run(b)[1]
    expected, scores = decode_texts(Ensemble([model_a, model_b], weights=[2, 1]),
                                    source_tokenizer, target_tokenizer, WORDS,
                                    strategy="greedy", controls={})
    assert [o for o, _ in ensembled] == list(expected)
    np.testing.assert_allclose([float(s) for _, s in ensembled], scores, atol=1e-3)
    assert main(["predict", a, *WORDS]) == 0
    alone = outputs(capsys)
    assert [s for _, s in alone] != [s for _, s in ensembled]

    # One export of the ensemble decodes as the runs do, in both formats.
    assert main(["predict", a, *WORDS, "--method", "beam", "--ensemble", b]) == 0
    beam = outputs(capsys)
    saved = str(tmp_path / "saved_models" / "e" / "1")
    lite = str(tmp_path / "e.tflite")
    for fmt, out in (("savedmodel", saved), ("tflite", lite)):
        assert main(["export", a, "--ensemble", b, "--method", "beam", "--format", fmt,
                     "--out", out]) == 0
        capsys.readouterr()
        assert main(["predict", out, *WORDS]) == 0
        got = outputs(capsys)
        assert [o for o, _ in got] == [o for o, _ in beam]
        np.testing.assert_allclose([float(s) for _, s in got], [float(s) for _, s in beam],
                                   atol=1e-3)
    # An export decodes as it was exported.
    assert main(["predict", lite, "abc", "--ensemble", b]) == 2
    assert "--ensemble applies to run directories" in capsys.readouterr().err


@pytest.mark.slow
def test_mismatched_runs_are_refused_with_nothing_written(runs, tmp_path, capsys):
    a = runs["attention"]
    out = str(tmp_path / "e.tflite")
    cases = [
        (["--ensemble", runs["addition"]], "different source tokenizers"),
        (["--ensemble", runs["transformer"], "--ensemble-weights", "1"],
         "one weight per run (2"),
        (["--ensemble", a], "listed twice"),
        (["--ensemble", str(tmp_path / "missing")], "missing"),
    ]
    for extra, message in cases:
        assert main(["export", a, "--format", "tflite", "--out", out, *extra]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and message in err, err
        assert main(["predict", a, "abc", *extra]) == 2
        assert message in capsys.readouterr().err
    assert os.listdir(tmp_path) == []
    # The vocabularies are compared token by token: the first difference is named.
    assert main(["predict", a, "abc", "--ensemble", runs["addition"]]) == 2
    err = capsys.readouterr().err
    assert re.search(rf"{re.escape(a)} and {re.escape(runs['addition'])} have different source "
                     rf"tokenizers \(vocabulary at id \d+: '[^']+' vs '[^']+'\)", err), err

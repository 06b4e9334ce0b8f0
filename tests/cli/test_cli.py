"""The keras-seq command: train, evaluate, predict, export, and its errors."""

import json
import os
import subprocess
import sys

import pytest

from keras_seq.cli import main

TINY = ["--examples", "300", "--units", "16", "--epochs", "1", "--batch-size", "32"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("runs") / "reverse")
    assert main(["train", "--task", "reverse", "--model", "attention", *TINY,
                 "--out", out]) == 0
    return out


@pytest.mark.slow
def test_train_writes_a_complete_run_directory(run_dir):
    names = set(os.listdir(run_dir))
    assert {"model.keras", "config.json", "source_vocab.txt", "target_vocab.txt",
            "logs"} <= names
    config = json.load(open(os.path.join(run_dir, "config.json")))
    assert config["task"] == "reverse" and config["model"]["units"] == 16
    assert not [n for n in names if n.startswith(".tmp")]


@pytest.mark.slow
def test_train_jit_compile_reaches_keras_compile(run_dir, tmp_path, capsys, monkeypatch):
    import keras

    assert json.load(open(os.path.join(run_dir, "config.json")))["train"]["jit_compile"] == "auto"
    # Keras stores the value it resolved, not the one asked for; record the
    # request, and train without XLA (an XLA compile takes a minute on CPU).
    asked = []
    compile_model = keras.Model.compile

    def recording_compile(self, *args, jit_compile="auto", **kwargs):
        asked.append(jit_compile)
        return compile_model(self, *args, jit_compile=False, **kwargs)

    monkeypatch.setattr(keras.Model, "compile", recording_compile)
    for choice, value in (("on", True), ("off", False)):
        out = str(tmp_path / choice)
        assert main(["train", "--task", "reverse", "--model", "attention", *TINY,
                     "--jit-compile", choice, "--out", out]) == 0
        assert asked[-1] is value
        config = json.load(open(os.path.join(out, "config.json")))
        assert config["train"]["jit_compile"] == choice
    # The custom loop of the distributed strategies has no such switch.
    refused = str(tmp_path / "refused")
    assert main(["train", "--task", "reverse", *TINY, "--jit-compile", "on",
                 "--strategy", "mirrored", "--out", refused]) == 2
    assert capsys.readouterr().err.strip() == (
        "keras-seq: error: --jit-compile applies only to --strategy none "
        "(received --strategy mirrored)")
    assert not os.path.exists(refused)
    with pytest.raises(SystemExit):
        main(["train", "--task", "reverse", *TINY, "--jit-compile", "yes", "--out", refused])
    assert "argument --jit-compile: invalid choice: 'yes'" in capsys.readouterr().err


@pytest.mark.slow
def test_train_again_on_a_finished_run_does_nothing(run_dir, capsys):
    before = os.path.getmtime(os.path.join(run_dir, "model.keras"))
    assert main(["train", "--task", "reverse", "--model", "attention", *TINY,
                 "--out", run_dir]) == 0
    assert "finished training already" in capsys.readouterr().out
    assert os.path.getmtime(os.path.join(run_dir, "model.keras")) == before


@pytest.mark.slow
def test_evaluate_prints_a_table_and_writes_metrics_and_plot(run_dir, capsys):
    assert main(["evaluate", run_dir, "--by-length", "--method", "beam"]) == 0
    out = capsys.readouterr().out
    assert "exact_match" in out and "wer" in out and "cer" in out
    report = json.load(open(os.path.join(run_dir, "metrics.json")))
    assert report["method"] == "beam" and report["metrics"]["count"] > 0
    assert 0 <= report["metrics"]["wer"] <= 100
    with open(os.path.join(run_dir, "accuracy_by_length.png"), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_predict_from_arguments_file_and_stdin(run_dir, tmp_path, capsys, monkeypatch):
    assert main(["predict", run_dir, "abc", "hello"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["abc", "hello"]
    assert all(len(line.split("\t")) == 3 for line in lines)
    inputs = tmp_path / "in.txt"
    inputs.write_text("abc\n\nxyz\n")
    assert main(["predict", run_dir, "--file", str(inputs)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["abc", "", "xyz"]
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("qrs\n"))
    assert main(["predict", run_dir]) == 0
    assert capsys.readouterr().out.startswith("qrs\t")
    plot = tmp_path / "align.png"
    # The plot shows the search's own weights for the printed output (with
    # its controls: --min-length keeps this barely trained model's output
    # from being empty, which has no alignment to plot).
    assert main(["predict", run_dir, "abcd", "--min-length", "3",
                 "--attention-plot", str(plot)]) == 0
    assert plot.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_export_both_formats_and_predict_through_them(run_dir, tmp_path, capsys):
    assert main(["predict", run_dir, "abc", "mnop"]) == 0
    keras_lines = capsys.readouterr().out.strip().splitlines()
    saved = str(tmp_path / "saved_models" / "reverse" / "1")
    lite = str(tmp_path / "reverse.tflite")
    assert main(["export", run_dir, "--format", "savedmodel", "--out", saved]) == 0
    assert main(["export", run_dir, "--format", "tflite", "--out", lite]) == 0
    capsys.readouterr()
    for path in (saved, lite):
        assert main(["predict", path, "abc", "mnop"]) == 0
        lines = capsys.readouterr().out.strip().splitlines()
        assert [l.split("\t")[1] for l in lines] == [l.split("\t")[1] for l in keras_lines]
    assert main(["export", run_dir, "--format", "tflite", "--quantization",
                 "dynamic", "--out", str(tmp_path / "q.tflite")]) == 0


@pytest.mark.slow
def test_decoding_controls_in_predict_and_export(run_dir, tmp_path, capsys):
    controls = ["--min-length", "12", "--no-repeat-ngram-size", "2",
                "--repetition-penalty", "1.2"]
    assert main(["predict", run_dir, "abc", "mnop"]) == 0
    free = [line.split("\t")[1] for line in capsys.readouterr().out.strip().splitlines()]
    assert main(["predict", run_dir, "abc", "mnop", *controls]) == 0
    outputs = [line.split("\t")[1] for line in capsys.readouterr().out.strip().splitlines()]
    assert outputs != free
    assert all(len(output) >= 12 for output in outputs), outputs  # characters
    lite = str(tmp_path / "controlled.tflite")
    assert main(["export", run_dir, "--format", "tflite", "--out", lite, *controls]) == 0
    capsys.readouterr()
    assert main(["predict", lite, "abc", "mnop"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split("\t")[1] for line in lines] == outputs
    # An export decodes with the controls it was exported with.
    assert main(["predict", lite, "abc", "--min-length", "3"]) == 2
    assert "decoding controls" in error_line(capsys)
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", run_dir, "abc", "--repetition-penalty", "0"])
    assert exit_info.value.code == 2
    assert "--repetition-penalty: expected a finite number > 0" in error_line(capsys)


@pytest.mark.slow
def test_replace_unknown_target_in_predict_and_export(run_dir, tmp_path, capsys):
    words = ["abc", "mnop", "xyz"]
    assert main(["predict", run_dir, *words]) == 0
    plain = capsys.readouterr().out
    assert main(["predict", run_dir, *words, "--replace-unknown-target"]) == 0
    replaced = capsys.readouterr().out
    assert "<unk>" not in replaced
    if "<unk>" not in plain:  # nothing to replace: the same outputs
        assert replaced == plain
    lite = str(tmp_path / "u.tflite")
    assert main(["export", run_dir, "--format", "tflite", "--out", lite,
                 "--replace-unknown-target"]) == 0
    spec = json.load(open(str(tmp_path / "u.tokenizers.json")))
    assert spec["replace_unknown_target"] is True
    capsys.readouterr()
    assert main(["predict", lite, *words]) == 0
    assert [line.split("\t")[1] for line in capsys.readouterr().out.splitlines()] == [
        line.split("\t")[1] for line in replaced.splitlines()]
    assert main(["predict", lite, "abc", "--replace-unknown-target"]) == 2
    assert "export" in error_line(capsys)


def error_line(capsys):
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    return err


def test_errors_are_one_line_and_exit_2(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "missing")]) == 2
    assert "run directory not found" in error_line(capsys)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "config.json").write_text('{"something": "else"}')
    assert main(["evaluate", str(foreign)]) == 2
    assert "not a keras-seq run directory" in error_line(capsys)
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert main(["predict", str(foreign), "--file", str(empty)]) == 2
    assert "empty" in error_line(capsys)
    source, target = tmp_path / "src.txt", tmp_path / "tgt.txt"
    source.write_text("a\nb\nc\n")
    target.write_text("x\ny\n")
    assert main(["train", "--task", "files", "--source", str(source), "--target",
                 str(target), "--out", str(tmp_path / "r")]) == 2
    assert "src.txt" in error_line(capsys)
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--task", "wikipedia", "--out", str(tmp_path / "r")])
    assert exit_info.value.code == 2


@pytest.mark.slow
def test_corrupt_model_file_is_a_clear_error(run_dir, tmp_path, capsys):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(run_dir, broken)
    (broken / "model.keras").write_bytes(b"not a zip file")
    assert main(["predict", str(broken), "abc"]) == 2
    assert "corrupt or foreign model file" in error_line(capsys)


@pytest.mark.slow
def test_console_script_runs():
    script = os.path.join(os.path.dirname(sys.executable), "keras-seq")
    result = subprocess.run([script, "evaluate", "/nonexistent/run"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("keras-seq: error:")

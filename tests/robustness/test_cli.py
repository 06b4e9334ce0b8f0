"""Hostile inputs through `keras-seq predict` on a run, a SavedModel, a .tflite."""

import io
import os
import subprocess
import sys

import pytest

from keras_seq.cli import main
from keras_seq.cli import fingerprint
from keras_seq.cli import run_directory as rd
from keras_seq.decoding import Beam

KINDS = ("run", "saved_model", "tflite")
# Control characters are echoed escaped, so each input stays one TSV line.
ECHO = {"whitespace": "  \\t  ", "control_nul": "a\\x00b\\x01\\x1b[2Jc"}


@pytest.fixture(scope="module")
def paths(model, tokenizer, hostile, tmp_path_factory):
    """A run directory of the shared model, and its two CLI exports."""
    root = tmp_path_factory.mktemp("cli")
    run = str(root / "run")
    os.makedirs(run)
    rd.write_json(os.path.join(run, rd.CONFIG), {
        "kind": "keras_seq run", "task": "reverse",
        "max_length": hostile.MAX_SOURCE_LENGTH,
        "tokenizers": rd.save_tokenizers(run, tokenizer, tokenizer),
        "fingerprint": {"data": {}, "vocabulary": {
            side: fingerprint.of_vocabulary(tokenizer) for side in ("source", "target")}},
    })
    rd.save_model(model, run)
    saved, lite = str(root / "saved" / "1"), str(root / "reverse.tflite")
    assert main(["export", run, "--format", "savedmodel", "--out", saved]) == 0
    assert main(["export", run, "--format", "tflite", "--out", lite]) == 0
    return {"run": run, "saved_model": saved, "tflite": lite}


def expected_lines(texts, model, tokenizer, hostile):
    """(output, score) per text: the Python API on the source cut to the run's
    max_length, which every CLI path applies."""
    out = model.generate(tokenizer.tokenize(texts, max_length=hostile.MAX_SOURCE_LENGTH))
    decoded = tokenizer.detokenize(out["ids"], out["lengths"]).numpy()
    return [(t.decode(), s) for t, s in zip(decoded, out["scores"].numpy())]


def one_error_line(capsys):
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


def arguments(text_case, hostile, tmp_path):
    """The predict arguments for a text case; None where argv can't carry it."""
    texts = hostile.TEXTS[text_case]
    if text_case == "invalid_utf8":  # as Python hands invalid argv bytes over
        return [os.fsdecode(t) for t in texts]
    if text_case in ("control_nul", "batch_zero"):  # argv can't hold NUL / nothing
        inputs = tmp_path / "inputs.txt"
        inputs.write_text("".join(t + "\n" for t in texts), encoding="utf-8")
        return ["--file", str(inputs)]
    return list(texts)


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_predict(kind, text_case, hostile, paths, model, tokenizer, tmp_path, capsys):
    texts = hostile.TEXTS[text_case]
    code = main(["predict", paths[kind], *arguments(text_case, hostile, tmp_path)])
    if text_case == "invalid_utf8":
        assert code == 2
        assert "input 1 is not valid UTF-8: b'ab\\xff\\xfecd'" in one_error_line(capsys)
        return
    if text_case == "batch_zero":
        assert code == 2
        assert "no input" in one_error_line(capsys)
        return
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(texts)  # one line per input, whatever it holds
    fields = [line.split("\t") for line in lines]
    assert all(len(f) == 3 for f in fields)
    expected = expected_lines(texts, model, tokenizer, hostile)
    for text, (echo, output, score), (want, want_score) in zip(texts, fields, expected):
        assert echo == ECHO.get(text_case, text)
        assert output == want
        assert abs(float(score) - want_score) < 1e-3
        if not text:
            assert (output, score) == ("", "0.0000")


def test_predict_beam_on_a_run_and_method_refused_on_exports(paths, model, tokenizer, capsys):
    """--method beam decodes a run directory with Beam(...); an export keeps
    the strategy it was exported with, so predict refuses --method on one."""
    assert main(["predict", paths["run"], "abc", "--method", "beam", "--beam-size", "3",
                 "--length-penalty", "0.6"]) == 0
    line = capsys.readouterr().out.strip().split("\t")
    out = model.generate(tokenizer.tokenize(["abc"]), strategy=Beam(size=3, length_penalty=0.6))
    assert line[1] == tokenizer.detokenize(out["ids"], out["lengths"]).numpy()[0].decode()
    assert float(line[2]) == pytest.approx(float(out["scores"][0]), abs=1e-4)
    for kind in ("saved_model", "tflite"):
        assert main(["predict", paths[kind], "abc", "--method", "beam"]) == 2
        assert "--method applies to run directories" in one_error_line(capsys)


@pytest.mark.slow
def test_100000_characters(paths, model, tokenizer, hostile, capsys):
    huge = "abcdefghij" * 10_000
    # Every path gives the output of the source cut to the run's max_length.
    # The SavedModel refuses an input past max_input_length, so the CLI cuts
    # the line to fit (saying so on stderr) instead of dropping it.
    [(want, _)] = expected_lines([huge], model, tokenizer, hostile)
    for kind in KINDS:
        assert main(["predict", paths[kind], huge]) == 0
        out, err = capsys.readouterr()
        assert out.split("\t")[1] == want
        if kind == "saved_model":
            assert err.strip() == ("keras-seq: note: an input of 100000 characters was "
                                   "cut to 16384 to fit the SavedModel's max_input_length")


@pytest.mark.slow
def test_invalid_utf8_from_a_file_and_stdin(paths, tmp_path, monkeypatch, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"abc\nab\xff\xfecd\n")
    assert main(["predict", paths["run"], "--file", str(bad)]) == 2
    assert "input file is not valid UTF-8" in one_error_line(capsys)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"ab\xffcd\n")))
    assert main(["predict", paths["run"]]) == 2
    assert "stdin is not valid UTF-8" in one_error_line(capsys)


@pytest.mark.slow
def test_console_script_with_invalid_bytes_in_argv(paths, hostile):
    script = os.path.join(os.path.dirname(sys.executable), "keras-seq")
    done = subprocess.run(
        [script, "predict", paths["saved_model"], b"ab\xff\xfecd"],
        capture_output=True, timeout=300, env=hostile.env,
    )
    assert done.returncode == 2
    err = done.stderr.decode("utf-8", "replace").strip().splitlines()
    assert "Traceback" not in done.stderr.decode("utf-8", "replace")
    assert err[-1] == "keras-seq: error: input 1 is not valid UTF-8: b'ab\\xff\\xfecd'"


def test_export_tflite_writes_the_same_sidecars_as_the_cli(paths, model, tokenizer, hostile,
                                                           tmp_path, capsys):
    """The Python API and `keras-seq export` give the same artifact: a .tflite
    with its vocabularies and spec beside it, which `predict` reads."""
    from keras_seq.export import export_tflite
    from keras_seq.export.tflite_sidecars import sidecar_paths

    api = str(tmp_path / "api.tflite")
    export_tflite(model, api, max_source_length=hostile.MAX_SOURCE_LENGTH,
                  source_tokenizer=tokenizer, target_tokenizer=tokenizer)
    cli, ours = sidecar_paths(paths["tflite"]), sidecar_paths(api)
    for kind in ("source", "target", "spec"):
        with open(cli[kind], "rb") as a, open(ours[kind], "rb") as b:
            assert a.read() == b.read(), kind
    capsys.readouterr()
    assert main(["predict", api, "abc"]) == 0 and main(["predict", paths["tflite"], "abc"]) == 0
    first, second = capsys.readouterr().out.splitlines()
    assert first == second


def test_export_tflite_refuses_sidecars_it_did_not_write(model, tokenizer, tmp_path):
    from keras_seq.export import export_tflite

    path = str(tmp_path / "x.tflite")
    with pytest.raises(ValueError, match="Give both"):
        export_tflite(model, path, source_tokenizer=tokenizer)
    with open(tmp_path / "x.target_vocab.txt", "w") as f:
        f.write("my notes\n")
    with pytest.raises(FileExistsError, match="x.target_vocab.txt exists and keras_seq did "
                                              "not write it"):
        export_tflite(model, path, source_tokenizer=tokenizer, target_tokenizer=tokenizer)
    assert (tmp_path / "x.target_vocab.txt").read_text() == "my notes\n"
    assert sorted(os.listdir(tmp_path)) == ["x.target_vocab.txt"]

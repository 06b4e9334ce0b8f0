"""CLI inputs that must not silently change results: options, lines, configs.

The cases of issue 13 that need no trained run (docs/robustness.md,
"Files and runs"): numeric option ranges (10), how text becomes lines (8),
leak-free splits (7), hostile config.json and sidecars (12), and a
temperature that underflows (14).
"""

import json
import os
import tracemalloc
import types

import numpy as np
import pytest

from keras_seq.cli import main
from keras_seq.cli import predict as predict_cli
from keras_seq.data import from_tsv
from keras_seq.decoding import Sample
from keras_seq.text import lines

TRAIN = ["train", "--task", "reverse", "--examples", "50", "--units", "8"]


def one_line(capsys):
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


@pytest.mark.parametrize("option, value, wanted", [
    ("--epochs", "0", "an integer >= 1"),
    ("--epochs", "-1", "an integer >= 1"),
    ("--learning-rate", "0", "a finite number > 0"),
    ("--learning-rate", "-0.1", "a finite number > 0"),
    ("--learning-rate", "nan", "a finite number > 0"),
    ("--clipnorm", "nan", "a finite number >= 0"),
    ("--clipnorm", "inf", "a finite number >= 0"),
    ("--clipnorm", "-1", "a finite number >= 0"),
    ("--minutes", "0", "a finite number > 0"),
    ("--minutes", "inf", "a finite number > 0"),
    ("--batch-size", "0", "an integer >= 1"),
    ("--dropout", "1", "a finite number >= 0 and < 1"),
    ("--units", "0", "an integer >= 1"),
    ("--examples", "-5", "an integer >= 1"),
    ("--seed", "-1", "an integer >= 0 and <= 4294967295"),
])
def test_numeric_train_options_are_range_checked(option, value, wanted, tmp_path, capsys):
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_info:
        main([*TRAIN, option, value, "--out", str(out)])
    assert exit_info.value.code == 2
    err = one_line(capsys)
    assert f"argument {option}: expected {wanted}, got '{value}'" in err
    assert not out.exists()  # nothing written


@pytest.mark.parametrize("command", ["predict", "evaluate", "export"])
def test_beam_size_is_range_checked(command, tmp_path, capsys):
    extra = ["--format", "tflite", "--out", "x.tflite"] if command == "export" else []
    with pytest.raises(SystemExit) as exit_info:
        main([command, str(tmp_path), "--beam-size", "0", *extra])
    assert exit_info.value.code == 2
    assert "argument --beam-size: expected an integer >= 1 and <= 1024" in one_line(capsys)


@pytest.mark.parametrize("command", ["predict", "evaluate", "export"])
def test_strategy_options_build_one_strategy(command, tmp_path, capsys):
    """A bad length penalty is refused by argparse; a beam option without
    --method beam is refused in one line before anything is read."""
    extra = ["--format", "tflite", "--out", "x.tflite"] if command == "export" else []
    with pytest.raises(SystemExit) as exit_info:
        main([command, str(tmp_path), "--length-penalty", "-1", *extra])
    assert exit_info.value.code == 2
    assert "argument --length-penalty: expected a finite number >= 0" in one_line(capsys)
    assert main([command, str(tmp_path), "--beam-size", "3", *extra]) == 2
    assert "--beam-size and --length-penalty apply to --method beam" in one_line(capsys)


def test_lines_split_on_newline_only_and_drop_a_bom(tmp_path):
    # U+2028, U+0085, form feed and vertical tab stay inside their line.
    data = "\ufeffa\u2028b\n\r\nc\x0cd\x0be\u0085f\r\n\n".encode("utf-8")
    path = tmp_path / "in.txt"
    path.write_bytes(data)
    expected = ["a\u2028b", "", "c\x0cd\x0be\u0085f", ""]
    assert lines.read_lines(path) == expected
    args = types.SimpleNamespace(inputs=[], file=str(path))
    assert list(predict_cli.read_inputs(args)) == expected


def test_predict_prints_one_line_per_input_line_and_no_bom(tmp_path, monkeypatch, capsys):
    """Through the CLI: BOM dropped, separators inside lines kept, blank
    lines answered (a stub model echoes its inputs)."""
    path = tmp_path / "in.txt"
    path.write_bytes("\ufeffab\u2028c\n\nd\x0ce\n".encode("utf-8"))

    def stub(*args, **kwargs):
        texts = args[3]
        return [t.upper() for t in texts], np.zeros(len(texts))

    monkeypatch.setattr(predict_cli.rd, "load_run", lambda path: ({}, None, None, None))
    monkeypatch.setattr(predict_cli, "decode_texts", stub)
    assert main(["predict", str(tmp_path), "--file", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.split("\n") == ["ab\u2028c\tAB\u2028C\t0.0000", "\t\t0.0000",
                               "d\\x0ce\tD\\x0cE\t0.0000", ""]


def test_predict_reads_stdin_with_a_bom_the_same_way(tmp_path, monkeypatch, capsys):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(
        "\ufeffab\r\ncd\u2028e\n".encode("utf-8"))))
    args = types.SimpleNamespace(inputs=[], file=None)
    assert list(predict_cli.read_inputs(args)) == ["ab", "cd\u2028e"]


def test_predict_streams_its_input(tmp_path):
    """A 1,000,000-line file is read lazily, in requests of CHUNK lines."""
    path = tmp_path / "big.txt"
    path.write_bytes(b"abcdefghi\n" * 1_000_000)  # 10 MB
    args = types.SimpleNamespace(inputs=[], file=str(path))
    tracemalloc.start()
    try:
        count = 0
        for chunk in predict_cli.chunks(predict_cli.read_inputs(args)):
            assert len(chunk) <= predict_cli.CHUNK
            count += len(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 1_000_000
    assert peak < 1_000_000, peak  # far below the file's 10 MB


@pytest.mark.parametrize("tokenizer, spellings", [
    # NFC and NFD of the same word: one source for the char tokenizer (NFKC).
    ("char", ["caf\u00e9", "cafe\u0301"]),
    # WordPiece lower-cases as well.
    ("wordpiece", ["Hello there", "hello there", "HELLO THERE"]),
])
def test_splits_never_share_a_source_the_tokenizer_reads_the_same(
        tokenizer, spellings, tmp_path):
    import unicodedata

    rows = [f"w{i} x\tt{i}" for i in range(60)]
    rows += [f"{spelling}\tt{i}" for i, spelling in enumerate(spellings)] * 10
    path = tmp_path / "data.tsv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    for seed in range(8):
        task = from_tsv(path, tokenizer=tokenizer, seed=seed, validation_fraction=0.2,
                        test_fraction=0.2)

        def key(text):
            text = unicodedata.normalize("NFKC", text)
            return text.lower() if tokenizer == "wordpiece" else text

        where = {}
        for split, sources in task.sources.items():
            for source in sources:
                assert where.setdefault(key(source), split) == split, (source, seed)
        # The grouped source keeps every spelling's reference.
        group = [refs for source, refs in zip(
            sum(task.sources.values(), []), sum(task.references.values(), []))
            if key(source) == key(spellings[0])]
        assert len(group) == 1 and sorted(group[0]) == sorted(
            f"t{i}" for i in range(len(spellings)))


def hostile_configs():
    good_spec = {"registered_name": "keras_seq>CharTokenizer", "class_name": "CharTokenizer",
                 "config": {}}
    deep = "[" * 100_000 + "]" * 100_000
    return {
        "a list": "[1, 2, 3]",
        "a string": '"keras_seq run"',
        "deep nesting": deep,
        "tokenizers a list": json.dumps({"kind": "keras_seq run", "tokenizers": [1]}),
        "tokenizer spec a string": json.dumps({
            "kind": "keras_seq run", "tokenizers": {"source": "x", "target": good_spec},
            "fingerprint": {"data": {}, "vocabulary": {}}}),
        "max_length a string": json.dumps({"kind": "keras_seq run", "max_length": "20"}),
        "task_options a list": json.dumps({"kind": "keras_seq run", "task": "tsv",
                                           "task_options": [1]}),
        "missing tokenizers": json.dumps({"kind": "keras_seq run"}),
    }


@pytest.fixture(scope="module")
def model_file(model, tmp_path_factory):
    """A loadable model.keras, so that only config.json is hostile."""
    from keras_seq.cli import run_directory as rd

    folder = str(tmp_path_factory.mktemp("model"))
    rd.save_model(model, folder)
    return os.path.join(folder, rd.MODEL)


@pytest.mark.parametrize("case", list(hostile_configs()))
@pytest.mark.parametrize("command", ["predict", "evaluate", "export"])
def test_hostile_config_json_is_one_line_exit_2(case, command, model_file, tokenizer,
                                                 tmp_path, capsys):
    import shutil

    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(hostile_configs()[case])
    shutil.copy(model_file, run / "model.keras")
    for side in ("source", "target"):
        tokenizer.save_vocabulary(str(run / f"{side}_vocab.txt"))
    extra = {"predict": ["abc"], "evaluate": [],
             "export": ["--format", "tflite", "--out", str(tmp_path / "m.tflite")]}
    assert main([command, str(run), *extra[command]]) == 2
    one_line(capsys)


@pytest.mark.parametrize("sidecar", [
    "[]", '{"source": [], "target": {}}', '{"source": {"registered_name": 5}}',
    "{" * 50_000, '{"source": {"registered_name": "keras_seq>CharTokenizer", '
                  '"config": {"normalization": "NFKC"}}, "target": {}}',
])
def test_hostile_tflite_sidecar_is_one_line_exit_2(sidecar, tmp_path, capsys):
    model = tmp_path / "m.tflite"
    model.write_bytes(b"\0\0\0\0TFL3")
    (tmp_path / "m.tokenizers.json").write_text(sidecar)
    (tmp_path / "m.source_vocab.txt").write_text("<pad>\n<unk>\n<s>\n</s>\na\n")
    assert main(["predict", str(model), "abc"]) == 2
    one_line(capsys)


def test_a_temperature_that_underflows_samples_like_greedy(model, copy_task):
    x, _ = copy_task(8, vocab_size=14, max_length=5, seed=3)
    greedy = model.generate(x["encoder_ids"], max_length=8)
    for temperature in (1e-38, 1e-45, 1e-300):  # the last two are 0 in float32
        sampled = model.generate(x["encoder_ids"], max_length=8,
                                 strategy=Sample(temperature=temperature, seed=1))
        np.testing.assert_array_equal(sampled["ids"], greedy["ids"])
        assert np.all(np.isfinite(sampled["scores"]))
    with pytest.raises(ValueError, match="finite positive number.*temperature=inf"):
        Sample(temperature=float("inf"))



def test_limit_lengths_drops_what_does_not_fit_and_counts_it(tmp_path):
    from keras_seq.data import limit_lengths

    rows = [f"{'ab' * (1 + i % 3)}\t{'c' * (1 + i % 4)}" for i in range(40)]
    rows += ["a" * 30 + "\tcc", "ab\t" + "c" * 30, "ba\tc"]
    path = tmp_path / "data.tsv"
    path.write_text("\n".join(rows) + "\n")
    task = from_tsv(path, validation_fraction=0.2, test_fraction=0.2, seed=1)
    limited, dropped = limit_lengths(task, 8)
    for split in ("train", "validation"):
        pairs = [(s, r) for s, refs in zip(task.sources[split], task.references[split])
                 for r in refs]
        kept = [(s, r) for s, refs in zip(limited.sources[split], limited.references[split])
                for r in refs]
        assert kept == [(s, r) for s, r in pairs if len(s) <= 8 and len(r) + 1 <= 8]
        assert dropped[split] == len(pairs) - len(kept)
    assert dropped["train"] + dropped["validation"] + sum(
        len(s) > 8 or any(len(r) > 7 for r in refs)
        for s, refs in zip(task.sources["test"], task.references["test"])) >= 2
    assert limited.sources["test"] == task.sources["test"]  # kept whole
    for (x, y) in limited.train:
        assert x["encoder_ids"].shape[1] <= 8 and x["decoder_ids"].shape[1] <= 8
    assert limit_lengths(task, 1000) == (task, {"train": 0, "validation": 0})

"""The CLI owns only what it writes (issue 13, docs/robustness.md "Files and runs").

One tiny run trained on a TSV the tests write, then every way a user's
files could be lost, overwritten or silently mismatched: a foreign --out,
--overwrite onto foreign paths, changed data or vocabularies, relative
paths from another folder, two processes on one run, stale temporary
files, a full disk, and predict inputs past an export's bounds.
"""

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time

import numpy as np
import pytest

from keras_seq.cli import main
from keras_seq.cli import run_directory as rd
from keras_seq.cli.run_lock import RunLock

LETTERS = "abcdef"
TRAIN = ["--model", "attention", "--units", "8", "--epochs", "1", "--batch-size", "32"]


def one_line(capsys):
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


def write_tsv(path, swap=None, count=240):
    """Lines `word<TAB>reversed word` over a..f; `swap` exchanges two letters."""
    rng = np.random.default_rng(0)
    rows = []
    for _ in range(count):
        word = "".join(rng.choice(list(LETTERS), rng.integers(2, 6)))
        if swap:
            word = word.translate(str.maketrans(swap, swap[::-1]))
        rows.append(f"{word}\t{word[::-1]}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def snapshot(folder):
    """{relative path: bytes} of every file under `folder`."""
    files = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                files[os.path.relpath(path, folder)] = f.read()
    return files


def train_args(data, out):
    return ["train", "--task", "tsv", "--source", str(data), *TRAIN, "--out", str(out)]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(run directory, its data file) of a finished run, trained from the
    data's folder with a relative --source, as users type it."""
    root = tmp_path_factory.mktemp("ownership")
    data = root / "data.tsv"
    write_tsv(data)
    run = str(root / "run")
    cwd = os.getcwd()
    os.chdir(root)
    try:
        assert main(train_args("data.tsv", run)) == 0
    finally:
        os.chdir(cwd)
    return run, data


def copy_run(trained, tmp_path):
    run = str(tmp_path / "run")
    shutil.copytree(trained[0], run)
    return run


def test_train_refuses_a_foreign_folder_and_touches_nothing(tmp_path, capsys):
    foreign = tmp_path / "mine"
    (foreign / "backup").mkdir(parents=True)
    (foreign / "backup" / "thesis.tex").write_text("years of work")
    (foreign / "model.keras").write_text("someone else's model")
    (foreign / "history.csv").write_text("epoch\n1\n")
    before = snapshot(foreign)
    code = main(["train", "--task", "reverse", "--examples", "50", *TRAIN,
                 "--out", str(foreign)])
    assert code == 2
    assert "is not empty and is not a keras-seq run directory" in one_line(capsys)
    assert snapshot(foreign) == before
    assert sorted(os.listdir(foreign)) == ["backup", "history.csv", "model.keras"]
    # A file given as --out is refused too.
    assert main(["train", "--task", "reverse", *TRAIN,
                 "--out", str(foreign / "history.csv")]) == 2
    assert "is a file" in one_line(capsys)


@pytest.mark.slow
def test_train_writes_config_first_and_files_anyone_can_read(trained):
    run = trained[0]
    config = json.load(open(os.path.join(run, rd.CONFIG)))
    assert config["kind"] == "keras_seq run"
    assert set(config["fingerprint"]["data"]) == {"train", "validation", "test"}
    assert os.path.isabs(config["task_options"]["path"])
    old = os.umask(0o022)
    os.umask(old)
    for name in (rd.CONFIG, rd.MODEL, rd.VOCABS["source"], "history.csv"):
        mode = stat.S_IMODE(os.stat(os.path.join(run, name)).st_mode)
        assert mode == 0o666 & ~old, (name, oct(mode))
    assert not os.path.exists(os.path.join(run, rd.BACKUP))


@pytest.mark.slow
def test_export_overwrite_replaces_only_its_own_kind(trained, tmp_path, capsys):
    run = trained[0]
    versions = tmp_path / "saved_models" / "g2p"
    saved = versions / "1"
    assert main(["export", run, "--format", "savedmodel", "--out", str(saved)]) == 0
    (versions / "2").mkdir()
    (versions / "2" / "notes.txt").write_text("keep me")
    before = snapshot(versions)
    before_run = snapshot(run)
    # The folder of versions, the run directory, a foreign folder: refused.
    for target in (versions, run, versions / "2"):
        assert main(["export", run, "--format", "savedmodel", "--overwrite",
                     "--out", str(target)]) == 2
        assert "Refusing to overwrite" in one_line(capsys)
    assert snapshot(versions) == before and snapshot(run) == before_run
    # A keras_seq SavedModel version: replaced, atomically (no temporary left).
    mtime = os.path.getmtime(saved / "saved_model.pb")
    time.sleep(0.01)
    assert main(["export", run, "--format", "savedmodel", "--method", "beam",
                 "--overwrite", "--out", str(saved)]) == 0
    assert os.path.getmtime(saved / "saved_model.pb") > mtime
    assert sorted(os.listdir(versions)) == ["1", "2"]
    # .tflite: a foreign file is refused, a keras_seq one replaced.
    foreign = tmp_path / "photo.tflite"
    foreign.write_bytes(b"JPEG data")
    assert main(["export", run, "--format", "tflite", "--overwrite",
                 "--out", str(foreign)]) == 2
    assert "Refusing to overwrite" in one_line(capsys)
    assert foreign.read_bytes() == b"JPEG data"
    lite = tmp_path / "m.tflite"
    assert main(["export", run, "--format", "tflite", "--out", str(lite)]) == 0
    assert main(["export", run, "--format", "tflite", "--out", str(lite)]) == 2
    assert "exists" in one_line(capsys)
    assert main(["export", run, "--format", "tflite", "--overwrite",
                 "--out", str(lite)]) == 0
    # Sidecars that keras-seq did not write are not overwritten.
    (tmp_path / "n.source_vocab.txt").write_text("user file")
    assert main(["export", run, "--format", "tflite", "--out", str(tmp_path / "n.tflite")]) == 2
    assert "did not write it" in one_line(capsys)
    assert (tmp_path / "n.source_vocab.txt").read_text() == "user file"
    old = os.umask(0o022)
    os.umask(old)
    assert stat.S_IMODE(os.stat(lite).st_mode) == 0o666 & ~old
    assert stat.S_IMODE(os.stat(saved).st_mode) == 0o777 & ~old


@pytest.mark.slow
def test_predict_answers_every_line_past_the_export_bounds(trained, tmp_path, capsys):
    """1,100 lines (past the default 1,024) and exports with tiny bounds."""
    from keras_seq.export import export_saved_model, export_tflite

    run = trained[0]
    inputs = tmp_path / "in.txt"
    # One length for all: the default max_length (2 S + 10) follows the
    # longest source of a request, so unequal lengths would make an untrained
    # model's outputs depend on how lines are grouped into requests.
    words = ["".join(LETTERS[(i // 6**j) % 6] for j in range(4)) for i in range(1100)]
    inputs.write_text("\n".join(words) + "\n")
    assert main(["predict", run, "--file", str(inputs)]) == 0
    want = capsys.readouterr().out.splitlines()
    assert len(want) == 1100 and [w.split("\t")[0] for w in want] == words
    saved, lite = str(tmp_path / "s" / "1"), str(tmp_path / "m.tflite")
    assert main(["export", run, "--format", "savedmodel", "--out", saved]) == 0
    assert main(["export", run, "--format", "tflite", "--out", lite]) == 0
    capsys.readouterr()
    for path in (saved, lite):
        assert main(["predict", path, "--file", str(inputs)]) == 0
        got = capsys.readouterr().out.splitlines()
        assert [g.split("\t")[:2] for g in got] == [w.split("\t")[:2] for w in want]
    # The same with bounds far below a request of 64 lines.
    config, model, source, target = rd.load_run(run)
    bounds = dict(max_batch_size=5, max_batch_tokens=40, max_source_length=config["max_length"])
    export_saved_model(model, saved, source_tokenizer=source, target_tokenizer=target,
                       overwrite=True, **bounds)
    export_tflite(model, lite, overwrite=True, **bounds)
    few = tmp_path / "few.txt"  # 200 lines: 4 requests of 64 and a rest, each split
    few.write_text("\n".join(words[:200]) + "\n")
    for path in (saved, lite):
        assert main(["predict", path, "--file", str(few)]) == 0
        got = capsys.readouterr().out.splitlines()
        assert [g.split("\t")[:2] for g in got] == [w.split("\t")[:2] for w in want[:200]]


@pytest.mark.slow
def test_resume_refuses_changed_data_naming_it(trained, tmp_path, capsys):
    run = copy_run(trained, tmp_path)
    os.remove(os.path.join(run, rd.MODEL))  # an unfinished run
    data = tmp_path / "data.tsv"
    write_tsv(data, swap="ab")  # same symbols and vocabulary size, other order
    args = train_args(data, run)
    config = json.load(open(os.path.join(run, rd.CONFIG)))
    config["task_options"]["path"] = str(data)  # the run's own record of its data
    rd.write_json(os.path.join(run, rd.CONFIG), config)
    before = snapshot(run)
    assert main(args) == 2
    assert "the train split of the data differs from the one" in one_line(capsys)
    assert snapshot(run) == before


@pytest.mark.slow
def test_evaluate_reads_the_runs_own_data_from_any_folder(trained, tmp_path, capsys,
                                                          monkeypatch):
    run = copy_run(trained, tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    write_tsv(elsewhere / "data.tsv", count=100)  # same name, other content
    monkeypatch.chdir(elsewhere)
    assert main(["evaluate", run]) == 0
    count = json.load(open(os.path.join(run, "metrics.json")))["metrics"]["count"]
    from keras_seq.data import from_tsv

    assert count == len(from_tsv(trained[1]).sources["test"])  # the run's own file
    assert count != len(from_tsv(elsewhere / "data.tsv").sources["test"])
    capsys.readouterr()
    # The run's data file itself changed: refused, metrics.json kept.
    before = open(os.path.join(run, "metrics.json")).read()
    original = trained[1]
    saved = original.read_bytes()
    try:
        write_tsv(original, swap="ef")
        assert main(["evaluate", run]) == 2
        assert "split of the data differs" in one_line(capsys)
    finally:
        original.write_bytes(saved)
    assert open(os.path.join(run, "metrics.json")).read() == before


@pytest.mark.slow
@pytest.mark.parametrize("change", ["reordered", "shorter", "longer"])
def test_a_vocabulary_file_that_does_not_match_is_refused(trained, tmp_path, capsys, change):
    run = copy_run(trained, tmp_path)
    path = os.path.join(run, rd.VOCABS["target"])
    tokens = open(path, encoding="utf-8").read().splitlines()
    tokens = {"reordered": tokens[:4] + tokens[5:6] + tokens[4:5] + tokens[6:],
              "shorter": tokens[:-1], "longer": tokens + ["z"]}[change]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(tokens) + "\n")
    assert main(["predict", run, "abc"]) == 2
    assert f"{path} is not the target vocabulary of {run}" in one_line(capsys)
    assert main(["export", run, "--format", "tflite", "--out", str(tmp_path / "m.tflite")]) == 2
    one_line(capsys)
    assert not os.path.exists(tmp_path / "m.tflite")


@pytest.mark.slow
def test_a_tflite_vocabulary_sidecar_that_does_not_match_is_refused(trained, tmp_path, capsys):
    lite = tmp_path / "m.tflite"
    assert main(["export", trained[0], "--format", "tflite", "--out", str(lite)]) == 0
    sidecar = tmp_path / "m.source_vocab.txt"
    tokens = sidecar.read_text(encoding="utf-8").splitlines()
    sidecar.write_text("\n".join(tokens[:4] + tokens[5:] + tokens[4:5]) + "\n")
    capsys.readouterr()
    assert main(["predict", str(lite), "abc"]) == 2
    assert "is not the source vocabulary of" in one_line(capsys)


def test_a_second_process_on_a_run_gets_one_line(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    args = ["train", "--task", "reverse", "--examples", "50", *TRAIN, "--out", str(run)]
    with RunLock(str(run)):
        assert main(args) == 2
        assert "is in use by another keras-seq process" in one_line(capsys)
    assert os.listdir(run) == [".lock"]


def test_a_lock_dies_with_its_process(tmp_path):
    """A killed holder leaves the file but not the lock: stale after a crash."""
    run = tmp_path / "run"
    run.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from keras_seq.cli.run_lock import RunLock\n"
        f"lock = RunLock({str(run)!r}).__enter__(); print('held', flush=True); time.sleep(60)")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        from keras_seq.cli.errors import CLIError

        with pytest.raises(CLIError, match="in use"):
            RunLock(str(run)).__enter__()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with RunLock(str(run)):  # taken at once
        pass


@pytest.mark.slow
def test_two_train_processes_on_one_out(tmp_path):
    """Started together: one trains, the other exits 2 with one line."""
    out = str(tmp_path / "run")
    args = [sys.executable, "-m", "keras_seq.cli", "train", "--task", "reverse",
            "--examples", "300", "--units", "8", "--epochs", "3", "--out", out]
    processes = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(2)]
    errors = [p.communicate(timeout=600)[1] for p in processes]
    results = [(p.returncode, err) for p, err in zip(processes, errors)]
    assert sorted(code for code, _ in results) == [0, 2], results
    err = [err for code, err in results if code == 2][0]
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].endswith("choose another --out")
    assert os.path.exists(os.path.join(out, rd.MODEL))


@pytest.mark.slow
def test_stale_temporaries_are_cleaned_on_the_next_start(trained, tmp_path):
    run = copy_run(trained, tmp_path)
    os.remove(os.path.join(run, rd.MODEL))
    os.makedirs(os.path.join(run, rd.BACKUP))
    stale = [".config.json.tmp-k2j3", ".tmp-abc123.keras", ".source_vocab.txt.x1.tmp",
             os.path.join(rd.BACKUP, ".tmp-latest.weights.h5"),
             os.path.join(rd.BACKUP, "latest.weights.h5.bkp.tmp")]
    for name in stale:
        with open(os.path.join(run, name), "wb") as f:
            f.write(b"half a file")
    (tmp_path / "run" / "notes.tmp").write_text("a user's file")
    assert main(train_args(trained[1], run)) == 0
    for name in stale:
        assert not os.path.exists(os.path.join(run, name)), name
    assert (tmp_path / "run" / "notes.tmp").read_text() == "a user's file"


@pytest.mark.slow
def test_a_full_disk_during_export_is_one_line_and_keeps_the_old_version(
        trained, tmp_path, capsys, monkeypatch):
    import tensorflow as tf

    run = trained[0]
    saved = tmp_path / "m" / "1"
    assert main(["export", run, "--format", "savedmodel", "--out", str(saved)]) == 0
    before = snapshot(saved)

    def full_disk(*args, **kwargs):
        raise tf.errors.ResourceExhaustedError(None, None, "No space left on device\nmore")

    monkeypatch.setattr(tf.saved_model, "save", full_disk)
    assert main(["export", run, "--format", "savedmodel", "--overwrite",
                 "--out", str(saved)]) == 2
    assert "out of disk space or memory: No space left on device" in one_line(capsys)
    assert snapshot(saved) == before
    assert os.listdir(tmp_path / "m") == ["1"]  # no temporary folder left


@pytest.mark.slow
def test_an_attention_plot_failure_keeps_the_predictions(trained, tmp_path, capsys,
                                                         monkeypatch):
    from keras_seq import viz

    def broken(*args, **kwargs):
        raise RuntimeError("no display")

    monkeypatch.setattr(viz, "plot_attention", broken)
    code = main(["predict", trained[0], "abc", "fed", "--attention-plot",
                 str(tmp_path / "a.png")])
    out, err = capsys.readouterr()
    assert code == 2
    assert [line.split("\t")[0] for line in out.splitlines()] == ["abc", "fed"]
    assert "the attention plot" in err and "no display" in err


@pytest.mark.slow
def test_a_corrupt_backup_metadata_file_falls_back_to_its_bkp_copy(tmp_path, copy_task):
    import keras

    from keras_seq.metrics import MaskedSparseCrossEntropy
    from keras_seq.models import rnn_seq2seq
    from keras_seq.training import SafeBackupAndRestore

    x, y = copy_task(64, vocab_size=10, max_length=4)
    backup_dir = str(tmp_path / "backup")

    def fit(epochs):
        model = rnn_seq2seq(10, 10, cell="gru", units=8)
        model.compile(keras.optimizers.Adam(1e-2), MaskedSparseCrossEntropy())
        model.build()
        backup = SafeBackupAndRestore(backup_dir, delete_checkpoint=False)
        history = model.fit(x, y, batch_size=32, epochs=epochs, verbose=0,
                            callbacks=[backup])
        return backup, history

    fit(2)
    metadata = os.path.join(backup_dir, "training_metadata.json")
    with open(metadata, "w") as f:
        f.write("")  # "Expecting value: line 1 column 1" in Keras alone
    backup = SafeBackupAndRestore(backup_dir)
    assert backup.resume_position() == (1, 0)  # the .bkp copy: after epoch 1
    _, history = fit(3)
    assert history.epoch == [1, 2]  # resumed after epoch 1, not from scratch
    for name in ("training_metadata.json", "training_metadata.json.bkp"):
        with open(os.path.join(backup_dir, name), "w") as f:
            f.write("{not json")
    with pytest.raises(ValueError, match=r"training backup in .*backup is damaged"):
        SafeBackupAndRestore(backup_dir).resume_position()


@pytest.mark.slow
def test_a_transformer_on_data_longer_than_its_positions_trains(tmp_path, capsys):
    """Sources past 512 positions used to stop training with a traceback."""
    rows = [f"{w}\t{w[::-1]}" for w in ("ab", "bca", "cab", "abc", "bb", "ca") * 20]
    rows += ["a" * 600 + "\tb", "ab\t" + "c" * 700]
    data = tmp_path / "long.tsv"
    data.write_text("\n".join(rows) + "\n")
    out = tmp_path / "run"
    assert main(["train", "--task", "tsv", "--source", str(data), "--model", "transformer",
                 "--units", "8", "--heads", "2", "--epochs", "1", "--batch-size", "32",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    dropped = re.search(r"dropped (\d+) training and (\d+) validation pairs longer than "
                        r"the Transformer's 512 positions", printed)
    assert dropped, printed
    config = json.load(open(out / rd.CONFIG))
    from keras_seq.data import from_tsv

    task = from_tsv(data)
    long_ones = sum(any(len(s) > 512 or len(r) > 511 for r in refs)
                    for split in ("train", "validation")
                    for s, refs in zip(task.sources[split], task.references[split]))
    assert int(dropped.group(1)) + int(dropped.group(2)) == long_ones >= 1
    assert config["max_length"] == 512 and (out / rd.MODEL).exists()


def crafted_saved_model(path, secret, stolen):
    """A SavedModel with a text signature that reads one file and writes another."""
    import tensorflow as tf

    class Crafted(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec((None,), tf.string, name="text")])
        def serve(self, text):
            tf.io.write_file(stolen, tf.io.read_file(secret))
            return {"text": text, "score": tf.zeros(tf.shape(text), tf.float32)}

    module = Crafted()
    tf.saved_model.save(module, path, signatures={"serving_default": module.serve})


def test_predict_refuses_a_savedmodel_whose_graph_touches_files(tmp_path, capsys):
    secret, stolen = tmp_path / "secret.txt", tmp_path / "stolen.txt"
    secret.write_text("password")
    path = str(tmp_path / "crafted" / "1")
    crafted_saved_model(path, str(secret), str(stolen))
    assert main(["predict", path, "abc"]) == 2
    err = one_line(capsys)
    assert "holds ops that keras-seq's exports never contain (ReadFile, WriteFile)" in err
    assert "--trust-graph" in err
    assert not stolen.exists()
    # The user's explicit choice is honoured.
    assert main(["predict", path, "abc", "--trust-graph"]) == 0
    assert stolen.read_text() == "password"

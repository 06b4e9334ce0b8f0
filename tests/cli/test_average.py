"""`train --keep-checkpoints` and `keras-seq average`: runs and checkpoints to one run."""

import hashlib
import io
import json
import os
import shutil
import zipfile

import h5py
import numpy as np
import pytest

from keras_seq.cli import main
from keras_seq.cli import run_directory as rd

# As in test_cli.py: a model that trains in seconds.
TINY = ["--task", "reverse", "--model", "attention", "--examples", "300", "--units", "16",
        "--batch-size", "32"]


def error_line(capsys):
    """The one line a refused command printed (as in test_cli.py)."""
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    return err


def h5_arrays(source):
    """{name: array} of a weights file's model weights (the optimizer's left out)."""
    arrays = {}
    with h5py.File(source, "r") as h5:
        h5.visititems(lambda name, obj: arrays.__setitem__(name, obj[()])
                      if isinstance(obj, h5py.Dataset) and not name.startswith("optimizer")
                      else None)
    return arrays


def model_arrays(run):
    with zipfile.ZipFile(os.path.join(run, rd.MODEL)) as archive:
        return h5_arrays(io.BytesIO(archive.read("model.weights.h5")))


def snapshot(*folders):
    """Every file and folder below `folders`: its content's hash and mtime."""
    found = {}
    for folder in folders:
        for root, dirs, files in os.walk(folder):
            for name in dirs:
                found[os.path.join(root, name)] = os.stat(os.path.join(root, name)).st_mtime_ns
            for name in files:
                path = os.path.join(root, name)
                with open(path, "rb") as f:
                    found[path] = (hashlib.sha256(f.read()).hexdigest(),
                                   os.stat(path).st_mtime_ns)
    return found


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Run `a` (3 epochs, keeping 2 checkpoints, interrupted after epoch 2 and
    resumed) and run `b` (1 epoch, another seed)."""
    root = tmp_path_factory.mktemp("runs")
    a, b = str(root / "a"), str(root / "b")
    checkpoints = os.path.join(a, rd.CHECKPOINTS)
    args = ["train", *TINY, "--epochs", "3", "--keep-checkpoints", "2", "--out", a]
    history = rd.append_history

    def interrupt_after_epoch_2(run, epoch, logs):
        history(run, epoch, logs)
        if epoch == 1:  # its checkpoint and backup are written
            raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rd, "append_history", interrupt_after_epoch_2)
        assert main(args) == 130
    interrupted = sorted(os.listdir(checkpoints))
    # What a killed write and the user leave in the folder.
    stale = os.path.join(checkpoints, ".tmp-epoch-0003-k1ll3d.weights.h5")
    with open(stale, "wb") as f:
        f.write(b"half a checkpoint")
    for name in ("notes.txt", "epoch-7.weights.h5"):
        with open(os.path.join(checkpoints, name), "w") as f:
            f.write("not keras-seq's")
    assert main(args) == 0  # resumes at epoch 3
    assert main(["train", *TINY, "--epochs", "1", "--seed", "1", "--out", b]) == 0
    return {"a": a, "b": b, "interrupted": interrupted, "root": str(root)}


def checkpoint(run, epoch):
    return os.path.join(run, rd.CHECKPOINTS, f"epoch-{epoch:04d}.weights.h5")


@pytest.mark.slow
def test_train_keeps_the_last_checkpoints_across_a_resume(runs):
    a = runs["a"]
    assert runs["interrupted"] == ["epoch-0001.weights.h5", "epoch-0002.weights.h5"]
    assert sorted(os.listdir(os.path.join(a, rd.CHECKPOINTS))) == [
        "epoch-0002.weights.h5", "epoch-0003.weights.h5",  # exactly 2: epoch 1 pruned
        "epoch-7.weights.h5", "notes.txt"]  # not its files: kept; the stale one removed
    assert [int(r["epoch"]) for r in rd.read_history(a)] == [1, 2, 3]
    assert json.load(open(os.path.join(a, rd.CONFIG)))["train"]["keep_checkpoints"] == 2
    # The last checkpoint is the saved model; the one before differs.
    final, last, before = (model_arrays(a), h5_arrays(checkpoint(a, 3)),
                           h5_arrays(checkpoint(a, 2)))
    assert final.keys() == last.keys() == before.keys() and len(final) > 8
    for name in final:
        np.testing.assert_array_equal(last[name], final[name], err_msg=name)
    assert any(not np.array_equal(before[n], final[n]) for n in final)


@pytest.mark.slow
def test_average_of_runs_is_their_mean_and_a_normal_run(runs, tmp_path, capsys):
    a, b = runs["a"], runs["b"]
    sources = snapshot(runs["root"])
    out = str(tmp_path / "new" / "folders" / "avg")
    assert main(["average", a, b, "--out", out]) == 0
    assert "the mean of 2 models" in capsys.readouterr().out
    assert snapshot(runs["root"]) == sources  # nothing of the sources changed
    assert sorted(os.listdir(out)) == [rd.CONFIG, rd.MODEL, "source_vocab.txt",
                                       "target_vocab.txt"]
    assert not [n for n in os.listdir(tmp_path / "new" / "folders") if n != "avg"]
    mean, first, second = model_arrays(out), model_arrays(a), model_arrays(b)
    assert mean.keys() == first.keys() == second.keys()
    assert any(not np.array_equal(first[name], second[name]) for name in mean)
    for name in mean:
        assert mean[name].dtype == np.float32
        np.testing.assert_allclose(mean[name], (first[name] + second[name]) / 2,
                                   rtol=1e-6, atol=1e-7, err_msg=name)
    config = json.load(open(os.path.join(out, rd.CONFIG)))
    assert config["averaged"] == {"sources": [a, b], "weights": [0.5, 0.5]}
    original = json.load(open(os.path.join(a, rd.CONFIG)))
    for key in ("kind", "task", "task_options", "model", "max_length", "tokenizers",
                "fingerprint"):
        assert config[key] == original[key], key
    for name in ("source_vocab.txt", "target_vocab.txt"):
        assert open(os.path.join(out, name)).read() == open(os.path.join(a, name)).read()
    # predict and evaluate read it like any run.
    assert main(["predict", out, "abc", "hello"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["abc", "hello"]
    assert main(["evaluate", out]) == 0
    assert json.load(open(os.path.join(out, "metrics.json")))["metrics"]["count"] > 0


@pytest.mark.slow
def test_weighted_average_of_checkpoints_and_a_run(runs, tmp_path, capsys):
    a, b = runs["a"], runs["b"]
    out = tmp_path / "avg"
    out.mkdir()  # an empty folder is accepted
    sources = [checkpoint(a, 2), checkpoint(a, 3), b]
    assert main(["average", *sources, "--weights", "1", "2", "5", "--out", str(out)]) == 0
    capsys.readouterr()
    second, third, run_b = h5_arrays(sources[0]), h5_arrays(sources[1]), model_arrays(b)
    mean = model_arrays(str(out))
    assert mean.keys() == second.keys() == run_b.keys()
    for name in mean:
        expected = (1 * second[name].astype("float64") + 2 * third[name]
                    + 5 * run_b[name]) / 8
        np.testing.assert_allclose(mean[name], expected, rtol=1e-6, atol=1e-7,
                                   err_msg=name)
    config = json.load(open(out / rd.CONFIG))
    assert config["averaged"] == {"sources": sources, "weights": [0.125, 0.25, 0.625]}
    assert main(["predict", str(out), "abc"]) == 0
    assert capsys.readouterr().out.startswith("abc\t")


def edited_copy(run, folder, edit):
    """A copy of `run` in `folder`, its config.json changed by `edit(config)`."""
    shutil.copytree(run, folder)
    path = os.path.join(folder, rd.CONFIG)
    config = json.load(open(path))
    edit(config)
    with open(path, "w") as f:
        json.dump(config, f)
    return str(folder)


def other_target_vocabulary(config, folder):
    """Swap two tokens of the copy's target vocabulary, and its fingerprint."""
    from keras_seq.cli import fingerprint

    path = os.path.join(folder, "target_vocab.txt")
    lines = open(path, encoding="utf-8").read().splitlines()
    lines[-1], lines[-2] = lines[-2], lines[-1]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    tokenizer = rd.load_tokenizer(config["tokenizers"]["target"], path)
    config["fingerprint"]["vocabulary"]["target"] = fingerprint.of_vocabulary(tokenizer)


@pytest.mark.slow
def test_refusals_are_one_line_and_write_or_delete_nothing(runs, tmp_path, capsys):
    from keras_seq.cli.fit_loops import build_model

    a, b = runs["a"], runs["b"]
    copies = tmp_path / "copies"
    copies.mkdir()
    units = edited_copy(b, copies / "units", lambda c: c["model"].update(units=8))
    lowercase = edited_copy(
        b, copies / "lowercase",
        lambda c: c["tokenizers"]["source"]["config"].update(lowercase=True))
    vocabulary = str(copies / "vocabulary")
    edited_copy(b, vocabulary, lambda c: other_target_vocabulary(c, vocabulary))
    unfinished = edited_copy(a, copies / "unfinished", lambda c: None)
    os.remove(os.path.join(unfinished, rd.MODEL))
    corrupt = edited_copy(a, copies / "corrupt", lambda c: None)
    with open(checkpoint(corrupt, 3), "wb") as f:
        f.write(b"not an HDF5 file")
    loose = str(copies / "epoch-0003.weights.h5")
    shutil.copyfile(checkpoint(a, 3), loose)
    # A model.keras that is not the model its config.json describes.
    foreign = edited_copy(b, copies / "foreign", lambda c: None)
    config = json.load(open(os.path.join(b, rd.CONFIG)))
    sizes = [tokenizer.vocab_size for tokenizer in rd.load_tokenizers(b, config)]
    config["model"]["units"] = 8
    model = build_model(config, *sizes, config["max_length"])
    model.build()
    model.save(os.path.join(foreign, rd.MODEL))
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    a_file = tmp_path / "a_file"
    a_file.write_text("mine")
    before = snapshot(runs["root"], str(tmp_path))
    out = str(tmp_path / "missing" / "out")

    def refused(*args, out=out):
        assert main(["average", *args, "--out", out]) == 2
        return error_line(capsys)

    same = "only models of one architecture and vocabularies can be averaged"
    assert refused(a, units) == (
        f"keras-seq: error: {a} and {units} have different models (units: 16 vs 8): {same}")
    tokens = rd.load_tokenizers(a, rd.load_config(a))[1].vocabulary
    last = len(tokens) - 2  # other_target_vocabulary swapped the last two
    assert refused(a, vocabulary) == (
        f"keras-seq: error: {a} and {vocabulary} have different target tokenizers "
        f"(vocabulary at id {last}: {tokens[last]!r} vs {tokens[last + 1]!r}): {same}")
    assert refused(b, lowercase) == (
        f"keras-seq: error: {b} and {lowercase} have different source tokenizers "
        f"(option lowercase: False vs True): {same}")
    assert refused(a, foreign) == (
        "keras-seq: error: cannot average these sources: Invalid value for argument "
        f"`models`. Expected models with the config of {a}; they differ at "
        f"`encoder.config.units`. Received: {foreign} with encoder.config.units=4 "
        f"({a} has 8)")
    assert refused(a, unfinished) == (
        f"keras-seq: error: {unfinished} has no model.keras: training has not finished "
        "(average its checkpoints/ files instead)")
    assert refused(a, loose) == (
        f"keras-seq: error: {loose} is neither a run directory nor a checkpoint "
        "RUN/checkpoints/epoch-NNNN.weights.h5 of a keras-seq run")
    assert refused(a, str(copies / "nothing")) == (
        f"keras-seq: error: source not found: {copies / 'nothing'}")
    assert refused(a, str(copies)) == (
        f"keras-seq: error: run config not found: {copies / rd.CONFIG}")
    assert refused(a, checkpoint(corrupt, 3)).startswith(
        f"keras-seq: error: cannot load {checkpoint(corrupt, 3)}: corrupt checkpoint "
        f"or not one of {corrupt}'s model (")
    assert refused(a, b, "--weights", "1") == (
        "keras-seq: error: --weights takes one weight per SOURCE: received 1 for 2 sources")
    assert refused(a, b, out=str(full)) == (
        f"keras-seq: error: --out {full} is not empty; choose a new or empty folder "
        "(keras-seq never writes into or deletes files it did not create)")
    assert refused(a, b, out=str(a_file)) == (
        f"keras-seq: error: --out {a_file} exists and is not a folder; choose a new --out")
    with pytest.raises(SystemExit) as exit_info:
        main(["average", a, b, "--weights", "1", "0", "--out", out])
    assert exit_info.value.code == 2
    assert "argument --weights: expected a finite number > 0, got '0'" in error_line(capsys)
    assert snapshot(runs["root"], str(tmp_path)) == before  # nothing written or removed
    assert not os.path.exists(tmp_path / "missing")


def test_keep_checkpoints_needs_one_device_and_a_count(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert main(["train", *TINY, "--keep-checkpoints", "2", "--strategy", "mirrored",
                 "--out", out]) == 2
    assert error_line(capsys) == ("keras-seq: error: --keep-checkpoints applies only to "
                                  "--strategy none (received --strategy mirrored)")
    with pytest.raises(SystemExit) as exit_info:
        main(["train", *TINY, "--keep-checkpoints", "-1", "--out", out])
    assert exit_info.value.code == 2
    assert "argument --keep-checkpoints: expected an integer >= 0, got '-1'" in (
        error_line(capsys))
    assert not os.path.exists(out)

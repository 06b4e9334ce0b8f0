"""benchmarks/device_check.sh works before it first meets a GPU.

Device time is rare and short, so the script must run unattended the first
time. Its `--dry-run` mode runs every step at tiny sizes on this CPU; this
test checks that every step finishes and writes what a session records.
"""

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAMILIES = ("rnn", "bahdanau", "luong", "luong-feeding", "transformer")


def dry_run(out, timeout, **env):
    """Run the script's `--dry-run` into `out`; its summary.txt."""
    result = subprocess.run(
        ["bash", os.path.join(ROOT, "benchmarks", "device_check.sh"), str(out), "--dry-run"],
        capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "PYTHON": sys.executable, **env},
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return (out / "summary.txt").read_text()


@pytest.mark.slow
def test_device_check_dry_run_runs_every_step(tmp_path):
    out = tmp_path / "results"
    summary = dry_run(out, 1200)
    for name in ("throughput_float32", "throughput_xla", "throughput_mixed_float16",
                 "cudnn_profile", "g2p_transformer"):
        assert re.search(rf"^{name}: ok ", summary, re.M), summary
    assert "cuDNN used: no" in summary  # a CPU: the check reads, and says so

    def rows(name):
        text = (out / f"throughput_{name}.md").read_text()
        return re.findall(
            r"^\| ([\w-]+) \| ([\w ,-]+) \| [\d,]+ \| (\d+) \| ([\d.]+|-) \|$", text, re.M
        )

    float32 = rows("float32")
    assert {family for family, *_ in float32} == set(FAMILIES)
    for family, model, speed, ratio in float32:
        assert int(speed) > 0 and float(ratio) > 0  # every baseline trained
        if model == "hand-written":
            assert float(ratio) == 1.0
    xla = (out / "throughput_xla.md").read_text()
    # The dry run keeps XLA and mixed_float16 to one family each (time).
    assert {f for f, m, *_ in rows("xla") if m == "keras_seq"} == {"luong-feeding"}
    assert "kernel loop" in xla
    # Keras' scan sets no maximum_iterations: XLA cannot compile the gradient
    # of the hand-written input-feeding decoder (keras_seq's loops are bounded).
    assert "| luong-feeding | hand-written | - | failed: " in xla
    assert re.search(r"^\| luong-feeding \| keras_seq \| [\d,]+ \| \d+ \| - \|$", xla, re.M)
    assert {f for f, *_ in rows("mixed_float16")} == {"luong"}

    ops = (out / "cudnn_ops.txt").read_text()
    # The profile read executed ops: matmuls, which oneDNN renames on some CPUs.
    assert re.search(r"^(_Mkl)?MatMul \d+$", ops, re.M), ops
    graph_ops = (out / "cudnn_graph_ops.txt").read_text()
    assert re.search(r"^StatelessWhile \d+$", graph_ops, re.M)  # the CPU's loops
    assert "cuDNN possible: no; this batch takes the cuDNN branch: no" in graph_ops
    g2p = (out / "g2p_transformer.txt").read_text()
    assert re.search(r"^\| keras_seq .*\| [\d.]+ \| [\d.]+ \|$", g2p, re.M), g2p
    assert not (out / "g2p_transformer_run").exists()  # no weights in the results
    assert "tensorflow 2.21" in (out / "env.txt").read_text()


def test_device_check_runs_only_the_steps_named(tmp_path):
    out = tmp_path / "results"
    summary = dry_run(out, 300, ONLY="nothing-else")
    assert summary.startswith("env: python")
    assert not re.search(r"^(throughput|cudnn|g2p)", summary, re.M), summary
    assert not (out / "throughput_float32.md").exists()


@pytest.mark.slow
def test_device_check_ensemble_step_dry_run(tmp_path):
    """Issue 16's GPU step: members, an average of epochs, the ensemble."""
    out = tmp_path / "results"
    summary = dry_run(out, 900, ONLY="ensemble", ENSEMBLE_MEMBERS="2")
    for name in ("g2p_member_1", "g2p_member_2", "g2p_average", "g2p_ensemble"):
        assert re.search(rf"^{name}: ok ", summary, re.M), summary
        # each decoded the test words: its table row reached the summary
        assert re.search(rf"^{name}: \| keras_seq .*\| [\d.]+ \| [\d.]+ \|$", summary, re.M), summary
    assert re.search(r"^g2p_average: \| keras_seq average of \S+/m1/epoch-\d+, \S+/m1/epoch-",
                     summary, re.M), summary
    assert re.search(r"^g2p_ensemble: \| keras_seq ensemble of \S+/m1, \S+/m2,", summary,
                     re.M), summary
    assert not (out / "ensemble_runs").exists()  # no weights in the results
    assert not re.search(r"^(throughput|cudnn|g2p_transformer)", summary, re.M)


@pytest.mark.parametrize("own", ["g2p_transformer_run", "ensemble_runs"])
def test_device_check_refuses_an_out_dir_holding_a_folder_it_would_remove(tmp_path, own):
    # Steps 4 and 5 write models into OUT/<own> and remove it afterwards; a
    # folder of that name already there is not the script's to remove.
    out = tmp_path / "results"
    kept = out / own / "model.keras"
    kept.parent.mkdir(parents=True)
    kept.write_text("a user's model")
    result = subprocess.run(
        ["bash", os.path.join(ROOT, "benchmarks", "device_check.sh"), str(out), "--dry-run"],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHON": sys.executable, "ONLY": "g2p ensemble"},
    )
    assert result.returncode == 2
    assert f"{out / own} already exists" in result.stdout
    assert kept.read_text() == "a user's model"
    assert not (out / "env.txt").exists()  # refused before doing anything

"""Package-level contracts: constants and the backend check."""

import importlib
import os
import pkgutil
import re
import subprocess
import sys

import keras_seq

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_token_id_constants():
    assert (keras_seq.PAD, keras_seq.UNK, keras_seq.BOS, keras_seq.EOS) == (0, 1, 2, 3)


def test_other_keras_backend_fails_at_import_with_one_clear_error():
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(
        [sys.executable, "-c", "import keras_seq"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: keras_seq requires the TensorFlow Keras backend")
    assert "KERAS_BACKEND='jax'" in last


def readme_table():
    """{module: names} from the README's "What is in the package" table."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    table = text.split("## What is in the package", 1)[1].split("\n\n", 2)[1]
    rows = {}
    for line in table.splitlines()[2:]:
        module, names = line.strip("|").split("|")[:2]
        rows[module.strip().strip("`")] = set(re.findall(r"`(\w+)`", names))
    return rows


def test_public_names_are_exactly_the_readmes_table():
    rows = readme_table()
    packages = {f"keras_seq.{info.name}" for info in pkgutil.iter_modules(keras_seq.__path__)
                if info.ispkg and info.name != "cli"}
    assert set(rows) == packages
    for name, names in rows.items():
        module = importlib.import_module(name)
        assert set(module.__all__) == names, name
        for attribute in names:
            assert getattr(module, attribute).__module__.startswith("keras_seq."), attribute

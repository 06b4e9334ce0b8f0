"""Hostile inputs through the .tflite file's `generate` and `decode_step`.

All cases run in one child process, so a crash of the interpreter fails
the tests instead of killing pytest.
"""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter

    path, cases_path = sys.argv[1], sys.argv[2]
    interpreter = Interpreter(path)
    generate = interpreter.get_signature_runner("generate")
    results = {}

    def run(name, fn):
        try:
            results[name] = {k: v.tolist() for k, v in fn().items()}
        except Exception as e:  # a clear error is acceptable, a crash is not
            results[name] = {"error": f"{type(e).__name__}: {e}"}
        # The interpreter answers a normal request after every case.
        after = generate(encoder_ids=np.array([[4, 5, 6]], np.int32))
        results[name]["then_lengths"] = after["lengths"].tolist()

    cases = np.load(cases_path)
    for name in cases.files:
        run(name, lambda: generate(encoder_ids=cases[name]))

    # decode_step: NaN / inf in the float inputs, an id outside the vocabulary.
    encoded = interpreter.get_signature_runner("encode")(
        encoder_ids=np.array([[4, 5, 6]], np.int32))
    step = interpreter.get_signature_runner("decode_step")
    state = {k: v for k, v in encoded.items() if k.startswith("state_")}
    def step_with(fill, ids):
        return step(ids=np.array([ids], np.int32),
                    memory=np.full_like(encoded["memory"], fill),
                    memory_mask=encoded["memory_mask"],
                    **{k: np.full_like(v, fill) for k, v in state.items()})
    run("step_nan", lambda: step_with(np.nan, 4))
    run("step_inf", lambda: step_with(-np.inf, 4))
    run("step_zero", lambda: step_with(0.0, 4))
    run("step_unk", lambda: step_with(0.0, 1))
    run("step_id_outside", lambda: step_with(0.0, 99))
    print(json.dumps(results))
    """
)


@pytest.fixture(scope="module")
def results(exports, hostile, tmp_path_factory):
    cases = tmp_path_factory.mktemp("tflite_cases") / "cases.npz"
    np.savez(cases, **hostile.IDS)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, exports["tflite"], str(cases)],
        capture_output=True, text=True, timeout=300, env=hostile.env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


ERRORS = {
    # LiteRT's own checks, before or after the model runs.
    "float_ids": "ValueError: Cannot set tensor: Got value of type FLOAT32 but "
                 "expected type INT32",
    "nan_array": "ValueError: Cannot set tensor: Got value of type FLOAT32 but "
                 "expected type INT32",
    # The model runs; LiteRT's Python API cannot read a 0-row output.
    "batch_zero": "ValueError: Invalid tensor size.",
}


@pytest.mark.slow
def test_generate(ids_case, hostile, results, model):
    result = results[ids_case]
    normal = model.generate(np.array([[4, 5, 6]], np.int32))
    assert result["then_lengths"] == normal["lengths"].numpy().tolist()
    if ids_case in ERRORS:
        assert result["error"].startswith(ERRORS[ids_case])
        return
    assert "error" not in result, result["error"]
    out = {k: np.array(v) for k, v in result.items() if k != "then_lengths"}
    ids = hostile.IDS[ids_case]
    hostile.assert_defined(out, len(ids))
    reference = np.where((ids >= 0) & (ids < hostile.V), ids, 1)
    expected = model.generate(reference[:, : hostile.MAX_SOURCE_LENGTH])
    width = expected["ids"].shape[1]
    np.testing.assert_array_equal(out["ids"][:, :width], expected["ids"])
    assert np.all(out["ids"][:, width:] == 0)  # at least one column, PAD
    np.testing.assert_array_equal(out["lengths"], expected["lengths"])
    np.testing.assert_allclose(out["scores"], expected["scores"], atol=1e-4)


@pytest.mark.slow
def test_decode_step_reads_nan_and_inf_as_zero(results):
    zero = results["step_zero"]
    for case in ("step_nan", "step_inf"):
        got = results[case]
        assert "error" not in got, got["error"]
        assert set(got) == set(zero)
        for name in zero:
            assert np.all(np.isfinite(got[name])), name
            np.testing.assert_allclose(got[name], zero[name], atol=1e-6)


@pytest.mark.slow
def test_decode_step_reads_an_id_outside_the_vocabulary_as_unk(results):
    got, unk = results["step_id_outside"], results["step_unk"]
    assert "error" not in got, got["error"]
    np.testing.assert_allclose(got["logits"], unk["logits"], atol=1e-6)

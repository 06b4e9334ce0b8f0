"""TFLite export: builtins only, parity with Keras, app-driven loops."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from keras_seq.constants import BOS, EOS
from keras_seq.decoding import Beam, Greedy
from keras_seq.export import export_tflite, list_operators


def run_generate(path, sources):
    runner = Interpreter(str(path)).get_signature_runner("generate")
    return runner(encoder_ids=np.asarray(sources, np.int32))


def assert_same_ids(tflite_out, expected):
    lengths = expected["lengths"].numpy()
    np.testing.assert_array_equal(tflite_out["lengths"], lengths)
    width = expected["ids"].shape[1]
    np.testing.assert_array_equal(tflite_out["ids"][:, :width], expected["ids"])
    assert np.all(tflite_out["ids"][:, width:] == 0)
    np.testing.assert_allclose(tflite_out["scores"], expected["scores"], atol=1e-4)


# Beam search carries every decoding control (the attention ones where the
# decoder has attention), so every family is checked with every control too;
# greedy runs without any (and tests/export/test_controls.py runs both ways
# for one family per decoder class).
CONTROLS = dict(min_length=2, max_length_a=1.0, max_length_b=2, no_repeat_ngram_size=2,
                repetition_penalty=1.2, return_token_scores=True)


def _controls(family, strategy):
    if isinstance(strategy, Greedy):
        return {}
    if family.endswith("-plain"):
        return CONTROLS
    return {**CONTROLS, "coverage_penalty": 0.3, "return_attention": True}


@pytest.mark.slow
@pytest.mark.parametrize("strategy", [Greedy(), Beam(size=3)], ids=["greedy", "beam+controls"])
def test_every_family_converts_to_builtins_and_matches_keras(
    family, strategy, trained, sources, tmp_path
):
    model = trained(family)
    path = tmp_path / "model.tflite"
    controls = _controls(family, strategy)
    operators = export_tflite(model, path, strategy=strategy, **controls)
    # export_tflite already refuses Flex/custom ops; read the file again.
    on_disk = list_operators(str(path))
    assert on_disk == operators
    assert "WHILE" in on_disk
    assert not [op for op in on_disk if op.startswith("Flex") or op.islower()]
    interpreter = Interpreter(str(path))
    assert set(interpreter.get_signature_list()) == {"generate", "encode", "decode_step"}
    for batch in (sources[:1], sources[:3], sources[:3, :4], sources):
        out = run_generate(path, batch)
        expected = model.generate(batch, strategy=strategy, **controls)
        assert_same_ids(out, expected)
        for name in ("token_scores", "attention"):
            assert (name in out) == (name in expected)
            if name in expected:
                width = expected[name].shape[1]
                np.testing.assert_allclose(out[name][:, :width], expected[name], atol=1e-4)


def app_loop(path, sources, max_length=20):
    """Greedy decoding driven from Python over encode/decode_step."""
    interpreter = Interpreter(str(path))
    encoded = interpreter.get_signature_runner("encode")(encoder_ids=sources)
    step = interpreter.get_signature_runner("decode_step")
    state = {k: v for k, v in encoded.items() if k.startswith("state_")}
    ids = np.full((len(sources),), BOS, np.int32)
    done = np.zeros(len(sources), bool)
    out = []
    for _ in range(max_length):
        result = step(ids=ids, memory=encoded["memory"],
                      memory_mask=encoded["memory_mask"], **state)
        state = {k: v for k, v in result.items() if k.startswith("state_")}
        ids = result["logits"].argmax(-1).astype(np.int32)
        done |= ids == EOS
        out.append(np.where(done, 0, ids))
        if done.all():
            break
    return np.stack(out, 1)


@pytest.mark.slow
@pytest.mark.parametrize(
    "family", ["lstm-plain", "gru-bahdanau", "simple_rnn-luong", "transformer"]
)
def test_app_driven_loop_over_encode_and_decode_step(family, trained, sources, tmp_path):
    model = trained(family)
    path = tmp_path / "model.tflite"
    export_tflite(model, path, max_length=20)
    expected = model.generate(sources, max_length=20)["ids"].numpy()
    got = app_loop(path, sources)
    np.testing.assert_array_equal(got[:, : expected.shape[1]], expected)


@pytest.mark.slow
def test_transformer_decode_step_reads_an_index_outside_the_cache_as_its_end(
    trained, sources, tmp_path
):
    # The converter drops step's own check; without sanitizing, LiteRT failed
    # the invoke ("gather index out of bounds") or read a negative index as
    # another position.
    model = trained("transformer")  # max_length 20
    path = tmp_path / "model.tflite"
    export_tflite(model, path)
    interpreter = Interpreter(str(path))
    encoded = interpreter.get_signature_runner("encode")(encoder_ids=sources[:2])
    step = interpreter.get_signature_runner("decode_step")

    def at(index):
        state = {k: v for k, v in encoded.items() if k.startswith("state_")}
        state["state_index"] = np.full((2,), index, np.int32)
        return step(ids=np.array([BOS, BOS], np.int32), memory=encoded["memory"],
                    memory_mask=encoded["memory_mask"], **state)

    for index, reads_as in ((20, 19), (2**31 - 1, 19), (-1, 0), (-(2**31), 0)):
        got, expected = at(index), at(reads_as)
        np.testing.assert_array_equal(got["logits"], expected["logits"])
        np.testing.assert_array_equal(got["state_index"], [reads_as + 1] * 2)
    assert not np.allclose(at(19)["logits"], at(0)["logits"])
    # And in range the app loop still equals Keras (checked above for index
    # 0..n); the first step's logits are Keras' own.
    memory = model.encoder(sources[:2])
    keras_logits, _ = model.decoder.step(
        np.array([BOS, BOS], np.int32), model.decoder.initial_state(memory), memory
    )
    np.testing.assert_allclose(at(0)["logits"], keras_logits, atol=1e-4)


@pytest.mark.slow
def test_static_shapes_for_delegates(trained, sources, tmp_path):
    model = trained("gru-bahdanau")
    path = tmp_path / "static.tflite"
    export_tflite(model, path, max_source_length=7, batch_size=6)
    signatures = Interpreter(str(path)).get_signature_list()
    interpreter = Interpreter(str(path))
    encode = interpreter.get_signature_runner("encode")
    details = encode.get_input_details()["encoder_ids"]
    assert list(details["shape_signature"]) == [6, 7]
    step_inputs = interpreter.get_signature_runner("decode_step").get_input_details()
    assert all(-1 not in list(d["shape_signature"]) for d in step_inputs.values())
    assert "decode_step" in signatures
    expected = model.generate(sources, max_length=16)["ids"].numpy()
    got = app_loop(path, sources, max_length=16)
    np.testing.assert_array_equal(got[:, : expected.shape[1]], expected)


@pytest.mark.slow
@pytest.mark.parametrize("quantization", ["dynamic", "float16", "int8"])
def test_quantized_exports_are_smaller_builtins_only_and_agree(
    quantization, trained, sources, tmp_path, toy_task
):
    # Wide enough that the weights, not the graph, make up most of the file.
    model = trained("lstm-bahdanau", units=128)
    float_path = tmp_path / "float.tflite"
    export_tflite(model, float_path)
    path = tmp_path / f"{quantization}.tflite"
    x, _ = toy_task(16, seed=3)
    operators = export_tflite(
        model, path, quantization=quantization,
        representative_data=x["encoder_ids"] if quantization == "int8" else None,
    )
    assert not [op for op in operators if op.startswith("Flex")]
    ratio = os.path.getsize(path) / os.path.getsize(float_path)
    reference = run_generate(float_path, sources)
    out = run_generate(path, sources)
    width = min(out["ids"].shape[1], reference["ids"].shape[1])
    agreement = np.mean(out["ids"][:, :width] == reference["ids"][:, :width])
    print(f"{quantization}: size ratio {ratio:.2f}, id agreement {agreement:.2f}")
    assert ratio < 1.0
    assert agreement >= 0.5


def test_int8_needs_representative_data(trained, tmp_path):
    with pytest.raises(ValueError, match="`representative_data`"):
        export_tflite(trained("gru-luong"), tmp_path / "m.tflite", quantization="int8")
    with pytest.raises(ValueError, match="`quantization`"):
        export_tflite(trained("gru-luong"), tmp_path / "m.tflite", quantization="int4")


@pytest.mark.slow
def test_bad_input_never_crashes_the_interpreter(trained, tmp_path):
    path = tmp_path / "model.tflite"
    export_tflite(trained("transformer"), path, strategy=Beam(size=2),
                  max_source_length=5)
    script = textwrap.dedent(
        f"""
        import json
        import numpy as np
        from ai_edge_litert.interpreter import Interpreter
        runner = Interpreter({str(path)!r}).get_signature_runner("generate")
        results = {{}}
        cases = {{
            "empty_source": np.zeros((2, 0), np.int32),
            "all_pad": np.zeros((2, 3), np.int32),
            "out_of_range": np.array([[99, -3, 5]], np.int32),
            "too_long": np.full((1, 40), 5, np.int32),
            "batch_zero": np.zeros((0, 3), np.int32),
        }}
        for name, ids in cases.items():
            try:
                out = runner(encoder_ids=ids)
                results[name] = {{"lengths": out["lengths"].tolist(),
                                  "finite": bool(np.isfinite(out["scores"]).all())}}
            except Exception as e:  # a clear error is acceptable, a crash is not
                results[name] = {{"error": str(e)[:200]}}
        print(json.dumps(results))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    results = json.loads(result.stdout.strip().splitlines()[-1])
    assert results["empty_source"] == {"lengths": [0, 0], "finite": True}
    assert results["all_pad"] == {"lengths": [0, 0], "finite": True}
    assert results["out_of_range"]["finite"]
    assert results["too_long"]["finite"]
    # LiteRT refuses a tensor of zero rows before running: an error, no crash.
    assert list(results["batch_zero"]) == ["error"]
    assert "Invalid tensor size" in results["batch_zero"]["error"]

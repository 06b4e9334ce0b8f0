"""Smoke tests of examples/serve_request.py: no server, no network."""

import json
import os
import re
import subprocess
import sys

import pytest
from google.protobuf import text_format

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "examples", "serve_request.py")


def run(*args):
    return subprocess.run(
        [sys.executable, SCRIPT, *args], capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
def test_prints_the_rest_body_and_a_parsable_predict_request():
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    result = run("--model-name", "rev", "abc", "héllo")
    assert result.returncode == 0, result.stderr[-3000:]
    head, grpc_text = result.stdout.split("\ngRPC: tensorflow.serving.PredictionService/Predict\n")
    first, body = head.split("\n", 1)
    assert first == "REST: POST /v1/models/rev:predict"
    assert json.loads(body) == {
        "signature_name": "serving_default",
        "instances": [{"text": "abc"}, {"text": "héllo"}],
    }
    request = text_format.Parse(grpc_text, predict_pb2.PredictRequest())
    assert request.model_spec.name == "rev"
    assert request.model_spec.signature_name == "serving_default"
    texts = tf.make_ndarray(request.inputs["text"])
    assert [t.decode() for t in texts] == ["abc", "héllo"]


@pytest.mark.slow
def test_generate_ids_requests_pad_the_ids():
    result = run("--signature", "generate_ids", "5 6 7", "8")
    assert result.returncode == 0, result.stderr[-3000:]
    body = json.loads(result.stdout.split("\ngRPC:")[0].split("\n", 1)[1])
    assert body["instances"] == [{"encoder_ids": [5, 6, 7]}, {"encoder_ids": [8, 0, 0]}]
    assert "dtype: DT_INT32" in result.stdout


@pytest.mark.slow
def test_bad_address_and_bad_ids_give_one_line_and_exit_2():
    # "http://" has no host: urllib fails before opening any connection.
    for args in (["--rest", "http://", "abc"], ["--signature", "generate_ids", "x"]):
        result = run(*args)
        assert result.returncode == 2
        lines = [l for l in result.stderr.splitlines() if l.startswith("serve_request.py:")]
        assert len(lines) == 1 and "Traceback" not in result.stderr


@pytest.mark.slow
def test_request_runs_on_the_saved_model_like_the_server(tmp_path):
    import keras_seq
    from keras_seq.text import CharTokenizer

    tokenizer = CharTokenizer.from_corpus(["abcdefgh"])
    model = keras_seq.models.rnn_seq2seq(
        tokenizer.vocab_size, tokenizer.vocab_size, cell="gru", units=8,
        attention="luong",
    )
    path = keras_seq.export.export_saved_model(
        model, str(tmp_path / "rev" / "1"),
        source_tokenizer=tokenizer, target_tokenizer=tokenizer,
    )
    texts = ["abc", "hag", "ｂe"]  # full-width b reads as "b" (NFKC)
    expected = model.generate(tokenizer.tokenize(texts))
    expected = tokenizer.detokenize(expected["ids"], expected["lengths"]).numpy()

    result = run("--saved-model", path, *texts)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"SavedModel {path} (serving_default)" in result.stdout
    got = re.findall(r"^  '(.*)' -> score=\S+, text='(.*)'$", result.stdout, re.M)
    assert got == [(t, e.decode()) for t, e in zip(texts, expected)]
    assert "REST:" not in result.stdout  # nothing printed to send

    result = run("--saved-model", path, "--signature", "generate_ids", "4 5 6")
    assert result.returncode == 0, result.stderr[-3000:]
    assert re.search(r"'4 5 6' -> ids=\[.*\], lengths=\d+, scores=", result.stdout)

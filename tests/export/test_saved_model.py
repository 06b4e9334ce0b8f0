"""SavedModel export: TF Serving layout, signatures, parity, atomicity."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2

from keras_seq.constants import UNK
from keras_seq.decoding import Beam
from keras_seq.export import export_saved_model
from keras_seq.text import CharTokenizer

SERVING_FAMILIES = ["simple_rnn-plain", "lstm-bahdanau", "gru-luong", "transformer"]


def _graph_ops(path):
    """Every op type in the SavedModel's graph and its functions."""
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(path, "saved_model.pb"), "rb") as f:
        proto.ParseFromString(f.read())
    graph = proto.meta_graphs[0].graph_def
    ops = {node.op for node in graph.node}
    for function in graph.library.function:
        ops |= {node.op for node in function.node_def}
    return ops


@pytest.mark.slow
@pytest.mark.parametrize("method", ["greedy", "beam"])
@pytest.mark.parametrize("name", SERVING_FAMILIES)
def test_generate_ids_signature_matches_model_generate(name, method, trained, sources, tmp_path):
    model = trained(name)
    path = export_saved_model(model, tmp_path / "m" / "1", strategy=method)
    loaded = tf.saved_model.load(path)
    out = loaded.signatures["generate_ids"](encoder_ids=tf.constant(sources))
    expected = model.generate(sources, strategy=method)
    np.testing.assert_array_equal(out["ids"], expected["ids"])
    np.testing.assert_array_equal(out["lengths"], expected["lengths"])
    np.testing.assert_allclose(out["scores"], expected["scores"], atol=1e-5)
    ops = _graph_ops(path)
    assert "While" in ops or "StatelessWhile" in ops
    assert not {op for op in ops if op.startswith("Xla") or "PyFunc" in op}, ops
    assert not {op for op in ops if op.startswith("TensorList")}, ops


def _char_model(trained, toy_task):
    """The reversal model with character tokenizers for its symbols."""
    model = trained("lstm-bahdanau")
    # Ids 4..13 are the letters a..j: one character per symbol.
    vocabulary = ["<pad>", "<unk>", "<s>", "</s>"] + list("abcdefghij")
    tokenizer = CharTokenizer(vocabulary)
    return model, tokenizer


TEXTS = ["abc", "jihg", "a", "", "zz", "cafe\u0301", "ab cd"]


@pytest.fixture
def text_export(trained, toy_task, tmp_path):
    model, tokenizer = _char_model(trained, toy_task)
    path = export_saved_model(
        model,
        tmp_path / "g2p" / "1",
        source_tokenizer=tokenizer,
        target_tokenizer=tokenizer,
        strategy=Beam(size=3),
    )
    ids = tokenizer.tokenize(TEXTS)
    expected = model.generate(ids, strategy=Beam(size=3))
    texts = tokenizer.detokenize(expected["ids"], expected["lengths"]).numpy()
    return path, [t.decode() for t in texts], expected["scores"].numpy()


@pytest.mark.slow
def test_text_signature_is_serving_default(text_export):
    path, texts, scores = text_export
    loaded = tf.saved_model.load(path)
    assert set(loaded.signatures) == {"serving_default", "generate_ids"}
    out = loaded.signatures["serving_default"](text=tf.constant(TEXTS))
    assert [t.decode() for t in out["text"].numpy()] == texts
    np.testing.assert_allclose(out["score"], scores, atol=1e-5)
    assert texts[3] == "" and scores[3] == 0.0  # empty input, empty output


@pytest.mark.slow
def test_serving_prefix_signature(trained, toy_task, tmp_path):
    """Text and prefix strings in: each output starts with its prefix."""
    model, tokenizer = _char_model(trained, toy_task)
    path = export_saved_model(model, tmp_path / "p" / "1", source_tokenizer=tokenizer,
                              target_tokenizer=tokenizer, strategy=Beam(size=2),
                              target_prefix=True, no_repeat_ngram_size=2)
    loaded = tf.saved_model.load(path)
    assert set(loaded.signatures) == {"serving_default", "generate_ids",
                                      "generate_prefix_ids", "serving_prefix"}
    prefixes = ["j", "", "ab", "hh", "", "e", "zz"]  # "zz": unknown characters, read as UNK
    out = loaded.signatures["serving_prefix"](text=tf.constant(TEXTS),
                                              prefix=tf.constant(prefixes))
    expected = model.generate(tokenizer.tokenize(TEXTS), strategy=Beam(size=2),
                              target_prefix=tokenizer.tokenize(prefixes),
                              no_repeat_ngram_size=2)
    texts = tokenizer.detokenize(expected["ids"], expected["lengths"]).numpy()
    assert [t.decode() for t in out["text"].numpy()] == [t.decode() for t in texts]
    np.testing.assert_allclose(out["score"], expected["scores"], atol=1e-5)
    got = [t.decode() for t in out["text"].numpy()]
    assert got[0].startswith("j") and got[2].startswith("ab")
    assert got[3] == ""  # an empty source gives an empty output, prefix or not
    free = loaded.signatures["serving_default"](text=tf.constant(TEXTS))
    assert got[1] == free["text"].numpy()[1].decode()  # no prefix: decoded as without
    # One prefix per input, or the request is refused.
    with pytest.raises(tf.errors.InvalidArgumentError, match="one prefix per input"):
        loaded.signatures["serving_prefix"](text=tf.constant(TEXTS),
                                            prefix=tf.constant(prefixes[:2]))


@pytest.mark.slow
def test_replace_unknown_target_in_the_text_signatures(trained, toy_task, tmp_path):
    """A prefix of an unknown character forces UNK first; it reads as the
    source character the model attended to most at that step."""
    model, tokenizer = _char_model(trained, toy_task)
    path = export_saved_model(model, tmp_path / "u" / "1", source_tokenizer=tokenizer,
                              target_tokenizer=tokenizer, target_prefix=True,
                              replace_unknown_target=True)
    loaded = tf.saved_model.load(path)
    texts, prefixes = ["abc", "jihg", "qe"], ["z", "", "z"]
    out = loaded.signatures["serving_prefix"](text=tf.constant(texts),
                                              prefix=tf.constant(prefixes))
    expected = model.generate(tokenizer.tokenize(texts), return_attention=True,
                              target_prefix=tokenizer.tokenize(prefixes))
    ids, attention = expected["ids"].numpy(), expected["attention"].numpy()
    assert ids[0, 0] == UNK and ids[2, 0] == UNK
    got = [t.decode() for t in out["text"].numpy()]
    for row in (0, 2):
        source = texts[row][int(np.argmax(attention[row, 0]))]
        assert got[row][0] == source, (got, source)
        rest = tokenizer.detokenize(ids[row:row + 1, 1:], expected["lengths"][row:row + 1] - 1)
        assert got[row][1:] == rest.numpy()[0].decode()
    assert "<unk>" not in "".join(got)
    plain = loaded.signatures["generate_prefix_ids"](
        encoder_ids=tokenizer.tokenize(texts), prefix_ids=tokenizer.tokenize(prefixes))
    np.testing.assert_allclose(plain["attention"], attention, atol=1e-5)


def test_replace_unknown_target_is_refused_without_attention_or_tokenizers(
        trained, toy_task, tmp_path):
    model, tokenizer = _char_model(trained, toy_task)
    with pytest.raises(ValueError, match="`replace_unknown_target`.*tokenizers"):
        export_saved_model(model, tmp_path / "a" / "1", replace_unknown_target=True)
    with pytest.raises(ValueError, match="`replace_unknown_target`.*decoder with attention"):
        export_saved_model(trained("gru-plain"), tmp_path / "b" / "1",
                           source_tokenizer=tokenizer, target_tokenizer=tokenizer,
                           replace_unknown_target=True)
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_fresh_process_with_only_tensorflow_loads_both_signatures(text_export):
    path, texts, _ = text_export
    script = textwrap.dedent(
        f"""
        import json, sys
        sys.modules["keras_seq"] = None  # importing keras_seq now fails
        import tensorflow as tf
        import tensorflow_text  # noqa: F401  (the model server links its ops)
        loaded = tf.saved_model.load({str(path)!r})
        text = loaded.signatures["serving_default"](text=tf.constant({TEXTS!r}))
        ids = loaded.signatures["generate_ids"](
            encoder_ids=tf.constant([[4, 5, 6], [7, 0, 0]]))
        print(json.dumps({{
            "text": [t.decode() for t in text["text"].numpy()],
            "ids": ids["ids"].numpy().tolist(),
            "keras_seq": any(m.startswith("keras_seq") and sys.modules[m]
                             for m in sys.modules),
        }}))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["text"] == texts
    assert not out["keras_seq"]
    assert len(out["ids"]) == 2


@pytest.mark.slow
def test_saved_model_cli_lists_the_signatures(text_export):
    path, _, _ = text_export
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    result = subprocess.run(
        [cli, "show", "--dir", str(path), "--all"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    shown = result.stdout
    assert "signature_def['serving_default']" in shown
    assert "signature_def['generate_ids']" in shown
    for name in ("inputs['text']", "outputs['score']", "inputs['encoder_ids']",
                 "outputs['lengths']"):
        assert name in shown


@pytest.mark.slow
def test_predict_request_runs_like_the_model_server(text_export):
    path, texts, _ = text_export
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "g2p"
    request.model_spec.signature_name = "serving_default"
    request.inputs["text"].CopyFrom(tf.make_tensor_proto(TEXTS, dtype=tf.string))
    wire = request.SerializeToString()
    received = predict_pb2.PredictRequest.FromString(wire)
    loaded = tf.saved_model.load(path)
    signature = loaded.signatures[received.model_spec.signature_name]
    inputs = {k: tf.constant(tf.make_ndarray(v)) for k, v in received.inputs.items()}
    out = signature(**inputs)
    assert [t.decode() for t in out["text"].numpy()] == texts


def test_existing_version_is_not_overwritten_unless_asked(trained, sources, tmp_path):
    model = trained("gru-luong")
    path = tmp_path / "m" / "1"
    export_saved_model(model, path)
    marker = path / "marker"
    marker.write_text("mine")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        export_saved_model(model, path)
    assert marker.read_text() == "mine"
    export_saved_model(model, path, strategy="beam", overwrite=True)
    assert not marker.exists()
    assert tf.saved_model.load(str(path)).signatures["generate_ids"]
    assert sorted(os.listdir(tmp_path / "m")) == ["1"]


def test_failed_export_leaves_no_partial_directory(trained, tmp_path, monkeypatch):
    model = trained("gru-luong")

    def broken_save(obj, export_dir, signatures=None):
        os.makedirs(os.path.join(export_dir, "variables"))
        with open(os.path.join(export_dir, "saved_model.pb"), "wb") as f:
            f.write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(tf.saved_model, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        export_saved_model(model, tmp_path / "m" / "2")
    assert os.listdir(tmp_path / "m") == []


def test_bad_input_gives_defined_output(trained, tmp_path):
    model = trained("transformer")
    path = export_saved_model(model, tmp_path / "m" / "1", max_source_length=5)
    generate = tf.saved_model.load(path).signatures["generate_ids"]
    empty_batch = generate(encoder_ids=tf.zeros((0, 4), tf.int32))
    assert empty_batch["ids"].shape[0] == 0 and empty_batch["lengths"].shape == (0,)
    no_columns = generate(encoder_ids=tf.zeros((2, 0), tf.int32))
    assert no_columns["lengths"].numpy().tolist() == [0, 0]
    assert no_columns["scores"].numpy().tolist() == [0.0, 0.0]
    wild = generate(encoder_ids=tf.constant([[99, -7, 5, 6, 7, 8, 9, 10, 11, 12]]))
    unk = generate(encoder_ids=tf.constant([[1, 1, 5, 6, 7]]))  # UNK, truncated
    np.testing.assert_array_equal(wild["ids"], unk["ids"])
    assert np.all(np.isfinite(wild["scores"].numpy()))


def test_mismatched_tokenizers_error(trained, tmp_path):
    tokenizer = CharTokenizer(["<pad>", "<unk>", "<s>", "</s>", "a"])
    with pytest.raises(ValueError, match="`source_tokenizer`"):
        export_saved_model(trained("gru-luong"), tmp_path / "x" / "1",
                           source_tokenizer=tokenizer)
    with pytest.raises(ValueError, match="`strategy`.*'greedy' or 'beam'.*Sample"):
        export_saved_model(trained("gru-luong"), tmp_path / "x" / "1", strategy="sample")
    with pytest.raises(ValueError, match="`strategy`.*one hypothesis.*num_return=2"):
        export_saved_model(trained("gru-luong"), tmp_path / "x" / "1",
                           strategy=Beam(num_return=2))
    assert not (tmp_path / "x").exists()

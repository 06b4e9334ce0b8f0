"""An Ensemble exports like a model: Keras = SavedModel = LiteRT."""

import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

from keras_seq.decoding import Beam, Greedy
from keras_seq.export import export_saved_model, export_tflite, list_operators
from keras_seq.models import Ensemble
from keras_seq.text import CharTokenizer
from tests.export.test_tflite import app_loop

MIX = ["gru-plain", "lstm-luong", "transformer"]
WEIGHTS = [5, 3, 2]
# Controls that bite on the reversal task (see test_controls.py).
CONTROLS = dict(min_length=2, no_repeat_ngram_size=2, repetition_penalty=1.3,
                return_token_scores=True, return_attention=True)
# Ids 4..13 are the letters a..j (see test_saved_model.py).
TOKENIZER = CharTokenizer(["<pad>", "<unk>", "<s>", "</s>"] + list("abcdefghij"))
TEXTS = ["abc", "jihg", "a", "", "cafe", "bad"]


@pytest.fixture
def ensemble(trained):
    return Ensemble([trained(name) for name in MIX], weights=WEIGHTS)


def _same(out, expected, atol):
    width = expected["ids"].shape[1]
    np.testing.assert_array_equal(out["lengths"], expected["lengths"])
    np.testing.assert_array_equal(np.asarray(out["ids"])[:, :width], expected["ids"])
    assert np.all(np.asarray(out["ids"])[:, width:] == 0)
    np.testing.assert_allclose(out["scores"], expected["scores"], atol=atol)
    for name in ("token_scores", "attention"):
        assert (name in out) == (name in expected)
        if name in expected:
            np.testing.assert_allclose(np.asarray(out[name])[:, :width], expected[name],
                                       atol=atol)


@pytest.mark.slow
@pytest.mark.parametrize("strategy", [Greedy(), Beam(size=3)], ids=["greedy", "beam"])
def test_an_ensemble_exports_to_one_saved_model_and_one_tflite(
        ensemble, strategy, sources, tmp_path):
    controls = dict(CONTROLS, coverage_penalty=0.3) if isinstance(strategy, Beam) else CONTROLS
    expected = ensemble.generate(sources, strategy=strategy, **controls)
    for member in ensemble.members:  # the ensemble decodes differently from each
        alone = member.generate(sources, strategy=strategy)
        assert not np.allclose(alone["scores"], expected["scores"], atol=1e-3)

    saved = export_saved_model(ensemble, tmp_path / "e" / "1", strategy=strategy,
                               source_tokenizer=TOKENIZER, target_tokenizer=TOKENIZER,
                               **controls)
    loaded = tf.saved_model.load(saved)
    _same(loaded.signatures["generate_ids"](encoder_ids=tf.constant(sources)), expected, 1e-5)
    texts = loaded.signatures["serving_default"](text=tf.constant(TEXTS))["text"].numpy()
    ids = TOKENIZER.tokenize(TEXTS)
    by_keras = ensemble.generate(ids, strategy=strategy, **controls)
    expected_texts = TOKENIZER.detokenize(by_keras["ids"], by_keras["lengths"]).numpy()
    assert texts.tolist() == expected_texts.tolist()
    assert any(texts)  # something was decoded

    path = tmp_path / "e.tflite"
    operators = export_tflite(ensemble, path, strategy=strategy, **controls)
    assert list_operators(str(path)) == operators
    assert not [op for op in operators if op.startswith("Flex") or op.islower()]
    interpreter = Interpreter(str(path))
    assert set(interpreter.get_signature_list()) == {"generate", "encode", "decode_step"}
    runner = interpreter.get_signature_runner("generate")
    for batch in (sources[:1], sources[:3, :4], sources):
        _same(runner(encoder_ids=batch), ensemble.generate(batch, strategy=strategy,
                                                           **controls), 1e-4)


@pytest.mark.slow
def test_decode_step_carries_every_members_state(ensemble, sources, tmp_path):
    path = tmp_path / "e.tflite"
    export_tflite(ensemble, path, max_length=20)
    interpreter = Interpreter(str(path))
    inputs = set(interpreter.get_signature_runner("decode_step").get_input_details())
    # One memory (the members' side by side) and every member's state.
    assert {"ids", "memory", "memory_mask", "state_member_0_rnn_0_0",
            "state_member_1_feed", "state_memory_1_keys", "state_member_2_index",
            "state_memory_2_keys_0", "state_attention"} <= inputs
    encoded = interpreter.get_signature_runner("encode")(encoder_ids=sources)
    width = sum(m.encoder.output_dim for m in ensemble.members)
    assert encoded["memory"].shape == (*sources.shape, width)
    expected = ensemble.generate(sources, max_length=20)["ids"].numpy()
    got = app_loop(path, sources)
    np.testing.assert_array_equal(got[:, : expected.shape[1]], expected)
    assert np.all(got[:, expected.shape[1]:] == 0)

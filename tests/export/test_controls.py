"""Decoding controls through every runtime: Keras = SavedModel = LiteRT."""

import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

from keras_seq.decoding import Beam, Greedy
from keras_seq.export import export_saved_model, export_tflite
from keras_seq.export.tflite_ops import list_operators

# One family per decoder class (RNNDecoder, AttentionRNNDecoder with each
# attention, TransformerDecoder).
DECODER_FAMILIES = ["gru-plain", "lstm-bahdanau", "lstm-luong", "transformer"]
# Every control at once, set so that each one bites on the reversal task:
# repeated symbols meet the n-gram block and the repetition penalty, the
# bound S + 1 is one token short of (reversal + EOS) only for rows the
# prefix lengthens, and min_length outlasts the shortest sources.
CONTROLS = dict(min_length=3, max_length_a=1.0, max_length_b=1, no_repeat_ngram_size=2,
                repetition_penalty=1.5, return_token_scores=True)
# Rows of different prefix lengths, and one with none.
PREFIX = [[9, 0, 0], [0, 0, 0], [4, 4, 0], [6, 0, 0], [12, 11, 10], [0, 0, 0], [5, 0, 0],
          [0, 0, 0]]


@pytest.fixture
def control_sources(sources):
    repeats = np.array([[5, 5, 5, 5, 6, 0, 0], [7, 8, 7, 8, 7, 8, 0]], np.int32)
    return np.concatenate([sources, repeats])


def _same(out, expected, atol):
    width = expected["ids"].shape[1]
    np.testing.assert_array_equal(out["lengths"], expected["lengths"])
    np.testing.assert_array_equal(np.asarray(out["ids"])[:, :width], expected["ids"])
    np.testing.assert_allclose(out["scores"], expected["scores"], atol=atol)
    np.testing.assert_allclose(np.asarray(out["token_scores"])[:, :width],
                               expected["token_scores"], atol=atol)
    assert ("attention" in out) == ("attention" in expected)
    if "attention" in expected:
        np.testing.assert_allclose(np.asarray(out["attention"])[:, :width],
                                   expected["attention"], atol=atol)


def _controls(family, strategy):
    """CONTROLS, with the attention controls where the decoder has attention."""
    controls = dict(CONTROLS)
    if family != "gru-plain":
        controls["return_attention"] = True
        if isinstance(strategy, Beam):
            controls["coverage_penalty"] = 0.5
    return controls


@pytest.mark.slow
@pytest.mark.parametrize("strategy", [Greedy(), Beam(size=2)], ids=["greedy", "beam"])
@pytest.mark.parametrize("family", DECODER_FAMILIES)
def test_controls_in_every_runtime(family, strategy, trained, control_sources, tmp_path):
    model = trained(family)
    controls = _controls(family, strategy)
    prefix = np.array(PREFIX, np.int32)
    expected = model.generate(control_sources, strategy=strategy, **controls)
    with_prefix = model.generate(control_sources, strategy=strategy, target_prefix=prefix,
                                 **controls)
    free = model.generate(control_sources, strategy=strategy)
    assert expected["ids"].shape != free["ids"].shape or not np.array_equal(
        expected["ids"], free["ids"])  # the controls changed something
    for b, row in enumerate(PREFIX):
        forced = [t for t in row if t]
        assert with_prefix["ids"][b, :len(forced)].numpy().tolist() == forced

    saved = export_saved_model(model, tmp_path / "m" / "1", strategy=strategy,
                               target_prefix=True, **controls)
    loaded = tf.saved_model.load(saved)
    assert set(loaded.signatures) == {"serving_default", "generate_ids",
                                      "generate_prefix_ids"}
    ids = tf.constant(control_sources)
    _same(loaded.signatures["generate_ids"](encoder_ids=ids), expected, 1e-5)
    _same(loaded.signatures["generate_prefix_ids"](encoder_ids=ids,
                                                   prefix_ids=tf.constant(prefix)),
          with_prefix, 1e-5)

    path = tmp_path / "m.tflite"
    operators = export_tflite(model, path, strategy=strategy, target_prefix=True, **controls)
    assert not [op for op in operators if op.startswith("Flex") or op.islower()]
    assert "SCATTER_ND" in list_operators(str(path))  # the blocks are in there
    interpreter = Interpreter(str(path))
    assert set(interpreter.get_signature_list()) == {"generate", "generate_prefix", "encode",
                                                     "decode_step"}
    _same(interpreter.get_signature_runner("generate")(encoder_ids=control_sources),
          expected, 1e-4)
    _same(interpreter.get_signature_runner("generate_prefix")(
        encoder_ids=control_sources, prefix_ids=prefix), with_prefix, 1e-4)


def test_controls_are_checked_before_anything_is_written(trained, sources, tmp_path):
    model = trained("gru-luong")
    for bad in (dict(min_length=-1), dict(no_repeat_ngram_size=2.5),
                dict(repetition_penalty=0), dict(max_length_b=-2)):
        (name,) = bad
        with pytest.raises(ValueError, match=f"argument `{name}`"):
            model.generate(sources, **bad)
        with pytest.raises(ValueError, match=f"argument `{name}`"):
            export_saved_model(model, tmp_path / "x" / "1", **bad)
        with pytest.raises(ValueError, match=f"argument `{name}`"):
            export_tflite(model, tmp_path / "x.tflite", **bad)
    with pytest.raises(ValueError, match="Unknown keyword argument `beam_size`"):
        export_tflite(model, tmp_path / "x.tflite", beam_size=4)
    with pytest.raises(ValueError, match="`coverage_penalty`.*beam search"):
        export_tflite(model, tmp_path / "x.tflite", coverage_penalty=0.2)
    plain = trained("gru-plain")
    for name in ("return_attention", "coverage_penalty"):
        value = True if name == "return_attention" else 0.2
        with pytest.raises(ValueError, match=f"`{name}`. It needs a decoder with attention"):
            plain.generate(sources, strategy=Beam(size=2), **{name: value})
        with pytest.raises(ValueError, match=f"`{name}`. It needs a decoder with attention"):
            export_saved_model(plain, tmp_path / "x" / "1", strategy=Beam(size=2),
                               **{name: value})
    assert not list(tmp_path.iterdir())

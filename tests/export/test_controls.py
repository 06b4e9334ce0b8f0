"""Decoding controls through every runtime: Keras = SavedModel = LiteRT."""

import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

from keras_seq.decoding import Beam, Greedy
from keras_seq.export import export_saved_model, export_tflite

# One family per decoder class (RNNDecoder, AttentionRNNDecoder with each
# attention, TransformerDecoder).
DECODER_FAMILIES = ["gru-plain", "lstm-bahdanau", "lstm-luong", "transformer"]


@pytest.mark.slow
@pytest.mark.parametrize("strategy", [Greedy(), Beam(size=2)], ids=["greedy", "beam"])
@pytest.mark.parametrize("family", DECODER_FAMILIES)
def test_min_length_in_every_runtime(family, strategy, trained, sources, tmp_path):
    model = trained(family)
    min_length = 9  # longer than any reversal of these sources (at most 7)
    expected = model.generate(sources, strategy=strategy, min_length=min_length)
    lengths = expected["lengths"].numpy()
    assert np.all(lengths >= min_length)
    free = model.generate(sources, strategy=strategy)
    assert np.any(free["lengths"].numpy() < min_length)  # the control changed something

    saved = export_saved_model(model, tmp_path / "m" / "1", strategy=strategy,
                               min_length=min_length)
    out = tf.saved_model.load(saved).signatures["generate_ids"](
        encoder_ids=tf.constant(sources))
    np.testing.assert_array_equal(out["lengths"], lengths)
    np.testing.assert_array_equal(out["ids"], expected["ids"])
    np.testing.assert_allclose(out["scores"], expected["scores"], atol=1e-5)

    path = tmp_path / "m.tflite"
    operators = export_tflite(model, path, strategy=strategy, min_length=min_length)
    assert not [op for op in operators if op.startswith("Flex") or op.islower()]
    lite = Interpreter(str(path)).get_signature_runner("generate")(
        encoder_ids=np.asarray(sources, np.int32))
    np.testing.assert_array_equal(lite["lengths"], lengths)
    width = expected["ids"].shape[1]
    np.testing.assert_array_equal(lite["ids"][:, :width], expected["ids"])
    np.testing.assert_allclose(lite["scores"], expected["scores"], atol=1e-4)


def test_min_length_is_checked_before_anything_is_written(trained, sources, tmp_path):
    model = trained("gru-luong")
    for bad in (-1, 2.5):
        with pytest.raises(ValueError, match="argument `min_length`"):
            model.generate(sources, min_length=bad)
        with pytest.raises(ValueError, match="argument `min_length`"):
            export_saved_model(model, tmp_path / "x" / "1", min_length=bad)
        with pytest.raises(ValueError, match="argument `min_length`"):
            export_tflite(model, tmp_path / "x.tflite", min_length=bad)
    assert not list(tmp_path.iterdir())

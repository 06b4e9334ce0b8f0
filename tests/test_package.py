"""Package-level contracts: constants and the backend check."""

import os
import subprocess
import sys

import keras_seq


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


def test_public_names():
    for module, names in {
        keras_seq.layers: ["BahdanauAttention", "LuongAttention", "PositionalEmbedding",
                           "TransformerEncoderBlock", "TransformerDecoderBlock",
                           "use_kernel"],
        keras_seq.encoders: ["RNNEncoder", "TransformerEncoder", "EncoderOutput"],
        keras_seq.decoders: ["RNNDecoder", "AttentionRNNDecoder", "TransformerDecoder"],
        keras_seq.models: ["Seq2Seq", "rnn_seq2seq", "transformer_seq2seq"],
        keras_seq.export: ["export_saved_model", "export_tflite"],
        keras_seq.decoding: ["greedy_search", "beam_search", "sample"],
        keras_seq.text: ["CharTokenizer", "SymbolTokenizer"],
    }.items():
        for name in names:
            assert hasattr(module, name), f"{module.__name__}.{name}"

"""Encoders: each returns an `EncoderOutput`."""

from keras_seq.encoders.encoder_output import EncoderOutput
from keras_seq.encoders.ensemble_encoder import EnsembleEncoder
from keras_seq.encoders.rnn_encoder import RNNEncoder
from keras_seq.encoders.transformer_encoder import TransformerEncoder

__all__ = [
    "EncoderOutput",
    "EnsembleEncoder",
    "RNNEncoder",
    "TransformerEncoder",
]

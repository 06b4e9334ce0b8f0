"""Encoders: each returns an `EncoderOutput`."""

from keras_seq.encoders.encoder_output import EncoderOutput
from keras_seq.encoders.rnn_encoder import RNNEncoder
from keras_seq.encoders.transformer_encoder import TransformerEncoder

__all__ = [
    "EncoderOutput",
    "RNNEncoder",
    "TransformerEncoder",
]

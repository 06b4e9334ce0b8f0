"""Decoders: `initial_state`, `call` (teacher forcing) and `step`."""

from keras_seq.decoders.attention_rnn_decoder import AttentionRNNDecoder
from keras_seq.decoders.decoder import Decoder
from keras_seq.decoders.ensemble_decoder import EnsembleDecoder
from keras_seq.decoders.rnn_decoder import RNNDecoder
from keras_seq.decoders.transformer_decoder import TransformerDecoder

__all__ = [
    "AttentionRNNDecoder",
    "Decoder",
    "EnsembleDecoder",
    "RNNDecoder",
    "TransformerDecoder",
]

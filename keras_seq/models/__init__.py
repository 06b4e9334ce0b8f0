"""Seq2Seq models and their builders."""

from keras_seq.models.average_weights import average_weights
from keras_seq.models.builders import rnn_seq2seq, transformer_seq2seq
from keras_seq.models.ensemble import Ensemble
from keras_seq.models.seq2seq import Seq2Seq

__all__ = [
    "Ensemble",
    "Seq2Seq",
    "average_weights",
    "rnn_seq2seq",
    "transformer_seq2seq",
]

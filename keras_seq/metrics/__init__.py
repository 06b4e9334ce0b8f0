"""Losses and metrics that ignore PAD."""

from keras_seq.metrics.masked_sparse_cross_entropy import MaskedSparseCrossEntropy
from keras_seq.metrics.sequence_accuracy import SequenceAccuracy
from keras_seq.metrics.token_accuracy import TokenAccuracy

"""Training losses and metrics that ignore PAD; string metrics after decoding."""

from keras_seq.metrics.masked_sparse_cross_entropy import MaskedSparseCrossEntropy
from keras_seq.metrics.sequence_accuracy import SequenceAccuracy
from keras_seq.metrics.token_accuracy import TokenAccuracy
from keras_seq.metrics.bleu import corpus_bleu
from keras_seq.metrics.by_length import by_length, format_table
from keras_seq.metrics.edit_distance import edit_distance
from keras_seq.metrics.error_rates import exact_match, token_error_rate, word_error_rate

__all__ = [
    "MaskedSparseCrossEntropy",
    "SequenceAccuracy",
    "TokenAccuracy",
    "by_length",
    "corpus_bleu",
    "edit_distance",
    "exact_match",
    "format_table",
    "token_error_rate",
    "word_error_rate",
]

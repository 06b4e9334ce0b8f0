"""Tasks (cmudict, synthetic, the user's files) and tf.data pipelines."""

from keras_seq.data.addition import addition
from keras_seq.data.cmudict import cmudict
from keras_seq.data.copy import copy
from keras_seq.data.dates import dates
from keras_seq.data.from_files import from_files
from keras_seq.data.from_tsv import from_tsv
from keras_seq.data.limit_lengths import limit_lengths
from keras_seq.data.load_task import load_task
from keras_seq.data.pipelines import make_dataset, set_epoch
from keras_seq.data.reverse import reverse
from keras_seq.data.sort import sort
from keras_seq.data.task import Task
# Also here, where it was first published; it is a tokenizer (keras_seq.text).
from keras_seq.text.wordpiece_tokenizer import WordPieceTokenizer

__all__ = [
    "Task",
    "WordPieceTokenizer",
    "addition",
    "cmudict",
    "copy",
    "dates",
    "from_files",
    "from_tsv",
    "limit_lengths",
    "load_task",
    "make_dataset",
    "reverse",
    "set_epoch",
    "sort",
]

"""keras_seq: sequence-to-sequence layers and models for Keras 3 (TensorFlow)."""

from keras_seq.backend_check import check_backend

check_backend()

from keras_seq.constants import BOS, EOS, PAD, UNK  # noqa: E402,F401

from keras_seq import data  # noqa: E402
from keras_seq import decoders  # noqa: E402
from keras_seq import decoding  # noqa: E402
from keras_seq import encoders  # noqa: E402
from keras_seq import export  # noqa: E402
from keras_seq import layers  # noqa: E402
from keras_seq import metrics  # noqa: E402
from keras_seq import models  # noqa: E402
from keras_seq import text  # noqa: E402
from keras_seq import training  # noqa: E402
from keras_seq import viz  # noqa: E402

__version__ = "0.1.0"

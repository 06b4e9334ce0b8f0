"""Decoding strategies that drive a step callable and never import models."""

from keras_seq.decoding.beam_search import beam_search  # noqa: F401
from keras_seq.decoding.greedy_search import greedy_search  # noqa: F401
from keras_seq.decoding.reorder_state import reorder_state  # noqa: F401
from keras_seq.decoding.sample import sample  # noqa: F401
from keras_seq.decoding.tile_beams import tile_beams  # noqa: F401

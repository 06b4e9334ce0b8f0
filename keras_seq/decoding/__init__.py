"""Decoding strategies that drive a step callable and never import models."""

from keras_seq.decoding.beam_search import beam_search
from keras_seq.decoding.greedy_search import greedy_search
from keras_seq.decoding.reorder_state import reorder_state
from keras_seq.decoding.sample import sample
from keras_seq.decoding.tile_beams import tile_beams

__all__ = [
    "beam_search",
    "greedy_search",
    "reorder_state",
    "sample",
    "tile_beams",
]

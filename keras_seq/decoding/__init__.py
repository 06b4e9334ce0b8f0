"""Decoding strategies that drive a step callable and never import models.

The strategies are values (`Greedy()`, `Beam(size=4)`, `Sample(...)`, or a
name that `get` resolves), and so are the constraints on what they emit
(`Controls`); the loops they run are functions
(`greedy_search`, `beam_search`, `sample`) over a step callable.
"""

from keras_seq.decoding.beam_search import beam_search
from keras_seq.decoding.controls import Controls
from keras_seq.decoding.greedy_search import greedy_search
from keras_seq.decoding.reorder_state import reorder_state
from keras_seq.decoding.sample import sample
from keras_seq.decoding.strategies import Beam, Greedy, Sample, Strategy, get
from keras_seq.decoding.tile_beams import tile_beams

__all__ = [
    "Beam",
    "Controls",
    "Greedy",
    "Sample",
    "Strategy",
    "beam_search",
    "get",
    "greedy_search",
    "reorder_state",
    "sample",
    "tile_beams",
]

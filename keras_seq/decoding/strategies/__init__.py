"""Decoding strategies as values: Greedy, Beam, Sample, and `get`."""

from keras_seq.decoding.strategies.beam import Beam
from keras_seq.decoding.strategies.greedy import Greedy
from keras_seq.decoding.strategies.sample import Sample
from keras_seq.decoding.strategies.strategy import Strategy, get

__all__ = ["Beam", "Greedy", "Sample", "Strategy", "get"]

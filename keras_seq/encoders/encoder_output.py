"""The one output type of every keras_seq encoder."""

import collections

EncoderOutput = collections.namedtuple(
    "EncoderOutput", ["sequence", "state", "padding_mask"]
)
EncoderOutput.__doc__ = """What every keras_seq encoder returns.

Fields:
    sequence: float tensor `(B, S, D)`, the encoder's output at every source
        position (zeros at padded positions for RNN encoders).
    state: the final recurrent states, a tuple with one entry per layer, each
        a tuple of tensors `(B, D)` (`(h,)` for SimpleRNN/GRU, `(h, c)` for
        LSTM; a bidirectional layer concatenates both directions). Encoders
        without recurrence return the empty tuple `()` (falsy, like `None`,
        but allowed as an output of a Keras functional model).
    padding_mask: boolean tensor `(B, S)`, True at real tokens.
"""

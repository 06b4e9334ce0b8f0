"""A stack of (bidirectional) SimpleRNN, LSTM or GRU layers over embeddings."""

import keras
from keras import ops

from keras_seq.arguments import check_choice, check_ids, check_int, check_number
from keras_seq.constants import PAD
from keras_seq.encoders.encoder_output import EncoderOutput
from keras_seq.layers.kernels import cudnn_possible
from keras_seq.layers.recurrence import CELLS, make_cell, run_layer, zero_states


@keras.saving.register_keras_serializable(package="keras_seq")
class RNNEncoder(keras.layers.Layer):
    """Recurrent encoder: embedding, then `num_layers` RNN layers.

    Each layer applies one cell with the same weights at every position
    (for SimpleRNN, `h_t = tanh(W_x x_t + W_h h_{t-1} + b)`). The loop is
    written for export: it converts to TFLite builtin ops with dynamic batch
    and length, unlike Keras' `RNN` layer.

    Masking: token id 0 (PAD) is padding. At padded positions the states are
    carried over and the outputs are zero, so appending padding never changes
    a real position, and the final state is the one after the last real
    token. A bidirectional layer runs a second cell from the last position to
    the first and concatenates both directions (outputs and states).

    Args:
        vocab_size: int. Size of the source vocabulary.
        units: int. Width of each cell (per direction).
        cell: str. One of `"simple_rnn"`, `"lstm"`, `"gru"`. Defaults to
            `"lstm"`.
        num_layers: int. Number of stacked layers. Defaults to `1`.
        bidirectional: bool. Defaults to `False`.
        dropout: float. Dropout on the embeddings and between layers, in
            training only. Defaults to `0.0`.
        embedding_dim: int or None. Embedding width; `None` uses `units`.
            Defaults to `None`.

    Call arguments:
        encoder_ids: int tensor `(B, S)`, PAD=0.
        training: Python bool.

    Returns:
        `EncoderOutput(sequence (B, S, D), state, padding_mask (B, S))` with
        `D = units` (or `2 * units` when bidirectional) and `state` a tuple
        with one entry per layer, each a tuple of `(B, D)` tensors (`(h, c)`
        for LSTM, `(h,)` otherwise).

    Example:

    >>> encoder = keras_seq.encoders.RNNEncoder(20, 16, cell="gru")
    >>> out = encoder(np.array([[5, 6, 7, 0]]))
    >>> out.sequence.shape, out.padding_mask.shape
    (TensorShape([1, 4, 16]), TensorShape([1, 4]))

    References:
        - [Sutskever et al., 2014](https://arxiv.org/abs/1409.3215)
        - [Cho et al., 2014](https://arxiv.org/abs/1406.1078)
    """

    def __init__(
        self,
        vocab_size,
        units,
        cell="lstm",
        num_layers=1,
        bidirectional=False,
        dropout=0.0,
        embedding_dim=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size = check_int("vocab_size", vocab_size)
        self.units = units = check_int("units", units)
        self.cell = cell = check_choice("cell", cell, tuple(CELLS))
        self.num_layers = num_layers = check_int("num_layers", num_layers)
        self.bidirectional = bool(bidirectional)
        self.dropout = dropout = check_number("dropout", dropout, minimum=0, below=1)
        self.embedding_dim = embedding_dim = check_int(
            "embedding_dim", embedding_dim, allow_none=True
        )
        self.embedding = keras.layers.Embedding(
            vocab_size, embedding_dim or units, dtype=self.dtype_policy, name="embedding"
        )
        self.dropout_layer = keras.layers.Dropout(dropout, name="dropout")
        directions = 2 if bidirectional else 1
        self.cells = [
            [
                make_cell(cell, units, dtype=self.dtype_policy, name=f"cell_{i}_{d}")
                for d in range(directions)
            ]
            for i in range(num_layers)
        ]
        if cell != "simple_rnn" and cudnn_possible():
            # As Keras' LSTM and GRU: on a GPU, cuDNN rather than XLA.
            self.supports_jit = False

    @property
    def output_dim(self):
        """Width D of the output sequence and of each state tensor."""
        return self.units * (2 if self.bidirectional else 1)

    def build(self, encoder_ids_shape=None):
        self.embedding.build((None, None))
        width = self.embedding_dim or self.units
        for layer_cells in self.cells:
            for cell in layer_cells:
                cell.build((None, width))
            width = self.output_dim
        self.built = True

    def call(self, encoder_ids, training=False):
        ids = check_ids(encoder_ids, "encoder_ids")
        mask = ops.not_equal(ids, PAD)  # (B, S)
        x = self.dropout_layer(self.embedding(ids), training=training)  # (B, S, E)
        batch = ops.shape(ids)[0]
        states = []
        for i, layer_cells in enumerate(self.cells):
            inits = [
                zero_states(self.cell, batch, self.units, self.compute_dtype)
                for _ in layer_cells
            ]
            reverses = [False, True][: len(layer_cells)]
            results = run_layer(layer_cells, x, mask, inits, reverses, training)
            outputs = [out for out, _ in results]
            layer_states = [final for _, final in results]
            if self.bidirectional:
                x = ops.concatenate(outputs, axis=-1)  # (B, S, 2U)
                final = tuple(
                    ops.concatenate([f, b], axis=-1) for f, b in zip(*layer_states)
                )
            else:
                x, final = outputs[0], layer_states[0]
            states.append(final)
            if i < self.num_layers - 1:
                x = self.dropout_layer(x, training=training)
        return EncoderOutput(x, tuple(states), mask)

    def compute_output_spec(self, encoder_ids, training=False):
        batch, steps = encoder_ids.shape
        dtype = self.compute_dtype
        state = tuple(
            tuple(
                keras.KerasTensor((batch, self.output_dim), dtype=dtype)
                for _ in range(2 if self.cell == "lstm" else 1)
            )
            for _ in range(self.num_layers)
        )
        return EncoderOutput(
            keras.KerasTensor((batch, steps, self.output_dim), dtype=dtype),
            state,
            keras.KerasTensor((batch, steps), dtype="bool"),
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocab_size": self.vocab_size,
                "units": self.units,
                "cell": self.cell,
                "num_layers": self.num_layers,
                "bidirectional": self.bidirectional,
                "dropout": self.dropout,
                "embedding_dim": self.embedding_dim,
            }
        )
        return config

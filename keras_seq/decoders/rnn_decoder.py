"""The textbook seq2seq decoder: an RNN initialised with the context vector."""

import keras
import tensorflow as tf
from keras import ops

from keras_seq.arguments import check_choice, check_ids, check_int, check_number
from keras_seq.constants import PAD
from keras_seq.decoders.decoder import Decoder
from keras_seq.layers.kernels import cudnn_possible
from keras_seq.layers.recurrence import (
    CELLS,
    cell_step,
    make_cell,
    num_states,
    run_layer,
    zero_states,
)


@keras.saving.register_keras_serializable(package="keras_seq")
class RNNDecoder(Decoder):
    """RNN decoder whose initial state is the encoder's final state.

    The encoder compresses the source into its final state (the context
    vector); layer `i` of the decoder starts from the final state of encoder
    layer `i` and unrolls token by token. There is no attention: everything
    the decoder knows about the source passes through that fixed vector.
    When the encoder has no state (a Transformer encoder) the decoder starts
    from zeros. A GRU or SimpleRNN encoder state starts an LSTM decoder's `h`
    and leaves `c` at zero.

    Masking: where a target id is PAD the states are carried over, so
    appended padding never changes a real position.

    Args:
        vocab_size: int. Size of the target vocabulary.
        units: int. Width of each cell; must equal the encoder's output width.
        cell: str. One of `"simple_rnn"`, `"lstm"`, `"gru"`. Defaults to
            `"lstm"`.
        num_layers: int. Number of stacked layers; the encoder must have as
            many. Defaults to `1`.
        dropout: float. Dropout on the embeddings and on the output, in
            training only. Defaults to `0.0`.
        embedding_dim: int or None. `None` uses `units`. Defaults to `None`.

    Call arguments:
        decoder_ids: int tensor `(B, T)`, BOS-prefixed, PAD=0.
        encoder_output: the `EncoderOutput` of the paired encoder.
        training: Python bool.
        return_attention: Python bool. Also return `None` attention (this
            decoder has none), for a uniform contract.

    Returns:
        float32 logits `(B, T, V)`.

    Example:

    >>> encoder = keras_seq.encoders.RNNEncoder(20, 16)
    >>> decoder = keras_seq.decoders.RNNDecoder(20, 16)
    >>> logits = decoder(np.array([[2, 5, 6]]), encoder(np.array([[7, 8]])))
    >>> logits.shape
    TensorShape([1, 3, 20])

    References:
        - [Sutskever et al., 2014](https://arxiv.org/abs/1409.3215)
    """

    def __init__(
        self,
        vocab_size,
        units,
        cell="lstm",
        num_layers=1,
        dropout=0.0,
        embedding_dim=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size = check_int("vocab_size", vocab_size)
        self.units = units = check_int("units", units)
        self.cell = cell = check_choice("cell", cell, tuple(CELLS))
        self.num_layers = num_layers = check_int("num_layers", num_layers)
        self.dropout = dropout = check_number("dropout", dropout, minimum=0, below=1)
        self.embedding_dim = embedding_dim = check_int(
            "embedding_dim", embedding_dim, allow_none=True
        )
        self.embedding = keras.layers.Embedding(
            vocab_size, embedding_dim or units, dtype=self.dtype_policy, name="embedding"
        )
        self.dropout_layer = keras.layers.Dropout(dropout, name="dropout")
        self.cells = [
            make_cell(cell, units, dtype=self.dtype_policy, name=f"cell_{i}")
            for i in range(num_layers)
        ]
        # Logits stay float32 under mixed precision.
        self.output_projection = keras.layers.Dense(
            vocab_size, dtype="float32", name="output_projection"
        )
        if cell != "simple_rnn" and self._parallel_recurrence() and cudnn_possible():
            # As Keras' LSTM and GRU: on a GPU, cuDNN rather than XLA.
            self.supports_jit = False

    def _parallel_recurrence(self):
        """True when no step of `call` depends on the previous output."""
        return True

    def _cell_input_dim(self):
        return self.embedding_dim or self.units

    def _output_input_dim(self):
        return self.units

    def build(self, decoder_ids_shape=None, encoder_output_shape=None):
        self.embedding.build((None, None))
        width = self._cell_input_dim()
        for cell in self.cells:
            cell.build((None, width))
            width = self.units
        self.output_projection.build((None, self._output_input_dim()))
        self.built = True

    # -- state -------------------------------------------------------------
    def _initial_rnn_state(self, encoder_output):
        batch = ops.shape(encoder_output.padding_mask)[0]
        zeros = zero_states(self.cell, batch, self.units, self.compute_dtype)
        encoder_state = encoder_output.state
        if not encoder_state:  # None or () from an encoder without recurrence
            return tuple(zeros for _ in range(self.num_layers))
        if len(encoder_state) != self.num_layers:
            raise ValueError(
                f"The decoder has num_layers={self.num_layers} but the "
                f"encoder state has {len(encoder_state)} layers. Give both "
                "the same num_layers."
            )
        states = []
        for layer_state in encoder_state:
            width = layer_state[0].shape[-1]
            if width is not None and width != self.units:
                raise ValueError(
                    f"The encoder state width ({width}) must equal the "
                    f"decoder's `units` ({self.units}). A bidirectional "
                    "encoder's width is twice its units."
                )
            layer_state = tuple(ops.cast(s, self.compute_dtype) for s in layer_state)
            if num_states(self.cell) == 1:
                states.append(layer_state[:1])
            else:
                states.append((layer_state[0],) + (layer_state + zeros)[1:2])
        return tuple(states)

    def initial_state(self, encoder_output):
        return {"rnn": self._initial_rnn_state(encoder_output)}

    def state_spec(self, batch_size=None, source_length=None):
        layer = tuple(tf.TensorSpec((batch_size, self.units), self.compute_dtype)
                      for _ in range(num_states(self.cell)))
        return {"rnn": tuple(layer for _ in range(self.num_layers))}

    # -- stepping ------------------------------------------------------------
    def _run_cells(self, x, rnn_state, mask_t, training=False):
        new_state = []
        for cell, layer_state in zip(self.cells, rnn_state):
            x, layer_state = cell_step(cell, x, layer_state, mask_t, training)
            new_state.append(layer_state)
        return x, tuple(new_state)

    def _logits(self, x, training=False):
        return self.output_projection(self.dropout_layer(x, training=training))

    def step(self, ids_t, state, encoder_output, training=False):
        ids_t = check_ids(ids_t, "ids_t", rank=1)
        mask_t = ops.not_equal(ids_t, PAD)  # (B,)
        x = self.dropout_layer(self.embedding(ids_t), training=training)  # (B, E)
        x, rnn_state = self._run_cells(x, state["rnn"], mask_t, training)
        return self._logits(x, training), {"rnn": rnn_state}

    def call(self, decoder_ids, encoder_output, training=False, return_attention=False):
        ids = check_ids(decoder_ids, "decoder_ids")
        mask = ops.not_equal(ids, PAD)  # (B, T)
        x = self.dropout_layer(self.embedding(ids), training=training)  # (B, T, E)
        for cell, layer_state in zip(
            self.cells, self._initial_rnn_state(encoder_output)
        ):
            [(x, _)] = run_layer([cell], x, mask, [layer_state], training=training)
        logits = self._logits(x, training)  # (B, T, V)
        return (logits, None) if return_attention else logits

    def compute_output_spec(
        self, decoder_ids, encoder_output, training=False, return_attention=False
    ):
        logits = keras.KerasTensor(
            tuple(decoder_ids.shape) + (self.vocab_size,), dtype="float32"
        )
        return (logits, None) if return_attention else logits

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocab_size": self.vocab_size,
                "units": self.units,
                "cell": self.cell,
                "num_layers": self.num_layers,
                "dropout": self.dropout,
                "embedding_dim": self.embedding_dim,
            }
        )
        return config

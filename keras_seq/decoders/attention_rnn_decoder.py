"""An RNN decoder that attends over every encoder state at every step."""

import keras
import tensorflow as tf
from keras import ops

from keras_seq.arguments import check_choice, check_ids, check_int
from keras_seq.constants import PAD
from keras_seq.decoders.input_feeding_loop import input_feeding_loop
from keras_seq.decoders.rnn_decoder import RNNDecoder
from keras_seq.layers.bahdanau_attention import BahdanauAttention
from keras_seq.layers.luong_attention import SCORES, LuongAttention
from keras_seq.layers.buffer_write import write_step
from keras_seq.layers.kernels import export_safe
from keras_seq.layers.recurrence import counted_loop, run_layer

ATTENTIONS = ("bahdanau", "luong")


@keras.saving.register_keras_serializable(package="keras_seq")
class AttentionRNNDecoder(RNNDecoder):
    """RNN decoder with Bahdanau or Luong attention and input feeding.

    At step t the stacked cells read the previous token's embedding
    (concatenated with the previous attentional vector when
    `input_feeding=True`) and produce `h_t`; the attention layer scores
    `h_t` against every encoder state and returns the context `c_t`; the
    attentional vector `a_t = tanh(W_c [h_t; c_t])` gives the logits
    `W_o a_t`. This is the layout of Luong et al. (and of tensorflow-addons'
    `AttentionWrapper`), used with either scoring function. Like
    `RNNDecoder`, the cells start from the encoder's final state.

    Masking: attention weights on padded source positions are exactly 0;
    a PAD target id carries the state over unchanged.

    Args:
        vocab_size: int. Size of the target vocabulary.
        units: int. Width of each cell and of the attentional vector.
        cell: str. One of `"simple_rnn"`, `"lstm"`, `"gru"`. Defaults to
            `"lstm"`.
        num_layers: int. Defaults to `1`.
        attention: str. `"bahdanau"` (additive) or `"luong"`
            (multiplicative). Defaults to `"bahdanau"`.
        attention_units: int or None. Width of the additive attention's
            projections (Bahdanau, or Luong's `"concat"` score); `None` uses
            `units`. Defaults to `None`.
        luong_score: str. The Luong score, one of `"dot"`, `"general"`,
            `"concat"`; unused with Bahdanau attention. Defaults to
            `"general"`.
        input_feeding: bool. Feed the previous attentional vector to the
            cells. Defaults to `True`.
        dropout: float. Defaults to `0.0`.
        embedding_dim: int or None. Defaults to `None` (`units`).

    Call arguments:
        decoder_ids: int tensor `(B, T)`, BOS-prefixed, PAD=0.
        encoder_output: the `EncoderOutput` of the paired encoder.
        training: Python bool.
        return_attention: Python bool. Also return the attention weights
            `(B, T, S)` (for plotting alignments).

    Returns:
        float32 logits `(B, T, V)`, or `(logits, weights)`.

    The decoding state is a dict: `"rnn"` (per-layer cell states),
    `"feed"` (the previous attentional vector `(B, units)`),
    `"attention"` (the last weights `(B, S)`, for alignment plots) and,
    unless the keys are the memory itself (Luong's `"dot"` score),
    `"memory_keys"`: the attention keys of the memory `(B, S, K)`, which
    depend on the source only, so `initial_state` projects them once
    instead of every step (a matmul over the whole memory, per step).

    Example:

    >>> encoder = keras_seq.encoders.RNNEncoder(20, 16)
    >>> decoder = keras_seq.decoders.AttentionRNNDecoder(20, 16)
    >>> logits, weights = decoder(
    ...     np.array([[2, 5]]), encoder(np.array([[7, 8, 9]])),
    ...     return_attention=True)
    >>> logits.shape, weights.shape
    (TensorShape([1, 2, 20]), TensorShape([1, 2, 3]))

    References:
        - [Bahdanau et al., 2015](https://arxiv.org/abs/1409.0473)
        - [Luong et al., 2015](https://arxiv.org/abs/1508.04025)
    """

    def __init__(
        self,
        vocab_size,
        units,
        cell="lstm",
        num_layers=1,
        attention="bahdanau",
        attention_units=None,
        luong_score="general",
        input_feeding=True,
        dropout=0.0,
        embedding_dim=None,
        **kwargs,
    ):
        self.attention = attention = check_choice("attention", attention, ATTENTIONS)
        self.attention_units = attention_units = check_int(
            "attention_units", attention_units, allow_none=True
        )
        self.luong_score = luong_score = check_choice("luong_score", luong_score, SCORES)
        self.input_feeding = bool(input_feeding)
        super().__init__(
            vocab_size,
            units,
            cell=cell,
            num_layers=num_layers,
            dropout=dropout,
            embedding_dim=embedding_dim,
            **kwargs,
        )
        if attention == "bahdanau":
            self.attention_layer = BahdanauAttention(
                attention_units or units, dtype=self.dtype_policy, name="attention"
            )
        else:
            self.attention_layer = LuongAttention(
                attention_units or units,
                score=luong_score,
                dtype=self.dtype_policy,
                name="attention",
            )
        self.attentional_layer = keras.layers.Dense(
            units,
            activation="tanh",
            use_bias=False,
            dtype=self.dtype_policy,
            name="attentional",
        )

    def _cell_input_dim(self):
        width = self.embedding_dim or self.units
        return width + (self.units if self.input_feeding else 0)

    def build(self, decoder_ids_shape=None, encoder_output_shape=None):
        memory_dim = None
        if encoder_output_shape is not None:
            memory_dim = encoder_output_shape[0][-1]
        if memory_dim is None:
            raise ValueError(
                "AttentionRNNDecoder.build needs `encoder_output_shape` with a known "
                "width D: its attention weights depend on it. Call the decoder on "
                "an encoder output, or build(decoder_ids_shape, encoder_output_shape). "
                f"Received: encoder_output_shape={encoder_output_shape}")
        super().build(decoder_ids_shape, encoder_output_shape)
        self.attention_layer.build((None, self.units), (None, None, memory_dim))
        self.attentional_layer.build((None, self.units + memory_dim))

    def _build_for(self, encoder_output):
        """Build from an encoder output, as calling the layer would."""
        if not self.built:
            self.build(None, keras.tree.map_structure(
                lambda x: None if x is None else tuple(x.shape), encoder_output))

    # -- state -------------------------------------------------------------
    def _memory_key_width(self):
        """K, the width of the memory's attention keys; None when the keys
        are the memory itself (Luong's "dot" score: nothing to project)."""
        if self.attention == "luong" and self.luong_score == "dot":
            return None
        if self.attention == "luong" and self.luong_score == "general":
            return self.units  # the memory projected to the query's width
        return self.attention_units or self.units

    def initial_state(self, encoder_output):
        memory = encoder_output.sequence
        self._build_for(encoder_output)
        batch = ops.shape(memory)[0]
        state = {
            "rnn": self._initial_rnn_state(encoder_output),
            "feed": ops.zeros((batch, self.units), dtype=self.compute_dtype),
            "attention": ops.zeros(ops.shape(memory)[:2], dtype=self.compute_dtype),
        }
        if self._memory_key_width() is not None:
            state["memory_keys"] = self.attention_layer.keys(memory)  # (B, S, K)
        return state

    def state_spec(self, batch_size=None, source_length=None):
        spec = {
            **super().state_spec(batch_size, source_length),
            "feed": tf.TensorSpec((batch_size, self.units), self.compute_dtype),
            "attention": tf.TensorSpec((batch_size, source_length), self.compute_dtype),
        }
        width = self._memory_key_width()
        if width is not None:
            spec["memory_keys"] = tf.TensorSpec(
                (batch_size, source_length, width), self.compute_dtype)
        return spec

    # -- stepping ------------------------------------------------------------
    def _attend(self, h, encoder_output, keys=None):
        """h: (B, U) or (B, T, U) -> attentional vector, weights.

        `keys` are the memory's attention keys when the caller has them
        (a step's state); otherwise they are projected here.
        """
        context, weights = self.attention_layer(
            h, encoder_output.sequence, encoder_output.padding_mask, keys=keys
        )
        attentional = self.attentional_layer(ops.concatenate([h, context], axis=-1))
        return attentional, weights

    def step(self, ids_t, state, encoder_output, training=False):
        ids_t = check_ids(ids_t, "ids_t", rank=1)
        mask_t = ops.not_equal(ids_t, PAD)  # (B,)
        x = self.dropout_layer(self.embedding(ids_t), training=training)  # (B, E)
        if self.input_feeding:
            x = ops.concatenate([x, state["feed"]], axis=-1)  # (B, E + U)
        h, rnn_state = self._run_cells(x, state["rnn"], mask_t, training)
        keys = state.get("memory_keys")  # None with Luong's dot score
        attentional, weights = self._attend(h, encoder_output, keys)  # (B,U), (B,S)
        keep = ops.expand_dims(mask_t, -1)
        new_state = {
            "rnn": rnn_state,
            "feed": ops.where(keep, attentional, state["feed"]),
            "attention": ops.cast(weights, self.compute_dtype),
        }
        if keys is not None:
            new_state["memory_keys"] = keys
        return self._logits(attentional, training), new_state

    def call(self, decoder_ids, encoder_output, training=False, return_attention=False):
        ids = check_ids(decoder_ids, "decoder_ids")
        if self.input_feeding and export_safe():
            logits, weights = self._call_stepwise(ids, encoder_output, training)
        elif self.input_feeding:
            logits, weights = self._call_feeding_fast(
                ids, encoder_output, training, return_attention
            )
        else:
            logits, weights = self._call_parallel(ids, encoder_output, training)
        return (logits, weights) if return_attention else logits

    def _call_parallel(self, ids, encoder_output, training):
        """Without input feeding the cells run first, attention after."""
        self._build_for(encoder_output)
        mask = ops.not_equal(ids, PAD)  # (B, T)
        x = self.dropout_layer(self.embedding(ids), training=training)
        for cell, layer_state in zip(
            self.cells, self._initial_rnn_state(encoder_output)
        ):
            [(x, _)] = run_layer([cell], x, mask, [layer_state], training=training)
        attentional, weights = self._attend(x, encoder_output)  # (B,T,U), (B,T,S)
        return self._logits(attentional, training), weights

    def _parallel_recurrence(self):
        return not self.input_feeding

    def _call_feeding_fast(self, ids, encoder_output, training, return_attention):
        """`_call_stepwise`'s numbers, arranged for training speed."""
        self._build_for(encoder_output)
        attentional, weights = input_feeding_loop(
            self, ids, encoder_output, training, return_attention
        )  # (B, T, U) and, when asked for, (B, T, S)
        return self._logits(attentional, training), weights

    def _call_stepwise(self, ids, encoder_output, training):
        """Input feeding makes each step depend on the last: one while loop.

        The export-safe kernel: `step` inside a bounded loop writing
        preallocated buffers.
        """
        state = self.initial_state(encoder_output)
        steps = ops.shape(ids)[1]
        batch = ops.shape(ids)[0]
        source = ops.shape(encoder_output.sequence)[1]
        time_ids = ops.transpose(ids, (1, 0))  # (T, B)
        all_logits = ops.zeros((steps, batch, self.vocab_size), dtype="float32")
        all_weights = ops.zeros((steps, batch, source), dtype=self.compute_dtype)

        def body(t, carry):
            all_logits, all_weights, state = carry
            logits, state = self.step(time_ids[t], state, encoder_output, training)
            all_logits = write_step(all_logits, t, logits)
            all_weights = write_step(all_weights, t, state["attention"])
            return all_logits, all_weights, state

        all_logits, all_weights, _ = counted_loop(
            steps, body, (all_logits, all_weights, state)
        )
        return (
            ops.transpose(all_logits, (1, 0, 2)),  # (B, T, V)
            ops.transpose(all_weights, (1, 0, 2)),  # (B, T, S)
        )

    def compute_output_spec(
        self, decoder_ids, encoder_output, training=False, return_attention=False
    ):
        logits = keras.KerasTensor(
            tuple(decoder_ids.shape) + (self.vocab_size,), dtype="float32"
        )
        if not return_attention:
            return logits
        weights = keras.KerasTensor(
            tuple(decoder_ids.shape) + (encoder_output.sequence.shape[1],),
            dtype=self.compute_dtype,
        )
        return logits, weights

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "attention": self.attention,
                "attention_units": self.attention_units,
                "luong_score": self.luong_score,
                "input_feeding": self.input_feeding,
            }
        )
        return config

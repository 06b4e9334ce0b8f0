"""A stack of Transformer decoder blocks with a cached, export-safe step."""

import keras
import tensorflow as tf
from keras import ops

from keras_seq.arguments import check_ids
from keras_seq.decoders.decoder import Decoder
from keras_seq.layers.transformer_decoder_block import TransformerDecoderBlock
from keras_seq.layers.transformer_stack import TransformerStack


@keras.saving.register_keras_serializable(package="keras_seq")
class TransformerDecoder(TransformerStack, Decoder):
    """Transformer decoder: embedding, `num_layers` blocks, float32 logits.

    Target ids are embedded with positions, go through dropout and
    `num_layers` `keras_seq.layers.TransformerDecoderBlock`s (causal
    self-attention masked by `decoder_ids != PAD`, cross-attention masked by
    the encoder's padding mask), with pre-norm a final layer norm, and a
    float32 `Dense` projection to the vocabulary (float32 logits under mixed
    precision).

    `call` runs the whole target at once (teacher forcing); `initial_state`
    and `step` decode one token at a time with a preallocated key/value
    cache per block and give the same logits. The state is a dict whose
    tensors all lead with the batch axis B:

    - `"keys"`, `"values"`: lists of `num_layers` tensors `(B, max_length,
      H, D // H)` in the compute dtype, each block's self-attention cache.
    - `"memory_keys"`, `"memory_values"`: lists of `num_layers` tensors
      `(B, S, H, D // H)`, each block's cross-attention keys and values of
      the memory, projected once in `initial_state`.
    - `"index"`: int32 `(B,)`, the position of the next token (all rows
      share it; `index[0]` is used).
    - `"attention"`: float32 `(B, S)`, the last step's cross-attention
      weights (last block, averaged over heads), for plotting.

    A step embeds one token, writes its keys and values at `index` with a
    masked select and attends to the cache: no recomputation of the prefix,
    fixed shapes, keras/TF ops only, so it runs inside a `tf.while_loop` and
    converts to TFLite builtins. One rank-4 tensor per block and role, not
    one stacked rank-6 cache: slicing and restacking that every step cost
    LiteRT about 10x the time of the step itself.

    Args:
        vocab_size: int. The number of target token ids V.
        num_layers: int. The number of decoder blocks.
        dim: int. The model width D. The encoder's output width is read
            from its shape at build time and defaults to `dim`.
        num_heads: int. The number of attention heads H; must divide `dim`.
        ff_dim: int. The hidden width of each feed-forward network.
        max_length: int. The longest target (and number of decoding steps).
        dropout: float in [0, 1). Dropout after the embedding, on attention
            weights and on each sublayer output. Defaults to `0.0`.
        normalize_first: bool. Pre-norm blocks plus a final layer norm when
            True, post-norm blocks when False. Defaults to `False`.
        positions: str. How positions are embedded: `"sinusoidal"` (fixed,
            Vaswani et al.) or `"learned"`. Defaults to `"sinusoidal"`.
        **kwargs: other `keras.layers.Layer` arguments (`name`, `dtype`...).

    Call arguments:
        decoder_ids: int tensor `(B, T)`, BOS-prefixed target ids, PAD=0.
        encoder_output: the `keras_seq.encoders.EncoderOutput` of the paired
            encoder (`sequence` `(B, S, D)`, `padding_mask` `(B, S)`).
        training: Python bool. Enables dropout. Defaults to `False`.
        return_attention: Python bool. Also return the last block's
            cross-attention weights averaged over heads, float32 `(B, T, S)`,
            exactly 0 at padded source positions. Defaults to `False`.

    Returns:
        float32 logits `(B, T, V)`, or `(logits, attention)`.

    Raises:
        TypeError: for float `decoder_ids`.
        ValueError: for `decoder_ids` of rank other than 2, or longer than
            `max_length` when the length is known when tracing (otherwise
            `tf.errors.InvalidArgumentError` at run time).

    Example:
    >>> encoder = keras_seq.encoders.TransformerEncoder(
    ...     vocab_size=20, num_layers=2, dim=16, num_heads=2, ff_dim=32,
    ...     max_length=10)
    >>> decoder = keras_seq.decoders.TransformerDecoder(
    ...     vocab_size=20, num_layers=2, dim=16, num_heads=2, ff_dim=32,
    ...     max_length=10)
    >>> encoder_output = encoder(np.array([[5, 7, 3, 0]]))
    >>> decoder(np.array([[2, 7, 5]]), encoder_output).shape
    TensorShape([1, 3, 20])
    >>> state = decoder.initial_state(encoder_output)
    >>> logits, state = decoder.step(np.array([2]), state, encoder_output)
    >>> logits.shape
    TensorShape([1, 20])

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)
        - [Xiong et al., 2020](https://arxiv.org/abs/2002.04745) (pre-norm)
    """

    def __init__(
        self,
        vocab_size,
        num_layers,
        dim,
        num_heads,
        ff_dim,
        max_length,
        dropout=0.0,
        normalize_first=False,
        positions="sinusoidal",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._init_stack(
            TransformerDecoderBlock, vocab_size, num_layers, dim, num_heads,
            ff_dim, max_length, dropout, normalize_first, positions,
        )
        # float32 whatever the policy: logits feed losses and softmaxes.
        self.output_projection = keras.layers.Dense(
            vocab_size, dtype="float32", name="output_projection"
        )

    def build(self, decoder_ids_shape=None, encoder_output_shape=None):
        memory_shape = (None, None, self.dim)  # the encoder's width when it is known
        if encoder_output_shape is not None:
            sequence_shape = encoder_output_shape[0]
            if sequence_shape is not None and sequence_shape[-1] is not None:
                memory_shape = (None, None, sequence_shape[-1])
        self._build_stack(memory_shape)
        self.output_projection.build((None, None, self.dim))
        self.built = True

    def _logits(self, x):
        return self.output_projection(self._normalize_last(x))  # (B, T, V) float32

    def call(
        self, decoder_ids, encoder_output, training=False,
        return_attention=False,
    ):
        x, decoder_mask = self._embed(decoder_ids, "decoder_ids", training)
        memory = encoder_output.sequence  # (B, S, D)
        memory_mask = encoder_output.padding_mask  # (B, S)
        attention = None
        for i, block in enumerate(self.blocks):
            last = return_attention and i == len(self.blocks) - 1
            out = block(
                x,
                memory,
                memory_mask=memory_mask,
                decoder_mask=decoder_mask,
                training=training,
                return_attention=last,
            )  # (B, T, D), and (B, T, S) from the last block when asked
            x, attention = out if last else (out, attention)
        logits = self._logits(x)
        return (logits, attention) if return_attention else logits

    def initial_state(self, encoder_output):
        """Return the state before the first step (see the class docstring).

        Args:
            encoder_output: the `EncoderOutput` (tiled to the decoding batch).

        Returns:
            dict with `"keys"`, `"values"` (per block, zeros `(B,
            max_length, H, D // H)`), `"memory_keys"`, `"memory_values"` (per
            block, the memory's cross-attention keys and values `(B, S, H,
            D // H)`, computed once so no step re-projects the source),
            `"index"` int32 `(B,)` and `"attention"` float32 `(B, S)`.
        """
        memory = encoder_output.sequence
        if not self.built:
            self.build(None, (tuple(memory.shape), None, None))
        batch_size, source_length = ops.shape(memory)[0], ops.shape(memory)[1]
        cache_shape = (batch_size, self.max_length, self.num_heads, self.head_dim)
        memory_keys, memory_values = [], []
        for block in self.blocks:
            keys, values = block.memory_cache(memory)  # (B, S, H, D // H) each
            memory_keys.append(ops.cast(keys, self.compute_dtype))
            memory_values.append(ops.cast(values, self.compute_dtype))
        zeros = [ops.zeros(cache_shape, dtype=self.compute_dtype)
                 for _ in range(2 * self.num_layers)]
        return {
            "keys": zeros[: self.num_layers],
            "values": zeros[self.num_layers :],
            "memory_keys": memory_keys,
            "memory_values": memory_values,
            "index": ops.zeros((batch_size,), dtype="int32"),
            "attention": ops.zeros((batch_size, source_length), "float32"),
        }

    def state_spec(self, batch_size=None, source_length=None):
        def heads(length):
            return tf.TensorSpec((batch_size, length, self.num_heads, self.head_dim),
                                 self.compute_dtype)

        layers = range(self.num_layers)
        return {
            "keys": [heads(self.max_length) for _ in layers],
            "values": [heads(self.max_length) for _ in layers],
            "memory_keys": [heads(source_length) for _ in layers],
            "memory_values": [heads(source_length) for _ in layers],
            "index": tf.TensorSpec((batch_size,), tf.int32),
            "attention": tf.TensorSpec((batch_size, source_length), tf.float32),
        }

    def step(self, ids_t, state, encoder_output):
        """Decode one token per row at position `state["index"][0]`.

        Args:
            ids_t: int tensor `(B,)`, the previous token of each row.
            state: the dict from `initial_state` or the previous step.
            encoder_output: the `EncoderOutput` (tiled to the state's batch).

        Returns:
            `(logits, new_state)`: float32 logits `(B, V)` and the state with
            the token's keys/values written, `index + 1` and its
            cross-attention weights.
        """
        if not self.built:
            self.build()
        ids = check_ids(ids_t, "ids_t", rank=1)
        ids = ops.expand_dims(ids, 1)  # (B, 1)
        position = state["index"][0]
        memory = encoder_output.sequence  # (B, S, D)
        memory_mask = encoder_output.padding_mask  # (B, S)
        x = self.positional_embedding(ids, start_index=position)  # (B, 1, D)
        keys, values = [], []
        for i, block in enumerate(self.blocks):
            x, (k, v), attention = block(
                x,
                memory,
                memory_mask=memory_mask,
                cache=(state["keys"][i], state["values"][i]),
                cache_index=position,
                memory_cache=(state["memory_keys"][i], state["memory_values"][i]),
                return_attention=True,
            )  # (B, 1, D), 2 x (B, max_length, H, D // H), (B, 1, S)
            keys.append(k)
            values.append(v)
        logits = self._logits(x)[:, 0, :]  # (B, V)
        new_state = {
            "keys": keys,
            "values": values,
            "memory_keys": list(state["memory_keys"]),
            "memory_values": list(state["memory_values"]),
            "index": state["index"] + 1,
            "attention": attention[:, 0, :],
        }
        return logits, new_state

    def sanitize_state(self, state):
        """Clip `state["index"]` into `[0, max_length)`.

        `step` itself refuses an index past the cache (`InvalidArgumentError`
        naming `max_length`), but the TFLite converter drops that check and
        LiteRT would then fail the invoke on an out-of-bounds gather, or
        read another position for a negative index. An app-fed index is
        read as the nearest end of the cache instead.
        """
        return {**state, "index": ops.clip(state["index"], 0, self.max_length - 1)}

    def get_config(self):
        config = super().get_config()
        config.update(self._stack_config())
        return config

"""One Transformer decoder layer with a fixed-shape self-attention cache."""

import keras
import keras_hub
from keras import ops

from keras_seq.arguments import check_int, check_number
from keras_seq.layers.attention_shapes import causal_mask, check_heads
from keras_seq.layers.buffer_write import write_slice
from keras_seq.layers.sequence_attention import sequence_attention
from keras_seq.layers.single_query_attention import single_query_attention


@keras.saving.register_keras_serializable(package="keras_seq")
class TransformerDecoderBlock(keras.layers.Layer):
    """Transformer decoder layer: causal self-attention, cross-attention, FFN.

    Post-norm (`normalize_first=False`) computes `x = norm(x + sublayer(x))`;
    pre-norm (`normalize_first=True`) computes `x = x + sublayer(norm(x))`
    and leaves the final layer norm to the decoder.

    Two paths give the same outputs. Without `cache`, the whole target runs
    at once under a causal mask merged with `decoder_mask` (teacher forcing).
    With `cache`, a preallocated key/value buffer `(B, 2, L, H, D // H)` (L
    the longest target, keys at `[:, 0]`, values at `[:, 1]`; the layout of
    `keras_hub.layers.CachedMultiHeadAttention`), the step's keys and values
    are written at `cache_index` with a masked select and the queries attend
    to cache positions `<= cache_index + t`. The cache may also be passed as
    a `(keys, values)` pair of `(B, L, H, D // H)` tensors (what
    `TransformerDecoder` does: lower-rank tensors are far cheaper in LiteRT)
    and is then returned as a pair. A one-token step attends with broadcast
    multiplies and sums (`single_query_attention`). Shapes are fixed and
    there is no Python control flow on tensor values, so a step runs inside
    a `tf.while_loop` and converts to TFLite builtins.

    Cross-attention weights are exactly 0 on padded memory positions, and a
    memory row with no real position gets all-zero weights (finite outputs).

    Args:
        num_heads: int. The number of attention heads H; D must be divisible
            by it.
        ff_dim: int. The hidden width of the feed-forward network.
        dropout: float in [0, 1). Dropout on attention weights and on each
            sublayer output. Defaults to `0.0`.
        normalize_first: bool. Pre-norm when True, post-norm when False.
            Defaults to `False`.
        layer_norm_epsilon: float. Epsilon of the layer norms. Defaults to
            `1e-5`.
        **kwargs: other `keras.layers.Layer` arguments (`name`, `dtype`...).

    Call arguments:
        x: float tensor `(B, T, D)`.
        memory: float tensor `(B, S, D)`, the encoder output.
        memory_mask: optional bool tensor `(B, S)`, True at real source tokens.
        decoder_mask: optional bool tensor `(B, T)`, True at real target
            tokens; masks padded keys. Only without `cache` (a step assumes
            padding trails the real tokens, so it never needs it).
        cache: optional float tensor `(B, 2, L, H, D // H)` in the compute
            dtype, or a `(keys, values)` pair of `(B, L, H, D // H)`.
        cache_index: int or scalar int tensor, the position of `x[:, 0]`;
            required with `cache`.
        memory_cache: optional cross-attention keys and values of `memory`
            from `memory_cache(memory)`, `(B, 2, S, H, D // H)`, or a
            `(keys, values)` pair of `(B, S, H, D // H)`; skips projecting
            the memory again.
        training: Python bool. Enables dropout.
        return_attention: Python bool. Also return the cross-attention
            weights averaged over heads, float32 `(B, T, S)`.

    Returns:
        `y` `(B, T, D)`; with `cache`, `(y, new_cache)`; with
        `return_attention`, the attention weights appended:
        `(y, attention)` or `(y, new_cache, attention)`.

    Example:
    >>> block = keras_seq.layers.TransformerDecoderBlock(num_heads=2, ff_dim=32)
    >>> x = np.random.rand(2, 1, 16).astype("float32")
    >>> memory = np.random.rand(2, 5, 16).astype("float32")
    >>> cache = np.zeros((2, 2, 10, 2, 8), "float32")
    >>> y, cache = block(x, memory, cache=cache, cache_index=0)
    >>> y.shape, cache.shape
    (TensorShape([2, 1, 16]), TensorShape([2, 2, 10, 2, 8]))

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)
        - [Xiong et al., 2020](https://arxiv.org/abs/2002.04745) (pre-norm)
    """

    def __init__(
        self,
        num_heads,
        ff_dim,
        dropout=0.0,
        normalize_first=False,
        layer_norm_epsilon=1e-5,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = num_heads = check_int("num_heads", num_heads)
        self.ff_dim = ff_dim = check_int("ff_dim", ff_dim)
        self.dropout = dropout = check_number("dropout", dropout, minimum=0, below=1)
        self.normalize_first = bool(normalize_first)
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.supports_masking = True

    def build(self, x_shape, memory_shape=None):
        memory_shape = x_shape if memory_shape is None else memory_shape
        dim = x_shape[-1]
        head_dim = check_heads(dim, self.num_heads)
        policy = self.dtype_policy
        self.self_attention = self._attention("self_attention", head_dim)
        self.self_attention.build(x_shape, x_shape)
        self.self_attention_norm = self._norm("self_attention_norm", x_shape)
        self.cross_attention = self._attention("cross_attention", head_dim)
        self.cross_attention.build(x_shape, memory_shape)
        self.cross_attention_norm = self._norm("cross_attention_norm", x_shape)
        self.ffn_hidden = keras.layers.Dense(
            self.ff_dim, activation="relu", dtype=policy, name="ffn_hidden"
        )
        self.ffn_hidden.build(x_shape)
        self.ffn_output = keras.layers.Dense(
            dim, dtype=policy, name="ffn_output"
        )
        self.ffn_output.build(tuple(x_shape[:-1]) + (self.ff_dim,))
        self.ffn_norm = self._norm("ffn_norm", x_shape)
        self.output_dropout = keras.layers.Dropout(
            self.dropout, dtype=policy, name="output_dropout"
        )
        self.built = True

    def _attention(self, name, head_dim):
        return keras_hub.layers.CachedMultiHeadAttention(
            num_heads=self.num_heads,
            key_dim=head_dim,
            dropout=self.dropout,
            dtype=self.dtype_policy,
            name=name,
        )

    def _norm(self, name, shape):
        norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name=name
        )
        norm.build(shape)
        return norm

    def _normalize_in(self, x, norm):
        """The sublayer input: normalised with pre-norm, as is otherwise."""
        return norm(x) if self.normalize_first else x

    def _add(self, residual, h, norm, training):
        """Residual sum after dropout, normalised with post-norm."""
        x = residual + self.output_dropout(h, training=training)
        return x if self.normalize_first else norm(x)

    def call(
        self,
        x,
        memory,
        memory_mask=None,
        decoder_mask=None,
        cache=None,
        cache_index=None,
        memory_cache=None,
        training=None,
        return_attention=False,
    ):
        if cache is None and cache_index is not None:
            raise ValueError(
                "Invalid value for argument `cache_index`: it needs a `cache`. "
                f"Received: cache=None, cache_index={cache_index!r}"
            )
        if cache is not None and cache_index is None:
            raise ValueError(
                "Invalid value for argument `cache_index`: a `cache` needs the "
                "position to write at. Received: cache_index=None"
            )
        if cache is not None and decoder_mask is not None:
            raise ValueError(
                "Invalid value for argument `decoder_mask`: it applies to the "
                "teacher-forced path only, not with a `cache`. Pass "
                "decoder_mask=None when stepping."
            )
        # New tensors without Keras masks (Identity ops, gone after
        # conversion): the masks here are explicit, and the attention's
        # projections would warn about masks they drop.
        x, memory = ops.copy(x), ops.copy(memory)
        query_length = ops.shape(x)[1]
        if cache is None:
            self_mask = ops.expand_dims(
                causal_mask(query_length, query_length), 0
            )  # (1, T, T)
            if decoder_mask is not None:
                keys = ops.expand_dims(ops.cast(decoder_mask, "bool"), 1)
                self_mask = ops.logical_and(self_mask, keys)  # (B, T, T)
        else:
            split = isinstance(cache, (tuple, list))  # (keys, values)
            if split:
                keys, values = cache
            else:
                keys, values = cache[:, 0], cache[:, 1]
            cache_index = ops.cast(cache_index, "int32")
            self_mask = ops.expand_dims(
                causal_mask(query_length, ops.shape(keys)[1], cache_index), 0
            )  # (1, T, L)

        # Causal self-attention, through the cache when there is one.
        h = self._normalize_in(x, self.self_attention_norm)
        if cache is None:
            h, _ = sequence_attention(
                self.self_attention, h, h, self_mask, training=training
            )  # (B, T, D)
        else:
            keys, values = self._write_cache(keys, values, cache_index, h)
            if x.shape[1] == 1:  # a decoding step: a weighted sum, see the module
                h, _ = single_query_attention(
                    self.self_attention, h, keys, values, self_mask[:, 0]
                )  # (B, 1, D)
            else:
                h, _ = self.self_attention(
                    h,
                    h,
                    attention_mask=self_mask,
                    cache=ops.stack([keys, values], axis=1),
                    training=training,
                )  # (B, T, D), reading keys and values from the cache
            cache = (keys, values) if split else ops.stack([keys, values], axis=1)
        x = self._add(x, h, self.self_attention_norm, training)

        # Cross-attention over the memory, with keras_seq's masked softmax
        # on every path: exact zeros at masked positions (all zeros for a
        # fully masked row).
        cross_mask = None
        if memory_mask is not None:
            cross_mask = ops.expand_dims(ops.cast(memory_mask, "bool"), 1)
            # (B, 1, S)
        h = self._normalize_in(x, self.cross_attention_norm)
        if memory_cache is None:
            h, scores = sequence_attention(
                self.cross_attention, h, memory, cross_mask, training=training
            )  # (B, T, D), (B, H, T, S)
        elif x.shape[1] == 1:  # one step over the projected memory
            memory_keys, memory_values = (
                memory_cache if isinstance(memory_cache, (tuple, list))
                else (memory_cache[:, 0], memory_cache[:, 1]))
            h, scores = single_query_attention(
                self.cross_attention, h, memory_keys, memory_values,
                cross_mask[:, 0] if cross_mask is not None else None,
            )  # (B, 1, D), (B, H, 1, S)
        else:  # keys and values of the memory, projected once per sequence
            if isinstance(memory_cache, (tuple, list)):
                memory_cache = ops.stack(list(memory_cache), axis=1)
            h, scores, _ = self.cross_attention(
                h,
                memory,
                attention_mask=cross_mask,
                cache=memory_cache,
                return_attention_scores=True,
                training=training,
            )
        x = self._add(x, h, self.cross_attention_norm, training)

        # Feed-forward network.
        h = self._normalize_in(x, self.ffn_norm)
        h = self.ffn_output(self.ffn_hidden(h))  # (B, T, ff_dim) -> (B, T, D)
        x = self._add(x, h, self.ffn_norm, training)

        outputs = (x,) if cache is None else (x, cache)
        if return_attention:
            attention = ops.mean(ops.cast(scores, "float32"), axis=1)
            outputs += (attention,)  # (B, T, S), averaged over heads
        return outputs[0] if len(outputs) == 1 else outputs

    def _write_cache(self, keys_cache, values_cache, index, h):
        """Project the step's keys and values and write them at `index`.

        Done here, not by the attention layer's own cache update, whose
        slice update lowers to XlaDynamicUpdateSlice (no TF Serving kernel
        without XLA JIT); `write_slice` uses core ops that are TFLite
        builtins too.
        """
        keys = self.self_attention._key_dense(h)  # (B, T, H, D // H)
        values = self.self_attention._value_dense(h)
        keys = write_slice(keys_cache, index, keys, axis=1)  # (B, L, H, Dh)
        values = write_slice(values_cache, index, values, axis=1)
        return keys, values

    def memory_cache(self, memory):
        """The cross-attention keys and values of `memory`, `(B, 2, S, H, Dh)`.

        They depend on the memory only, so a decoding loop computes them once
        (`initial_state`) and passes them back as `memory_cache` each step.
        """
        memory = ops.copy(memory)
        keys = self.cross_attention._key_dense(memory)  # (B, S, H, Dh)
        values = self.cross_attention._value_dense(memory)
        return ops.stack([keys, values], axis=1)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "ff_dim": self.ff_dim,
                "dropout": self.dropout,
                "normalize_first": self.normalize_first,
                "layer_norm_epsilon": self.layer_norm_epsilon,
            }
        )
        return config

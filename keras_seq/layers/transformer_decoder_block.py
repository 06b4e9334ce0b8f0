"""One Transformer decoder layer with a fixed-shape self-attention cache."""

import keras
from keras import ops

from keras_seq.layers.attention_shapes import causal_mask, check_heads
from keras_seq.layers.buffer_write import write_slice
from keras_seq.layers.sequence_attention import sequence_attention
from keras_seq.layers.single_query_attention import single_query_attention
from keras_seq.layers.transformer_block import TransformerBlock


@keras.saving.register_keras_serializable(package="keras_seq")
class TransformerDecoderBlock(TransformerBlock):
    """Transformer decoder layer: causal self-attention, cross-attention, FFN.

    Post-norm (`normalize_first=False`) computes `x = norm(x + sublayer(x))`;
    pre-norm (`normalize_first=True`) computes `x = x + sublayer(norm(x))`
    and leaves the final layer norm to the decoder.

    Two paths give the same outputs. Without `cache`, the whole target runs
    at once under a causal mask merged with `decoder_mask` (teacher forcing).
    With `cache`, one position is decoded: the cache is a `(keys, values)`
    pair of preallocated `(B, L, H, D // H)` buffers (L the longest target;
    lower-rank tensors than one stacked cache, far cheaper in LiteRT), the
    step's keys and values are written at `cache_index` with a masked select
    and the query attends to cache positions `<= cache_index`, with
    broadcast multiplies and sums (`single_query_attention`). Shapes are
    fixed and there is no Python control flow on tensor values, so a step
    runs inside a `tf.while_loop` and converts to TFLite builtins.

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
        x: float tensor `(B, T, D)`; `(B, 1, D)` with `cache`.
        memory: float tensor `(B, S, D)`, the encoder output.
        memory_mask: optional bool tensor `(B, S)`, True at real source tokens.
        decoder_mask: optional bool tensor `(B, T)`, True at real target
            tokens; masks padded keys. Only without `cache` (a step assumes
            padding trails the real tokens, so it never needs it).
        cache: optional `(keys, values)` pair of float tensors
            `(B, L, H, D // H)` in the compute dtype: decode one step.
        cache_index: int or scalar int tensor, the position of `x[:, 0]`;
            required with `cache`.
        memory_cache: optional `(keys, values)` of `memory` from
            `memory_cache(memory)`, each `(B, S, H, D // H)`; with `cache`
            only. Skips projecting the memory again at every step.
        training: Python bool. Enables dropout.
        return_attention: Python bool. Also return the cross-attention
            weights averaged over heads, float32 `(B, T, S)`.

    Returns:
        `y` `(B, T, D)`; with `cache`, `(y, (keys, values))`, the cache with
        the step written; with `return_attention`, the attention weights
        appended: `(y, attention)` or `(y, (keys, values), attention)`.

    Example:
    >>> block = keras_seq.layers.TransformerDecoderBlock(num_heads=2, ff_dim=32)
    >>> x = np.random.rand(2, 1, 16).astype("float32")
    >>> memory = np.random.rand(2, 5, 16).astype("float32")
    >>> cache = (np.zeros((2, 10, 2, 8), "float32"),) * 2
    >>> y, (keys, values) = block(x, memory, cache=cache, cache_index=0)
    >>> y.shape, keys.shape
    (TensorShape([2, 1, 16]), TensorShape([2, 10, 2, 8]))

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)
        - [Xiong et al., 2020](https://arxiv.org/abs/2002.04745) (pre-norm)
    """

    def build(self, x_shape, memory_shape=None):
        memory_shape = x_shape if memory_shape is None else memory_shape
        head_dim = check_heads(x_shape[-1], self.num_heads)
        self.self_attention, self.self_attention_norm = self._attention(
            "self_attention", head_dim, x_shape, x_shape
        )
        self.cross_attention, self.cross_attention_norm = self._attention(
            "cross_attention", head_dim, x_shape, memory_shape
        )
        self._build_feed_forward(x_shape)
        self.built = True

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
        self._check_cache_arguments(x, decoder_mask, cache, cache_index, memory_cache)
        # New tensors without Keras masks (Identity ops, gone after
        # conversion): the masks here are explicit, and the attention's
        # projections would warn about masks they drop.
        x, memory = ops.copy(x), ops.copy(memory)
        cross_mask = None
        if memory_mask is not None:
            cross_mask = ops.expand_dims(ops.cast(memory_mask, "bool"), 1)  # (B, 1, S)

        if cache is None:  # teacher forcing: the whole target at once
            length = ops.shape(x)[1]
            self_mask = ops.expand_dims(causal_mask(length, length), 0)  # (1, T, T)
            if decoder_mask is not None:
                keys = ops.expand_dims(ops.cast(decoder_mask, "bool"), 1)
                self_mask = ops.logical_and(self_mask, keys)  # (B, T, T)

            def self_attend(h):
                return sequence_attention(
                    self.self_attention, h, h, self_mask, training=training
                )  # (B, T, D), (B, H, T, T)

            def cross_attend(h):
                return sequence_attention(
                    self.cross_attention, h, memory, cross_mask, training=training
                )  # (B, T, D), (B, H, T, S)

        else:  # one step through the caches: weighted sums, see the module
            keys, values = cache
            index = ops.cast(cache_index, "int32")
            self_mask = causal_mask(1, ops.shape(keys)[1], index)  # (1, L)
            memory_keys, memory_values = (
                self.memory_cache(memory) if memory_cache is None else memory_cache
            )
            if cross_mask is not None:
                cross_mask = cross_mask[:, 0]  # (B, S)

            def self_attend(h):
                nonlocal keys, values
                keys, values = self._write_cache(keys, values, index, h)
                return single_query_attention(
                    self.self_attention, h, keys, values, self_mask
                )  # (B, 1, D), (B, H, 1, L)

            def cross_attend(h):
                return single_query_attention(
                    self.cross_attention, h, memory_keys, memory_values, cross_mask
                )  # (B, 1, D), (B, H, 1, S)

        x, _ = self._residual(x, self_attend, self.self_attention_norm, training)
        x, scores = self._residual(x, cross_attend, self.cross_attention_norm, training)
        x, _ = self._residual(x, self._feed_forward, self.ffn_norm, training)

        outputs = (x,) if cache is None else (x, (keys, values))
        if return_attention:
            attention = ops.mean(ops.cast(scores, "float32"), axis=1)
            outputs += (attention,)  # (B, T, S), averaged over heads
        return outputs[0] if len(outputs) == 1 else outputs

    @staticmethod
    def _check_cache_arguments(x, decoder_mask, cache, cache_index, memory_cache):
        def pair(value):
            return isinstance(value, (tuple, list)) and len(value) == 2

        if cache is None:
            for name, value in (("cache_index", cache_index), ("memory_cache", memory_cache)):
                if value is not None:
                    raise ValueError(
                        f"Invalid value for argument `{name}`: it needs a `cache` "
                        f"(a decoding step). Received: cache=None, {name}={value!r}"
                    )
            return
        if not pair(cache):
            raise ValueError(
                "Invalid value for argument `cache`. Expected a `(keys, values)` "
                "pair of `(B, L, H, D // H)` tensors. Received: "
                f"{type(cache).__name__}"
            )
        if memory_cache is not None and not pair(memory_cache):
            raise ValueError(
                "Invalid value for argument `memory_cache`. Expected the "
                "`(keys, values)` pair that `memory_cache(memory)` returns. "
                f"Received: {type(memory_cache).__name__}"
            )
        if cache_index is None:
            raise ValueError(
                "Invalid value for argument `cache_index`: a `cache` needs the "
                "position to write at. Received: cache_index=None"
            )
        if decoder_mask is not None:
            raise ValueError(
                "Invalid value for argument `decoder_mask`: it applies to the "
                "teacher-forced path only, not with a `cache`. Pass "
                "decoder_mask=None when stepping."
            )
        if x.shape[1] != 1:
            raise ValueError(
                "Invalid shape for argument `x`. With a `cache`, a step decodes "
                f"one position: expected (B, 1, D). Received: x.shape={tuple(x.shape)}"
            )

    def _write_cache(self, keys_cache, values_cache, index, h):
        """Project the step's keys and values and write them at `index`.

        Done here, not by an attention layer's own cache update, whose
        slice update lowers to XlaDynamicUpdateSlice (no TF Serving kernel
        without XLA JIT); `write_slice` uses core ops that are TFLite
        builtins too.
        """
        keys = self.self_attention.key_dense(h)  # (B, 1, H, D // H)
        values = self.self_attention.value_dense(h)
        keys = write_slice(keys_cache, index, keys, axis=1)  # (B, L, H, Dh)
        values = write_slice(values_cache, index, values, axis=1)
        return keys, values

    def memory_cache(self, memory):
        """The cross-attention `(keys, values)` of `memory`, each `(B, S, H, Dh)`.

        They depend on the memory only, so a decoding loop computes them once
        (`initial_state`) and passes them back as `memory_cache` each step.
        """
        memory = ops.copy(memory)
        keys = self.cross_attention.key_dense(memory)  # (B, S, H, Dh)
        values = self.cross_attention.value_dense(memory)
        return keys, values

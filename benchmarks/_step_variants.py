"""Step variants that litert_step_profile.py exports and times side by side.

Each is a context manager that patches keras_seq while a model is exported:
ablations (a piece of the Transformer step dropped, to price it; their ids
differ) and prototypes of fixes, some in `keras_seq.decoding` and
`keras_seq.models`, which this benchmark patches for the measurement only.
`VARIANTS` maps a name to a callable returning the context manager.
"""

import contextlib
import importlib
import math

import tensorflow as tf
from keras import ops

from keras_seq.decoders import transformer_decoder as td
from keras_seq.layers import attention_shapes, buffer_write
from keras_seq.layers import transformer_decoder_block as tdb
from keras_seq.layers.masking import masked_softmax


@contextlib.contextmanager
def patched(owner, **attributes):
    saved = {name: getattr(owner, name) for name in attributes}
    for name, value in attributes.items():
        setattr(owner, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(owner, name, value)


def no_cache_write():
    """Ablation: the self-attention cache is never written."""
    return patched(tdb, write_slice=lambda buffer, start, update, axis=1: buffer)


def mul_sum_attention_off():
    """Ablation: attention outputs zeros of the right shape (no cache reads)."""

    def attention(layer, query, keys, values, mask=None):
        q = layer.query_dense(query)  # (B, 1, H, Dh)
        out = layer.output_dense(q)
        weights = ops.zeros_like(keys[:, :, :, 0])  # (B, L, H)
        weights = ops.expand_dims(ops.transpose(weights, (0, 2, 1)), 2)
        return out, weights

    return patched(tdb, single_query_attention=attention)


def head_major(values_transposed):
    """Caches laid out (B, H, L, Dh) (values (B, H, Dh, L) if transposed),
    attention as two BATCH_MATMULs over them."""

    def state_layout(tensor, values):  # (B, L, H, Dh) -> the cache layout
        perm = (0, 2, 3, 1) if values and values_transposed else (0, 2, 1, 3)
        return ops.transpose(tensor, perm)

    cache_length = {}

    def causal_mask(query_length, key_length, start=0):
        # The block reads L from axis 1 of the cache, here H.
        return attention_shapes.causal_mask(query_length, cache_length["L"], start)

    def initial_state(self, encoder_output):
        cache_length["L"] = self.max_length
        memory = encoder_output.sequence
        if not self.built:
            self.build(None, (tuple(memory.shape), None, None))
        batch_size, source_length = ops.shape(memory)[0], ops.shape(memory)[1]
        keys_shape = (batch_size, self.num_heads, self.max_length, self.head_dim)
        values_shape = ((batch_size, self.num_heads, self.head_dim, self.max_length)
                        if values_transposed else keys_shape)
        memory_keys, memory_values = [], []
        for block in self.blocks:
            keys, values = block.memory_cache(memory)
            memory_keys.append(ops.cast(keys, self.compute_dtype))
            memory_values.append(ops.cast(values, self.compute_dtype))
        layers = range(self.num_layers)
        return {
            "keys": [ops.zeros(keys_shape, self.compute_dtype) for _ in layers],
            "values": [ops.zeros(values_shape, self.compute_dtype) for _ in layers],
            "memory_keys": memory_keys,
            "memory_values": memory_values,
            "index": ops.zeros((batch_size,), dtype="int32"),
            "attention": ops.zeros((batch_size, source_length), "float32"),
        }

    def state_spec(self, batch_size=None, source_length=None):
        cache_length["L"] = self.max_length
        h, d = self.num_heads, self.head_dim
        def spec(*shape):
            return tf.TensorSpec((batch_size,) + shape, self.compute_dtype)
        layers = range(self.num_layers)
        values = (spec(h, d, self.max_length) if values_transposed
                  else spec(h, self.max_length, d))
        return {
            "keys": [spec(h, self.max_length, d) for _ in layers],
            "values": [values for _ in layers],
            "memory_keys": [spec(h, source_length, d) for _ in layers],
            "memory_values": [spec(h, d, source_length) if values_transposed
                              else spec(h, source_length, d) for _ in layers],
            "index": tf.TensorSpec((batch_size,), tf.int32),
            "attention": tf.TensorSpec((batch_size, source_length), tf.float32),
        }

    def memory_cache(self, memory):
        memory = ops.copy(memory)
        keys = self.cross_attention.key_dense(memory)  # (B, S, H, Dh)
        values = self.cross_attention.value_dense(memory)
        return state_layout(keys, False), state_layout(values, True)

    def write_cache(self, keys_cache, values_cache, index, h):
        keys = state_layout(self.self_attention.key_dense(h), False)  # (B, H, 1, Dh)
        values = state_layout(self.self_attention.value_dense(h), True)
        keys = buffer_write.write_slice(keys_cache, index, keys, axis=2)
        values = buffer_write.write_slice(values_cache, index, values,
                                          axis=3 if values_transposed else 2)
        return keys, values

    def attention(layer, query, keys, values, mask=None):
        q = layer.query_dense(query)  # (B, 1, H, Dh)
        q = ops.multiply(q, ops.cast(1.0 / math.sqrt(int(q.shape[-1])), q.dtype))
        q = ops.transpose(q, (0, 2, 1, 3))  # (B, H, 1, Dh)
        scores = tf.linalg.matmul(q, keys, transpose_b=True)[:, :, 0]  # (B, H, L)
        if mask is not None:
            mask = ops.expand_dims(ops.cast(mask, "bool"), 1)  # (B, 1, L)
        weights = masked_softmax(scores, mask)  # (B, H, L)
        output = tf.linalg.matmul(ops.expand_dims(weights, 2), values,
                                  transpose_b=values_transposed)  # (B, H, 1, Dh)
        output = layer.output_dense(ops.transpose(output, (0, 2, 1, 3)))  # (B, 1, D)
        return output, ops.expand_dims(weights, 2)

    stack = contextlib.ExitStack()
    stack.enter_context(patched(td.TransformerDecoder, initial_state=initial_state,
                                state_spec=state_spec))
    stack.enter_context(patched(tdb.TransformerDecoderBlock, memory_cache=memory_cache,
                                _write_cache=write_cache))
    stack.enter_context(patched(tdb, single_query_attention=attention,
                                causal_mask=causal_mask))
    return stack


def _stack(*variants):
    stack = contextlib.ExitStack()
    for variant in variants:
        stack.enter_context(VARIANTS[variant]())
    return stack


VARIANTS = {
    "base": contextlib.nullcontext,
    "no-cache-write": no_cache_write,
    "no-attention": mul_sum_attention_off,
    "no-attention-no-write": lambda: _stack("no-cache-write", "no-attention"),
    "head-major-bmm": lambda: head_major(False),
    "head-major-bmm-vt": lambda: head_major(True),
}


def keys_every_step():
    """The attention RNN decoders before the keys moved into the state:
    `memory_keys` dropped, so every step projects the memory again."""
    from keras_seq.decoders.attention_rnn_decoder import AttentionRNNDecoder as cls

    initial_state, state_spec = cls.initial_state, cls.state_spec

    def without_keys(method):
        @tf.autograph.experimental.do_not_convert
        def wrapped(self, *args, **kwargs):
            tree = method(self, *args, **kwargs)
            tree.pop("memory_keys", None)
            return tree
        return wrapped

    return patched(cls, initial_state=without_keys(initial_state),
                   state_spec=without_keys(state_spec))


VARIANTS["keys-every-step"] = keys_every_step


def beam_keeps_memory():
    """Prototype of a decoding change: beam search leaves the state's
    `memory_*` entries (per-source projections, equal across an item's
    beams) in place instead of gathering them every step."""
    module = importlib.import_module("keras_seq.decoding.beam_search")

    gather = module.reorder_state

    @tf.autograph.experimental.do_not_convert
    def reorder(state, indices):
        if not isinstance(state, dict):
            return gather(state, indices)
        return {key: value if key.startswith("memory_") else gather(value, indices)
                for key, value in state.items()}

    return patched(module, reorder_state=reorder)


VARIANTS["beam-keeps-memory"] = beam_keeps_memory


def cache_length(length):
    """Prototype of a generation change: the Transformer's self-attention
    caches hold `length` positions (the decode's max_length) instead of
    the decoder's `max_length` (64 here)."""
    cls = td.TransformerDecoder
    initial_state, state_spec = cls.initial_state, cls.state_spec

    def shortened(method):
        @tf.autograph.experimental.do_not_convert
        def wrapped(self, *args, **kwargs):
            saved = self.max_length
            self.max_length = length
            try:
                return method(self, *args, **kwargs)
            finally:
                self.max_length = saved
        return wrapped

    return patched(cls, initial_state=shortened(initial_state),
                   state_spec=shortened(state_spec))


VARIANTS["cache-20"] = lambda: cache_length(20)
VARIANTS["cache-20+beam-keeps-memory"] = lambda: _stack("cache-20", "beam-keeps-memory")
VARIANTS["cache-50"] = lambda: cache_length(50)  # 2 * 20 + 10: decode_latency's longest


def encoder_projection_hoisted():
    """Prototype: the export-safe recurrence projects every position's input
    in one matmul before its loop (as the training kernel does); only
    `h_{t-1} U` stays inside."""
    from keras_seq.layers import fast_recurrence as fast
    from keras_seq.layers import recurrence

    original = recurrence.run_rnn

    @tf.autograph.experimental.do_not_convert
    def run_rnn(cell, inputs, mask, initial_states, reverse=False, training=False):
        if training:
            return original(cell, inputs, mask, initial_states, reverse, training)
        steps = ops.shape(inputs)[1]
        projected = ops.transpose(fast.input_projection(cell, inputs), (1, 0, 2))
        time_mask = ops.transpose(mask, (1, 0))  # (S, B)
        batch = ops.shape(inputs)[0]
        outputs = ops.zeros((steps, batch, cell.units), dtype=initial_states[0].dtype)

        def body(i, carry):
            outputs, states = carry
            t = steps - 1 - i if reverse else i
            new = fast.recurrent_update(
                cell, projected[t], fast.recurrent_product(cell, states[0]), states)
            keep = ops.expand_dims(time_mask[t], -1)
            states = tuple(ops.where(keep, n, o) for n, o in zip(new, states))
            output = ops.where(keep, new[0], ops.zeros_like(new[0]))
            return buffer_write.write_step(outputs, t, output), states

        outputs, states = recurrence.counted_loop(
            steps, body, (outputs, tuple(initial_states)))
        return ops.transpose(outputs, (1, 0, 2)), states

    return patched(recurrence, run_rnn=run_rnn)


VARIANTS["encoder-hoisted"] = encoder_projection_hoisted

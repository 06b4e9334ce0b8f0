"""Shared call logic of the Bahdanau and Luong attention layers."""

import keras
from keras import ops

from keras_seq.layers.masking import masked_softmax


class AttentionBase(keras.layers.Layer):
    """Scores a query against a memory, masks, softmaxes and mixes.

    Subclasses implement `_score(query (B, T, Dq), memory (B, S, Dm))`
    returning scores `(B, T, S)`; the memory keys may be precomputed once per
    sequence by overriding `_keys`.
    """

    def _keys(self, memory):
        return memory

    def _score(self, query, keys):
        raise NotImplementedError

    def keys(self, memory):
        """The memory's keys, which depend only on the memory.

        A decoder that attends at every step computes them once per
        sequence and passes them back as the `keys` call argument (or to
        `attend`). They have the compute dtype whether or not the layer is
        being called (mixed precision: the kernels are cast here, since
        Keras autocasts them only inside a call).

        Args:
            memory: float tensor `(B, S, Dm)`.

        Returns:
            The keys `(B, S, K)` (the memory itself for Luong's dot score).
        """
        return self._keys(ops.cast(memory, self.compute_dtype))

    def attend(self, query, memory, keys, memory_mask=None):
        """`call` with keys from `keys(memory)`; the same results."""
        squeeze = len(query.shape) == 2
        if squeeze:
            query = ops.expand_dims(query, 1)  # (B, 1, Dq)
        memory = ops.cast(memory, self.compute_dtype)
        query = ops.cast(query, self.compute_dtype)
        scores = self._score(query, keys)  # (B, T, S)
        mask = None
        if memory_mask is not None:
            mask = ops.expand_dims(ops.cast(memory_mask, "bool"), 1)  # (B, 1, S)
        weights = masked_softmax(scores, mask)  # (B, T, S)
        context = ops.matmul(weights, memory)  # (B, T, Dm)
        if squeeze:
            return context[:, 0], weights[:, 0]
        return context, weights

    def call(self, query, memory, memory_mask=None, keys=None):
        if keys is None:
            keys = self.keys(memory)
        return self.attend(query, memory, keys, memory_mask)

    def compute_output_spec(self, query, memory, memory_mask=None, keys=None):
        shape = tuple(query.shape[:-1])
        context = keras.KerasTensor(
            shape + (memory.shape[-1],), dtype=self.compute_dtype
        )
        weights = keras.KerasTensor(
            shape + (memory.shape[1],), dtype=self.compute_dtype
        )
        return context, weights

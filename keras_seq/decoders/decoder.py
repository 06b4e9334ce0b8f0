"""The contract every keras_seq decoder implements."""

import keras


@keras.saving.register_keras_serializable(package="keras_seq")
class Decoder(keras.layers.Layer):
    """Base class of keras_seq decoders.

    A decoder turns target ids and an `EncoderOutput` into logits. It offers
    two equivalent paths: teacher forcing over a whole target sequence
    (`call`) and one token at a time (`initial_state` then `step`), which the
    in-graph decoding loops drive. Both give the same logits.

    Every tensor in a decoder state has a leading batch dimension, so that
    beam search can tile and reorder any state tree with `tf.gather`. Entries
    of a dict state named `memory_*` depend on the encoder output only:
    `step` reads them and returns them unchanged, so generation keeps them
    out of the decoding loop (beam search never reorders them).

    Call arguments:
        decoder_ids: int tensor `(B, T)`, BOS-prefixed target ids, PAD=0.
        encoder_output: the `EncoderOutput` of the paired encoder.
        training: Python bool.
        return_attention: Python bool. When True, also return attention
            weights `(B, T, S)` (decoders without attention return `None`).

    Returns:
        logits `(B, T, V)` in float32, or `(logits, attention)`.
    """

    def initial_state(self, encoder_output):
        """Return the decoder state before the first step (a tensor tree)."""
        raise NotImplementedError

    def state_spec(self, batch_size=None, source_length=None):
        """The `tf.TensorSpec` tree of `initial_state`'s result.

        Read from the config, without running anything: the exporters name
        and type the state inputs and outputs of `decode_step` with it.

        Args:
            batch_size: int or None. `B`; None leaves it unknown.
            source_length: int or None. `S`; None leaves it unknown.

        Returns:
            A tree of `tf.TensorSpec` with the structure, shapes and dtypes
            of `initial_state(encoder_output)` for such an encoder output.
        """
        raise NotImplementedError

    def step(self, ids_t, state, encoder_output):
        """Decode one token for every row.

        Args:
            ids_t: int tensor `(B,)`, the previous token of each row.
            state: the state tree from `initial_state` or the previous step.
            encoder_output: the `EncoderOutput` (tiled to the state's batch).

        Returns:
            `(logits, new_state)`: float32 logits `(B, V)` and the next state.
        """
        raise NotImplementedError

    def sanitize_state(self, state):
        """Make a state that came from outside the graph safe to step from.

        Exports whose steps an app drives (TFLite `decode_step`) call this on
        the state the app feeds back, so a corrupt value gives defined logits
        instead of a failed invoke or an out-of-bounds read. Float NaN/inf
        and out-of-vocabulary ids are handled by the export itself; this
        hook covers what only the decoder knows (a Transformer's cache
        position). The default returns `state` unchanged.

        Args:
            state: a state tree as `step` takes it.

        Returns:
            A state tree of the same structure.
        """
        return state

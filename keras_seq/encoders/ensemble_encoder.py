"""Several encoders over one source, their memories side by side."""

import keras
from keras import ops

from keras_seq._nested_config import deserialize_lists, serialize_list
from keras_seq.encoders.encoder_output import EncoderOutput


@keras.saving.register_keras_serializable(package="keras_seq")
class EnsembleEncoder(keras.layers.Layer):
    """Runs the encoders of an ensemble's members on the same source ids.

    The members' memories are concatenated along the feature axis, so the
    ensemble's `EncoderOutput` has one `sequence` tensor (what beam search
    tiles and what the `encode`/`decode_step` exports pass around);
    `keras_seq.decoders.EnsembleDecoder` splits it again with
    `output_dims`. Built by `keras_seq.models.Ensemble`.

    Args:
        encoders: list of keras_seq encoders (each returns an
            `EncoderOutput`) reading the same source vocabulary.

    Call arguments:
        encoder_ids: int `(B, S)` source ids, PAD=0.
        training: Python bool.

    Returns:
        `EncoderOutput` with `sequence` `(B, S, sum(output_dims))` in this
        layer's compute dtype (float32 unless every member computes in the
        same other dtype), `state` a tuple of the members' states (one entry
        per member) and the first member's `padding_mask` `(B, S)` (every
        member's is `ids != PAD`).

    Example:

    >>> encoder = keras_seq.encoders.EnsembleEncoder(
    ...     [keras_seq.encoders.RNNEncoder(20, units=8),
    ...      keras_seq.encoders.RNNEncoder(20, units=16)])
    >>> encoder(np.array([[5, 6, 0]])).sequence.shape
    TensorShape([1, 3, 24])
    """

    def __init__(self, encoders, **kwargs):
        encoders = list(encoders)
        dtypes = {encoder.compute_dtype for encoder in encoders}
        if "dtype" not in kwargs:
            kwargs["dtype"] = encoders[0].dtype_policy if len(dtypes) == 1 else "float32"
        super().__init__(**kwargs)
        self.encoders = encoders
        self.output_dims = [int(encoder.output_dim) for encoder in encoders]
        self.vocab_size = encoders[0].vocab_size
        lengths = [getattr(e, "max_length", None) for e in encoders]
        lengths = [length for length in lengths if length is not None]
        # The longest source every member accepts (a Transformer's positions).
        self.max_length = min(lengths) if lengths else None

    @property
    def output_dim(self):
        """Width of the concatenated memory: the sum of the members'."""
        return sum(self.output_dims)

    def build(self, encoder_ids_shape=None):
        for encoder in self.encoders:
            if not encoder.built:
                encoder.build(encoder_ids_shape)
        self.built = True

    def call(self, encoder_ids, training=False):
        outputs = [encoder(encoder_ids, training=training) for encoder in self.encoders]
        return self._combine(outputs)

    def compute_output_spec(self, encoder_ids, training=False):
        outputs = [encoder.compute_output_spec(encoder_ids) for encoder in self.encoders]
        batch, steps = encoder_ids.shape
        return EncoderOutput(
            keras.KerasTensor((batch, steps, self.output_dim), dtype=self.compute_dtype),
            tuple(output.state for output in outputs),
            outputs[0].padding_mask,
        )

    def _combine(self, outputs):
        sequence = ops.concatenate(
            [ops.cast(output.sequence, self.compute_dtype) for output in outputs], axis=-1
        )  # (B, S, sum D_i)
        return EncoderOutput(
            sequence, tuple(output.state for output in outputs), outputs[0].padding_mask
        )

    def get_config(self):
        config = super().get_config()
        config["encoders"] = serialize_list(self.encoders)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_lists(config, "encoders"))

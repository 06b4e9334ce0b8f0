"""An encoder-decoder model that trains with `fit`."""

import keras
from keras import ops

from keras_seq.layers.validation import check_ids

INPUT_KEYS = ("encoder_ids", "decoder_ids")


@keras.saving.register_keras_serializable(package="keras_seq")
class Seq2Seq(keras.Model):
    """Sequence-to-sequence model: any keras_seq encoder and decoder.

    Training uses teacher forcing: the decoder reads the BOS-prefixed target
    and predicts the next token at every position. Pair it with
    `keras_seq.metrics.MaskedSparseCrossEntropy` so PAD positions are
    ignored.

    Args:
        encoder: a keras_seq encoder (returns an `EncoderOutput`).
        decoder: a keras_seq decoder (a `keras_seq.decoders.Decoder`).

    Call arguments:
        inputs: dict with `"encoder_ids"` int `(B, S)` and `"decoder_ids"`
            int `(B, T)`, PAD=0.
        training: Python bool.
        return_attention: Python bool. Also return the decoder's attention
            weights `(B, T, S)` (`None` for decoders without attention).

    Returns:
        float32 logits `(B, T, V)` (or `(logits, weights)`).

    Example:

    >>> model = keras_seq.models.rnn_seq2seq(20, 20, units=16)
    >>> model.compile("adam", keras_seq.metrics.MaskedSparseCrossEntropy())
    >>> logits = model({"encoder_ids": np.array([[5, 6, 3]]),
    ...                 "decoder_ids": np.array([[2, 6, 5]])})
    >>> logits.shape
    TensorShape([1, 3, 20])
    """

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder

    def build(self, input_shape=None):
        if not isinstance(input_shape, dict):
            input_shape = {"encoder_ids": (None, None), "decoder_ids": (None, None)}
        if not self.encoder.built:
            self.encoder.build(input_shape.get("encoder_ids", (None, None)))
        if self.decoder.built:
            self.built = True
            return
        spec = self.encoder.compute_output_spec(
            keras.KerasTensor(input_shape.get("encoder_ids", (None, None)), "int32")
        )
        self.decoder.build(
            input_shape.get("decoder_ids", (None, None)),
            keras.tree.map_structure(lambda x: tuple(x.shape), spec),
        )
        self.built = True

    def _unpack(self, inputs):
        if not isinstance(inputs, dict) or any(k not in inputs for k in INPUT_KEYS):
            received = sorted(inputs) if isinstance(inputs, dict) else type(inputs)
            raise ValueError(
                "Invalid value for argument `inputs`. Expected a dict with keys "
                f"{set(INPUT_KEYS)}. Received: {received}"
            )
        return (
            check_ids(inputs["encoder_ids"], "encoder_ids"),
            check_ids(inputs["decoder_ids"], "decoder_ids"),
        )

    def call(self, inputs, training=False, return_attention=False):
        encoder_ids, decoder_ids = self._unpack(inputs)
        encoder_output = self.encoder(encoder_ids, training=training)
        return self.decoder(
            decoder_ids,
            encoder_output,
            training=training,
            return_attention=return_attention,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "encoder": keras.saving.serialize_keras_object(self.encoder),
                "decoder": keras.saving.serialize_keras_object(self.decoder),
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        config["decoder"] = keras.saving.deserialize_keras_object(config["decoder"])
        return cls(**config)

"""An encoder-decoder model that trains with `fit`."""

import keras
import tensorflow as tf

from keras_seq import decoding
from keras_seq.arguments import check_ids
from keras_seq.models.generation import (
    check_controls,
    check_decode_length,
    check_source_ids,
    check_target_prefix,
    default_max_length,
    generate_ids,
)

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

    def generate(self, encoder_ids, strategy="greedy", max_length=None, target_prefix=None,
                 **controls):
        """Generate target ids for a batch of sources, in one TF graph.

        The encoder runs once; the decoder's `step` runs inside one
        `tf.while_loop` (compiled with `tf.function`, traced once per
        strategy, `max_length` and controls), every row stopping at its own
        EOS and the loop stopping when all rows have finished or after
        `max_length` steps.

        Args:
            encoder_ids: int `(B, S)` source ids, PAD=0.
            strategy: a `keras_seq.decoding` strategy (`Greedy()`,
                `Beam(size=4, length_penalty=0.0, num_return=1)`,
                `Sample(temperature=1.0, top_k=0, top_p=1.0, seed=None)`) or
                its name (`"greedy"`, `"beam"`, `"sample"`: its defaults).
                Defaults to `"greedy"`.
            max_length: int or None. Most tokens to generate, EOS included.
                `None` uses `2 * S + 10`, capped by a Transformer decoder's
                `max_length`.
            target_prefix: int `(B, P)` or None. Tokens each output must
                start with (CTranslate2's `target_prefix`), PAD-padded: a
                row's prefix ends at its first PAD, so rows may have
                prefixes of different lengths (or none). The outputs include
                their prefix. Defaults to `None`.
            **controls: the keyword arguments of `keras_seq.decoding.Controls`:
                `min_length`, `max_length_a`, `max_length_b`,
                `no_repeat_ngram_size`, `repetition_penalty`,
                `coverage_penalty` (beam), `return_token_scores`,
                `return_attention` (see there).

        Raises:
            ValueError: for an unknown strategy or control, a `max_length`
                out of range, ids outside the source (or, for the prefix,
                target) vocabulary, or a source longer than a Transformer
                encoder's `max_length` (the exports read such ids as UNK and
                truncate such sources instead).
            TypeError: for float ids.

        Returns:
            Dict: `ids` int32 `(B, T)` (EOS excluded, PAD after the end),
            `lengths` int32 `(B,)`, `scores` float32 `(B,)` (summed
            log-probabilities, length-penalised for beam), and with
            `return_token_scores=True` `token_scores` float32 `(B, T)`, with
            `return_attention=True` `attention` float32 `(B, T, S)`.
            With a beam's `num_return > 1` each has a leading n-best axis.

        Example:
        >>> out = model.generate(ids, strategy=keras_seq.decoding.Beam(size=8),
        ...                      no_repeat_ngram_size=3)  # doctest: +SKIP
        """
        strategy = decoding.get(strategy)
        controls = decoding.Controls.from_kwargs(controls)
        check_controls(self.decoder, strategy, controls)
        check_decode_length(self.decoder, max_length)
        ids = check_ids(encoder_ids, "encoder_ids")  # int32 (B, S)
        check_source_ids(self.encoder, encoder_ids)  # values, before the cast
        inputs = [ids]
        if target_prefix is not None:
            inputs.append(check_target_prefix(self.decoder, target_prefix, ids.shape[0]))
        if not self.built:
            self.build()  # create variables outside the traced function
        key = (strategy, max_length, controls, len(inputs))
        cache = self.__dict__.setdefault("_generate_functions", {})
        if key not in cache:

            def generate(ids, prefix=None):
                return self._generate(ids, strategy, max_length, controls, prefix)

            cache[key] = tf.function(
                generate,
                input_signature=[tf.TensorSpec((None, None), tf.int32)] * len(inputs),
                reduce_retracing=True,
            )
        return cache[key](*inputs)

    def _generate(self, encoder_ids, strategy, max_length=None, controls=None,
                  target_prefix=None):
        if max_length is None:
            max_length = default_max_length(self.decoder, tf.shape(encoder_ids)[1])
        return generate_ids(self.encoder, self.decoder, encoder_ids, max_length, strategy,
                            controls, target_prefix)

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

"""The tf.Module that both exporters trace: generation, encode, decode_step."""

import keras
import tensorflow as tf

from keras_seq.arguments import check_choice, check_int
from keras_seq.constants import UNK
from keras_seq.encoders.encoder_output import EncoderOutput
from keras_seq.export.request_bounds import (
    DEFAULT_MAX_BATCH_SIZE,
    DEFAULT_MAX_BATCH_TOKENS,
    DEFAULT_MAX_INPUT_LENGTH,
    bound_batch,
    bound_request,
    bound_text_bytes,
    finite_or_zero,
)
from keras_seq.layers.kernels import use_kernel
from keras_seq.models.generation import (
    check_decode_length,
    default_max_length,
    generate_ids,
)

EXPORT_METHODS = ("greedy", "beam")


def _state_names(state):
    """Flat signature names of a state tree: 'rnn_0_1', 'feed', 'cache'..."""
    paths = keras.tree.flatten_with_path(state)
    return ["state_" + "_".join(str(p) for p in path) for path, _ in paths]


def _unk_outside(ids, vocab_size):
    """Ids outside `[0, vocab_size)` to UNK."""
    in_range = tf.logical_and(ids >= 0, ids < vocab_size)
    return tf.where(in_range, ids, tf.fill(tf.shape(ids), UNK))


class ServingModule(tf.Module):
    """Holds a `Seq2Seq` and its tokenizers and exposes traced functions.

    Inputs are made safe before the model sees them: ids outside
    `[0, vocab_size)` become UNK, sources longer than `max_source_length`
    are truncated, and an empty source (no column, or only PAD) yields an
    empty output with score 0. `decode_step` reads NaN and +-inf in its
    float inputs as 0.

    Requests past the bounds (`max_batch_size` inputs, `max_input_length`
    tokens in one input, `max_batch_tokens` in all) are refused by a
    `tf.debugging.Assert` (`InvalidArgumentError` naming the bound and the
    size received); the TFLite converter drops assertions, so a `.tflite`
    file cuts the request to the bounds instead (see
    `keras_seq.export.request_bounds`). Decoding memory then stays within
    a constant times `max_batch_tokens * beam_size` (plus
    `max_batch_size * beam_size * max_length` for a fixed `max_length`).

    Args:
        model: a built `keras_seq.models.Seq2Seq`.
        method: `"greedy"` or `"beam"`.
        beam_size: int, for beam.
        length_penalty: float, GNMT alpha for beam.
        max_length: int or None. Most generated tokens (EOS included);
            `None` uses `2 * S + 10`, capped by a Transformer's cache.
        max_source_length: int or None. Longer sources are truncated; also
            the static source length of `encode`/`decode_step`. Defaults to
            a Transformer encoder's `max_length`.
        batch_size: int or None. A static batch for `encode`/`decode_step`.
        source_tokenizer, target_tokenizer: optional keras_seq tokenizers.
        max_batch_size: int. Most inputs per request. Defaults to `1024`.
        max_input_length: int. Most tokens in one input; longer inputs are
            refused (inputs longer than `max_source_length` but within this
            are truncated). Defaults to `16384`.
        max_batch_tokens: int. Most `B * S` per request, `S` the longest
            input after truncation. Defaults to `65536`.
    """

    def __init__(
        self,
        model,
        method="greedy",
        beam_size=4,
        length_penalty=0.0,
        max_length=None,
        max_source_length=None,
        batch_size=None,
        source_tokenizer=None,
        target_tokenizer=None,
        max_batch_size=DEFAULT_MAX_BATCH_SIZE,
        max_input_length=DEFAULT_MAX_INPUT_LENGTH,
        max_batch_tokens=DEFAULT_MAX_BATCH_TOKENS,
    ):
        super().__init__(name="keras_seq_serving")
        check_choice("method", method, EXPORT_METHODS)
        beam_size = check_int("beam_size", beam_size)
        check_decode_length(model.decoder, max_length)
        max_source_length = check_int("max_source_length", max_source_length, allow_none=True)
        batch_size = check_int("batch_size", batch_size, allow_none=True)
        max_batch_size = check_int("max_batch_size", max_batch_size)
        max_input_length = check_int("max_input_length", max_input_length)
        max_batch_tokens = check_int("max_batch_tokens", max_batch_tokens)
        if not model.built:
            model.build()
        # Track the TF variables behind the Keras ones, not the Keras
        # objects: the SavedModel then holds variables and traced functions
        # only, and the TFLite converter can freeze them into constants
        # (tracking the Keras wrappers leaves VAR_HANDLE/READ_VARIABLE ops).
        self.__dict__["model"] = model
        self.model_variables = [v.value for v in model.variables]
        self.method = method
        self.beam_size = beam_size
        self.length_penalty = float(length_penalty)
        self.max_length = max_length
        self.max_source_length = max_source_length or getattr(
            model.encoder, "max_length", None
        )
        self.batch_size = batch_size
        self.source_vocab_size = int(model.encoder.vocab_size)
        self.target_vocab_size = int(model.decoder.vocab_size)
        self.source_tokenizer = source_tokenizer
        self.target_tokenizer = target_tokenizer
        self.max_batch_size = max_batch_size
        self.max_input_length = max_input_length
        self.max_batch_tokens = max_batch_tokens
        self._state_template = self._probe_state()

    # -- input safety -----------------------------------------------------
    def sanitize(self, encoder_ids, name="encoder_ids"):
        """Request bounds, truncation to `max_source_length`, bad ids to UNK."""
        ids = bound_request(
            tf.cast(encoder_ids, tf.int32),
            name,
            self.max_batch_size,
            self.max_input_length,
            self.max_batch_tokens,
            self.max_source_length,
        )  # (B, S)
        return _unk_outside(ids, self.source_vocab_size)

    # -- generation -------------------------------------------------------
    def generate_ids(self, encoder_ids, name="encoder_ids"):
        ids = self.sanitize(encoder_ids, name)
        max_length = self.max_length
        if max_length is None:
            max_length = default_max_length(self.model.decoder, tf.shape(ids)[1])
        out = generate_ids(
            self.model.encoder,
            self.model.decoder,
            ids,
            max_length,
            method=self.method,
            beam_size=self.beam_size,
            length_penalty=self.length_penalty,
        )
        return out

    def generate_text(self, text):
        # Refuse a batch past the bound, and texts too long by far, before
        # tokenizing; the length bounds proper are checked on the ids.
        text = bound_batch(text, "text", self.max_batch_size)  # (B,)
        text = bound_text_bytes(text, "text", self.max_input_length)  # (B,)
        ids = self.source_tokenizer.tokenize(text)  # (B, S)
        out = self.generate_ids(ids, name="text")
        return {
            "text": self.target_tokenizer.detokenize(out["ids"], out["lengths"]),
            "score": out["scores"],
        }

    # -- app-driven decoding ---------------------------------------------
    def _probe_state(self):
        """Which state dims follow the batch and the source length."""
        probes = []
        for batch, steps in ((1, 2), (2, 3)):
            ids = tf.fill((batch, steps), 4 % self.source_vocab_size or 1)
            encoded = self.model.encoder(ids)
            self._memory_width = int(encoded.sequence.shape[-1])
            probes.append(self.model.decoder.initial_state(encoded))
        flat_a, flat_b = (keras.tree.flatten(p) for p in probes)
        specs = []
        for a, b in zip(flat_a, flat_b):
            shape = [
                self._dim(i, da, db) for i, (da, db) in enumerate(zip(a.shape, b.shape))
            ]
            specs.append(tf.TensorSpec(shape, a.dtype))
        return keras.tree.pack_sequence_as(probes[0], specs)

    def _dim(self, axis, a, b):
        if axis == 0:
            return self.batch_size
        if a != b:
            return self.max_source_length if self._static else None
        return a

    @property
    def _static(self):
        return self.max_source_length is not None and self.batch_size is not None

    def state_specs(self):
        """Named TensorSpecs of the flat decoder state."""
        flat = keras.tree.flatten(self._state_template)
        return dict(zip(_state_names(self._state_template), flat))

    def source_spec(self):
        length = self.max_source_length if self._static else None
        return tf.TensorSpec((self.batch_size, length), tf.int32, name="encoder_ids")

    def encode(self, encoder_ids):
        ids = self.sanitize(encoder_ids)
        encoded = self.model.encoder(ids, training=False)
        state = self.model.decoder.initial_state(encoded)
        outputs = {
            "memory": encoded.sequence,
            "memory_mask": tf.cast(encoded.padding_mask, tf.int32),
        }
        outputs.update(zip(_state_names(state), keras.tree.flatten(state)))
        return outputs

    def decode_step(self, inputs):
        # The app feeds these back; NaN or +-inf there reads as 0, an id
        # outside the target vocabulary as UNK, and the decoder makes the
        # rest of its state safe (a Transformer's cache position).
        inputs = {
            k: finite_or_zero(v) if v.dtype.is_floating else v
            for k, v in inputs.items()
        }
        names = _state_names(self._state_template)
        state = keras.tree.pack_sequence_as(
            self._state_template, [inputs[name] for name in names]
        )
        state = self.model.decoder.sanitize_state(state)
        encoded = EncoderOutput(
            inputs["memory"], (), tf.cast(inputs["memory_mask"], tf.bool)
        )
        ids = _unk_outside(inputs["ids"], self.target_vocab_size)  # (B,)
        logits, new_state = self.model.decoder.step(ids, state, encoded)
        outputs = {"logits": logits}
        outputs.update(zip(names, keras.tree.flatten(new_state)))
        return outputs

    def decode_step_signature(self):
        length = self.max_source_length if self._static else None
        specs = {
            "ids": tf.TensorSpec((self.batch_size,), tf.int32, name="ids"),
            "memory": tf.TensorSpec(
                (self.batch_size, length, self._memory_width),
                self.model.encoder.compute_dtype,
                name="memory",
            ),
            "memory_mask": tf.TensorSpec(
                (self.batch_size, length), tf.int32, name="memory_mask"
            ),
        }
        for name, spec in self.state_specs().items():
            specs[name] = tf.TensorSpec(spec.shape, spec.dtype, name=name)
        return specs

    # -- signatures -------------------------------------------------------
    def signatures(self, names):
        """Concrete functions for the requested signature names.

        Each function is named after its signature: the TFLite converter
        names signatures after the functions it converts.
        """
        ids_spec = tf.TensorSpec((None, None), tf.int32, name="encoder_ids")

        def generate_ids(encoder_ids):
            return self.generate_ids(encoder_ids)

        def generate(encoder_ids):
            return pad_empty_width(self.generate_ids(encoder_ids))

        def text(text):
            return self.generate_text(text)

        def encode(encoder_ids):
            return self.encode(encoder_ids)

        def decode_step(**inputs):
            return self.decode_step(inputs)

        specs = {
            "generate_ids": lambda: (generate_ids, [ids_spec], {}),
            "generate": lambda: (generate, [ids_spec], {}),
            "text": lambda: (
                text,
                [tf.TensorSpec((None,), tf.string, name="text")],
                {},
            ),
            "encode": lambda: (encode, [self.source_spec()], {}),
            "decode_step": lambda: (decode_step, [], self.decode_step_signature()),
        }
        functions = {}
        # The exporters' switch of the kernel seam: every signature traces
        # the export-safe loops (no TensorList, no cuDNN op), which stock TF
        # Serving runs on any device and TFLite converts to builtins.
        with use_kernel("export"):
            for name in names:
                fn, args, kwargs = specs[name]()
                functions[name] = tf.function(fn).get_concrete_function(
                    *args, **kwargs
                )
        return functions


def pad_empty_width(out):
    """Give `ids` at least one (PAD) column: LiteRT cannot return width 0."""
    ids = out["ids"]
    width = tf.shape(ids)[1]
    ids = tf.pad(ids, [[0, 0], [0, tf.maximum(1 - width, 0)]])
    return {"ids": ids, "lengths": out["lengths"], "scores": out["scores"]}


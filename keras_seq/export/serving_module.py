"""The tf.Module that both exporters trace: a model, its settings, generation."""

import tensorflow as tf

from keras_seq import decoding
from keras_seq.arguments import check_bool, check_int
from keras_seq.decoding.controls import Controls, get_controls
from keras_seq.export import signature_catalog
from keras_seq.export.request_bounds import (
    DEFAULT_MAX_BATCH_SIZE,
    DEFAULT_MAX_BATCH_TOKENS,
    DEFAULT_MAX_INPUT_LENGTH,
    bound_batch,
    bound_request,
    bound_text_bytes,
    fit_prefix,
    unk_outside,
)
from keras_seq.export.step_functions import StepFunctions
from keras_seq.text.replace_unknown_target import replace_unknown_target
from keras_seq.models.generation import (
    check_controls,
    check_decode_length,
    default_max_length,
    generate_ids,
)



def replace_unknown_controls(replace_unknown_target, decoder, source_tokenizer, controls):
    """Check `replace_unknown_target`; the controls an export decodes with.

    The replacement reads the attention of each output token, so when it is
    on the controls gain `return_attention=True`. It needs a decoder with
    attention and a text signature (tokenizers).

    Returns:
        `(replace_unknown_target, controls)`: the checked bool and a `Controls`.
    """
    controls = get_controls(controls)
    if not check_bool("replace_unknown_target", replace_unknown_target):
        return False, controls
    spec = decoder.state_spec()
    if not isinstance(spec, dict) or "attention" not in spec:
        raise ValueError(
            "Invalid value for argument `replace_unknown_target`. It copies the source "
            "token an output attends to most, so it needs a decoder with attention "
            "(AttentionRNNDecoder, TransformerDecoder). Received: "
            f"replace_unknown_target=True for a {type(decoder).__name__}")
    if source_tokenizer is None:
        raise ValueError(
            "Invalid value for argument `replace_unknown_target`. It applies to the text "
            "signature, which needs `source_tokenizer` and `target_tokenizer`. "
            "Received: replace_unknown_target=True without tokenizers")
    return True, Controls(**{**controls.get_config(), "return_attention": True})


def check_export_strategy(strategy):
    """The strategy an export decodes with: Greedy, or Beam returning one hypothesis."""
    strategy = decoding.get(strategy)
    if not isinstance(strategy, (decoding.Greedy, decoding.Beam)):
        raise ValueError(
            "Invalid value for argument `strategy`. An export decodes with "
            "'greedy' or 'beam' (Greedy() or Beam(...)); sampling runs in "
            f"Seq2Seq.generate only. Received: strategy={strategy!r}"
        )
    if strategy.num_return != 1:
        raise ValueError(
            "Invalid value for argument `strategy`. An export returns one "
            "hypothesis per source: use Beam(num_return=1). Received: "
            f"strategy={strategy!r}"
        )
    return strategy


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
    a constant times `max_batch_tokens * K` (plus `max_batch_size * K *
    max_length` for a fixed `max_length`), K the beam size (1 for greedy).

    Args:
        model: a built `keras_seq.models.Seq2Seq`.
        strategy: a `keras_seq.decoding.Greedy` or `Beam` (with
            `num_return=1`), or its name. Sampling is not exported.
        controls: a `keras_seq.decoding.Controls` or None, fixed at export.
        target_prefix: bool. Whether the prefix signatures can be traced
            (a runtime prefix input; see `signature_catalog`).
        replace_unknown_target: bool. The text signatures replace each UNK
            of an output by the source token it attends to most (needs a
            decoder with attention; the id signatures then also return
            `attention`).
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
        strategy="greedy",
        max_length=None,
        controls=None,
        target_prefix=False,
        replace_unknown_target=False,
        max_source_length=None,
        batch_size=None,
        source_tokenizer=None,
        target_tokenizer=None,
        max_batch_size=DEFAULT_MAX_BATCH_SIZE,
        max_input_length=DEFAULT_MAX_INPUT_LENGTH,
        max_batch_tokens=DEFAULT_MAX_BATCH_TOKENS,
    ):
        super().__init__(name="keras_seq_serving")
        self.strategy = check_export_strategy(strategy)
        self.replace_unknown_target, self.controls = replace_unknown_controls(
            replace_unknown_target, model.decoder, source_tokenizer, controls)
        check_controls(model.decoder, self.strategy, self.controls)
        self.target_prefix = check_bool("target_prefix", target_prefix)
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
        self.steps = StepFunctions(self)

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
        return unk_outside(ids, self.source_vocab_size)

    # -- generation -------------------------------------------------------
    def generate_ids(self, encoder_ids, name="encoder_ids", prefix=None,
                     prefix_name="prefix_ids"):
        ids = self.sanitize(encoder_ids, name)
        if prefix is not None:
            prefix = fit_prefix(prefix, tf.shape(ids)[0], prefix_name,
                                self.max_input_length, self.target_vocab_size)
        max_length = self.max_length
        if max_length is None:
            max_length = default_max_length(self.model.decoder, tf.shape(ids)[1])
        return generate_ids(
            self.model.encoder,
            self.model.decoder,
            ids,
            max_length,
            self.strategy,
            self.controls,
            prefix,
        )

    def generate_text(self, text, prefix=None):
        # Refuse a batch past the bound, and texts too long by far, before
        # tokenizing; the length bounds proper are checked on the ids.
        text = bound_batch(text, "text", self.max_batch_size)  # (B,)
        text = bound_text_bytes(text, "text", self.max_input_length)  # (B,)
        ids = self.source_tokenizer.tokenize(text)  # (B, S)
        if prefix is not None:
            prefix = bound_batch(prefix, "prefix", self.max_batch_size)
            prefix = bound_text_bytes(prefix, "prefix", self.max_input_length)
            prefix = self.target_tokenizer.tokenize(prefix)  # (B, P)
        out = self.generate_ids(ids, name="text", prefix=prefix, prefix_name="prefix")
        if self.replace_unknown_target:
            pieces = self.source_tokenizer.pieces(text)  # (B, None), as tokenized
            output = replace_unknown_target(self.target_tokenizer, out["ids"], out["lengths"],
                                            out["attention"], pieces)
        else:
            output = self.target_tokenizer.detokenize(out["ids"], out["lengths"])
        return {"text": output, "score": out["scores"]}

    # -- signatures -------------------------------------------------------
    def signatures(self, names=signature_catalog.NAMES):
        """Concrete functions for the requested signature names (see
        `keras_seq.export.signature_catalog`)."""
        return signature_catalog.concrete_functions(self, names)

    def source_spec(self):
        """The `encoder_ids` spec of `encode` (static with a fixed batch and
        `max_source_length`)."""
        return self.steps.source_spec()

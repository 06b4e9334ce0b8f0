"""Export a Seq2Seq as a builtins-only TFLite (LiteRT) model."""

import os

import numpy as np
import tensorflow as tf

from keras_seq.arguments import check_choice
from keras_seq.constants import BOS
from keras_seq.decoding.controls import Controls
from keras_seq.export.artifacts import check_replaceable
from keras_seq.atomic import atomic_write_bytes
from keras_seq.export.request_bounds import (
    DEFAULT_MAX_BATCH_SIZE,
    DEFAULT_MAX_BATCH_TOKENS,
    DEFAULT_MAX_INPUT_LENGTH,
)
from keras_seq.export import tflite_sidecars
from keras_seq.export.serving_module import ServingModule, replace_unknown_controls
from keras_seq.export.tflite_ops import assert_builtins_only

QUANTIZATIONS = (None, "dynamic", "float16", "int8")
SIGNATURES = ("generate", "encode", "decode_step")


def export_tflite(
    model,
    path,
    strategy="greedy",
    max_length=None,
    quantization=None,
    representative_data=None,
    max_source_length=None,
    batch_size=None,
    max_batch_size=DEFAULT_MAX_BATCH_SIZE,
    max_input_length=DEFAULT_MAX_INPUT_LENGTH,
    max_batch_tokens=DEFAULT_MAX_BATCH_TOKENS,
    overwrite=False,
    source_tokenizer=None,
    target_tokenizer=None,
    target_prefix=False,
    replace_unknown_target=False,
    **controls,
):
    """Convert `model` and its decode loop to one `.tflite` file.

    The converter is restricted to TFLite builtin ops (no Flex, no custom
    ops) and the result is checked across all subgraphs, WHILE bodies
    included, so the stock LiteRT interpreter runs it.

    Signatures:
        - `generate`: `encoder_ids` int32 `(B, S)`, B and S dynamic, to `ids`
          int32 `(B, T)`, `lengths` `(B,)` and `scores` `(B,)`, with the
          whole decoding loop inside. `T` is the longest output (at least 1:
          LiteRT cannot return an empty tensor); read `lengths`.
        - `encode`: `encoder_ids` to `memory` `(B, S, D)`, `memory_mask`
          int32 `(B, S)` and the initial decoder state as `state_*` tensors.
          With `return_token_scores=True` `generate` also returns
          `token_scores` float32 `(B, T)`, with `return_attention=True`
          `attention` float32 `(B, T, S)`.
        - `decode_step`: `ids` int32 `(B,)`, `memory`, `memory_mask` and the
          `state_*` tensors to `logits` float32 `(B, V)` and the next
          `state_*` tensors, so an app can drive the loop itself (and put
          each step on a GPU/NPU delegate, which does not run WHILE).
          With `max_source_length` and `batch_size` both set, `encode` and
          `decode_step` have fully static shapes (sources are then padded
          or truncated to `max_source_length` by the app).
        - With `target_prefix=True`, `generate_prefix`: `encoder_ids` and
          `prefix_ids` int32 `(B, P)` (PAD-padded, each output starts with
          its row's prefix) to the outputs of `generate`.

    Bad input gets a defined output: ids outside the vocabulary are read as
    UNK, long sources are truncated to `max_source_length`, empty sources
    give empty outputs, and `decode_step` reads NaN or +-inf in its float
    inputs as 0. LiteRT has no Assert builtin, so the request bounds cut
    instead of refusing (a SavedModel refuses): rows past `max_batch_size`
    are dropped (the output has fewer rows than the input), and inputs are
    cut to `max_input_length` tokens and to `max_batch_tokens // B`.
    See docs/robustness.md.

    Args:
        model: a `keras_seq.models.Seq2Seq`.
        path: str. The `.tflite` file to write (atomically).
        strategy: the search the graph runs: `keras_seq.decoding.Greedy()`
            or `Beam(size=..., length_penalty=...)` (one hypothesis per
            source), or its name. Defaults to `"greedy"`.
        max_length: int or None. Most generated tokens, EOS included.
        quantization: None, `"dynamic"` (int8 weights), `"float16"`
            (float16 weights) or `"int8"` (int8 weights and activations
            where supported, calibrated on `representative_data`).
        representative_data: int array `(N, S)` of source ids; required for
            `"int8"`.
        max_source_length: int or None. Longer sources are truncated.
        batch_size: int or None. Static batch of `encode`/`decode_step`.
        max_batch_size: int. Rows past it are dropped. Defaults to `1024`.
        max_input_length: int. Inputs are cut to it. Defaults to `16384`.
        max_batch_tokens: int. Inputs are cut to `max_batch_tokens // B`
            tokens. Defaults to `65536`.
        overwrite: bool. Replace an existing `path`, but only when it is a
            `.tflite` that keras_seq wrote (anything else is refused).
            Defaults to `False`.
        source_tokenizer, target_tokenizer: optional `keras_seq.text`
            tokenizers (both or neither). LiteRT has no string ops, so they
            are written beside the file: `STEM.source_vocab.txt`,
            `STEM.target_vocab.txt` and `STEM.tokenizers.json` (see
            `keras_seq.export.tflite_sidecars`), which `keras-seq predict`
            reads. Sidecar paths that exist while `path` does not are
            refused: they are not this export's.
        target_prefix: bool. Add the `generate_prefix` signature. Prefix
            rows past the inputs' are dropped, missing ones read as no
            prefix, and prefixes are cut to `max_input_length`. Defaults to
            `False`.
        replace_unknown_target: bool. Export the `attention` output and
            mark the tokenizer spec beside the file so that its reader
            (`keras-seq predict`) replaces each UNK of an output by the
            source token it attends to most. Needs tokenizers and a decoder
            with attention. Defaults to `False`.
        **controls: the decoding controls, fixed at export: the keyword
            arguments of `keras_seq.decoding.Controls` (`min_length`,
            `max_length_a`, `max_length_b`, `no_repeat_ngram_size`,
            `repetition_penalty`, `coverage_penalty` (beam), `return_token_scores`,
            `return_attention`), all with builtin
            ops.

    Returns:
        The sorted list of operator names in the file.

    Example:

    >>> keras_seq.export.export_tflite(
    ...     model, "g2p.tflite", strategy=keras_seq.decoding.Beam(size=4),
    ...     quantization="dynamic")
    """
    check_choice("quantization", quantization, QUANTIZATIONS)
    replace_unknown_target, controls = replace_unknown_controls(
        replace_unknown_target, model.decoder, source_tokenizer,
        Controls.from_kwargs(controls))
    if (source_tokenizer is None) != (target_tokenizer is None):
        raise ValueError(
            "Invalid value for arguments `source_tokenizer` and `target_tokenizer`. "
            "Give both (vocabulary files beside the .tflite) or neither. "
            f"Received: source_tokenizer={source_tokenizer!r}, "
            f"target_tokenizer={target_tokenizer!r}")
    if quantization == "int8" and representative_data is None:
        raise ValueError(
            "Invalid value for argument `representative_data`. "
            "quantization='int8' needs source ids to calibrate on. "
            "Received: representative_data=None"
        )
    path = os.fspath(path)
    check_target(path, overwrite)
    if source_tokenizer is not None:
        if not path.endswith(".tflite"):
            raise ValueError(
                "Invalid value for argument `path`. With tokenizers it must end in "
                f".tflite (the vocabularies are named after it). Received: path={path!r}")
        tflite_sidecars.check_sidecars_free(path)
    module = ServingModule(
        model,
        strategy=strategy,
        controls=controls,
        target_prefix=target_prefix,
        max_length=max_length,
        max_source_length=max_source_length,
        batch_size=batch_size,
        max_batch_size=max_batch_size,
        max_input_length=max_input_length,
        max_batch_tokens=max_batch_tokens,
    )
    names = SIGNATURES + (("generate_prefix",) if module.target_prefix else ())
    functions = module.signatures(names)
    # From concrete functions, the converter freezes the weights into
    # constants, WHILE bodies included (from a SavedModel it leaves
    # READ_VARIABLE ops there that the interpreter cannot serve).
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [functions[name] for name in names], module
    )
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    _configure_quantization(converter, quantization, representative_data, module)
    flatbuffer = converter.convert()
    operators = assert_builtins_only(flatbuffer)
    check_target(path, overwrite)  # again: the conversion takes a while
    if source_tokenizer is not None:
        tflite_sidecars.check_sidecars_free(path)
    atomic_write_bytes(path, flatbuffer)
    if source_tokenizer is not None:
        tflite_sidecars.write_sidecars(path, source_tokenizer, target_tokenizer,
                                       replace_unknown_target)
    return operators


def check_target(path, overwrite):
    """Refuse an existing `path` unless it may be replaced (see artifacts)."""
    if not os.path.exists(path):
        return
    if not overwrite:
        raise FileExistsError(
            f"Export target {path!r} already exists. Choose a new path or pass "
            "overwrite=True (which replaces only a keras_seq .tflite export).")
    check_replaceable(path, "tflite")


def _configure_quantization(converter, quantization, representative_data, module):
    if quantization is None:
        return
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantization == "float16":
        converter.target_spec.supported_types = [tf.float16]
    elif quantization == "int8":
        data = np.asarray(representative_data, dtype=np.int32)
        converter.representative_dataset = lambda: _calibration_samples(
            module, data
        )


def _calibration_samples(module, data, steps=4):
    """Inputs of all three signatures: each must be calibrated, or the
    converter keeps a float copy of the weights for the uncalibrated one."""
    batch = module.batch_size or 1
    length = module.source_spec().shape[1]
    for row in data:
        if length is not None:  # static encode/decode_step shapes
            row = np.pad(row[:length], (0, max(0, length - len(row))))
        ids = tf.constant(np.repeat(row[None, :], batch, axis=0))
        yield ("generate", {"encoder_ids": ids})
        if module.target_prefix:
            yield ("generate_prefix", {"encoder_ids": ids, "prefix_ids": ids[:, :1]})
        yield ("encode", {"encoder_ids": ids})
        encoded = module.steps.encode(ids)
        inputs = dict(encoded)
        inputs["ids"] = tf.fill([batch], BOS)
        for _ in range(steps):
            yield ("decode_step", dict(inputs))
            outputs = module.steps.decode_step(inputs)
            inputs.update({k: v for k, v in outputs.items() if k != "logits"})
            inputs["ids"] = tf.cast(tf.argmax(outputs["logits"], -1), tf.int32)

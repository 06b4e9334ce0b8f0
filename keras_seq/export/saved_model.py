"""Export a Seq2Seq as a TF Serving SavedModel (text in, text out)."""

import os

import tensorflow as tf

from keras_seq.decoding.controls import Controls
from keras_seq.export.artifacts import check_replaceable
from keras_seq.atomic import atomic_directory
from keras_seq.export.request_bounds import (
    DEFAULT_MAX_BATCH_SIZE,
    DEFAULT_MAX_BATCH_TOKENS,
    DEFAULT_MAX_INPUT_LENGTH,
)
from keras_seq.export.serving_module import ServingModule


def export_saved_model(
    model,
    path,
    source_tokenizer=None,
    target_tokenizer=None,
    strategy="greedy",
    max_length=None,
    max_source_length=None,
    overwrite=False,
    max_batch_size=DEFAULT_MAX_BATCH_SIZE,
    max_input_length=DEFAULT_MAX_INPUT_LENGTH,
    max_batch_tokens=DEFAULT_MAX_BATCH_TOKENS,
    target_prefix=False,
    replace_unknown_target=False,
    **controls,
):
    """Write `model` with its decode loop as a SavedModel for TF Serving.

    The graph holds the encoder, the whole decoding loop (greedy or beam
    search) and, when tokenizers are given, tokenization and
    detokenization: it needs only TensorFlow's and tensorflow-text's ops
    (both linked by the stock model server), no Python and no keras_seq at
    load time.

    Signatures:
        - `serving_default`: with tokenizers, `text` string `(B,)` to `text`
          string `(B,)` and `score` float32 `(B,)`; without, the same as
          `generate_ids`.
        - `generate_ids`: `encoder_ids` int32 `(B, S)` to `ids` int32
          `(B, T)` (EOS excluded, PAD after the end), `lengths` int32 `(B,)`
          and `scores` float32 `(B,)`; with `return_token_scores=True` also
          `token_scores` float32 `(B, T)`, with `return_attention=True`
          `attention` float32 `(B, T, S)` (the chosen hypothesis' weights).
        - With `target_prefix=True`, `generate_prefix_ids`: `encoder_ids`
          and `prefix_ids` int32 `(B, P)` (PAD-padded; each output starts
          with its row's prefix) to the outputs of `generate_ids`; and, with
          tokenizers, `serving_prefix`: `text` and `prefix` strings `(B,)`
          (an empty prefix decodes freely) to `text` and `score`.

    Defined behaviour on bad input: ids outside the source vocabulary are
    read as UNK; sources longer than `max_source_length` are truncated; an
    empty source (or batch) gives an empty output with score 0. A request
    past the bounds (more than `max_batch_size` inputs, an input of more
    than `max_input_length` tokens, more than `max_batch_tokens` tokens in
    all) is refused: the signature raises `InvalidArgumentError` (TF
    Serving answers INVALID_ARGUMENT) with a message naming the bound and
    the size received, and the model keeps serving. See
    docs/robustness.md.

    The write is atomic: the SavedModel is written to a temporary sibling
    directory and renamed into place, so a failed export leaves no partial
    version directory, and an existing version is replaced only with
    `overwrite=True`.

    Args:
        model: a `keras_seq.models.Seq2Seq`.
        path: str. The version directory, `saved_models/<name>/<version>`.
        source_tokenizer: optional `keras_seq.text` tokenizer of sources.
        target_tokenizer: optional tokenizer of targets (both or neither).
        strategy: the search the graph runs: `keras_seq.decoding.Greedy()`
            or `Beam(size=..., length_penalty=...)` (one hypothesis per
            source), or its name. Defaults to `"greedy"`.
        max_length: int or None. Most generated tokens, EOS included.
            `None` uses `2 * S + 10`, capped by a Transformer's cache.
        max_source_length: int or None. Longer sources are truncated.
            Defaults to a Transformer encoder's `max_length`, else no limit.
        overwrite: bool. Replace an existing version, but only when it is a
            SavedModel that keras_seq wrote (anything else at `path`, such
            as a folder of versions, is refused). Defaults to `False`.
        max_batch_size: int. Most inputs per request. Defaults to `1024`.
        max_input_length: int. Most tokens in one input (after
            tokenization for `text`); longer inputs are refused. Defaults
            to `16384`.
        max_batch_tokens: int. Most inputs x tokens per request (after
            truncation to `max_source_length`). Defaults to `65536`.
        target_prefix: bool. Add the prefix signatures. A prefix with
            another number of rows than the inputs, or longer than
            `max_input_length`, is refused. Defaults to `False`.
        replace_unknown_target: bool. In the text signatures, each UNK of an
            output reads as the source token (the source tokenizer's piece,
            verbatim) it attends to most (OpenNMT-tf's
            `replace_unknown_target`). Needs tokenizers and a decoder with
            attention; `generate_ids` then also returns `attention`.
            Defaults to `False`.
        **controls: the decoding controls, fixed at export: the keyword
            arguments of `keras_seq.decoding.Controls` (`min_length`,
            `max_length_a`, `max_length_b`, `no_repeat_ngram_size`,
            `repetition_penalty`, `coverage_penalty` (beam), `return_token_scores`,
            `return_attention`).

    Returns:
        The path written.

    Example:

    >>> keras_seq.export.export_saved_model(
    ...     model, "saved_models/g2p/1", source_tokenizer=chars,
    ...     target_tokenizer=phonemes,
    ...     strategy=keras_seq.decoding.Beam(size=4), no_repeat_ngram_size=3)
    """
    if (source_tokenizer is None) != (target_tokenizer is None):
        raise ValueError(
            "Invalid value for arguments `source_tokenizer` and "
            "`target_tokenizer`. Give both (text signature) or neither. "
            f"Received: source_tokenizer={source_tokenizer!r}, "
            f"target_tokenizer={target_tokenizer!r}"
        )
    controls = Controls.from_kwargs(controls)
    module = ServingModule(
        model,
        strategy=strategy,
        controls=controls,
        target_prefix=target_prefix,
        replace_unknown_target=replace_unknown_target,
        max_length=max_length,
        max_source_length=max_source_length,
        source_tokenizer=source_tokenizer,
        target_tokenizer=target_tokenizer,
        max_batch_size=max_batch_size,
        max_input_length=max_input_length,
        max_batch_tokens=max_batch_tokens,
    )
    names = ["generate_ids"] + (["text"] if source_tokenizer is not None else [])
    if module.target_prefix:
        names += ["generate_prefix_ids"] + (
            ["serving_prefix"] if source_tokenizer is not None else [])
    functions = module.signatures(names)
    signatures = {
        "generate_ids": functions["generate_ids"],
        "serving_default": functions.get("text", functions["generate_ids"]),
    }
    signatures.update({name: functions[name] for name in names
                       if name in ("generate_prefix_ids", "serving_prefix")})
    if overwrite and os.path.exists(path):
        check_replaceable(os.fspath(path), "savedmodel")
    with atomic_directory(path, overwrite=overwrite) as tmp:
        tf.saved_model.save(module, tmp, signatures=signatures)
    return str(path)

"""In-graph generation for an encoder and a decoder (used by `Seq2Seq`)."""

import tensorflow as tf

from keras_seq import decoding
from keras_seq.arguments import check_ids, check_int
from keras_seq.constants import PAD
from keras_seq.decoding import tile_beams
from keras_seq.decoding.controls import get_controls
from keras_seq.encoders.encoder_output import EncoderOutput


def check_decode_length(decoder, max_length):
    """A generation `max_length`: positive, and within a decoder's fixed cache."""
    check_int("max_length", max_length, allow_none=True)
    cap = getattr(decoder, "max_length", None)
    if max_length is not None and cap is not None and max_length > cap:
        raise ValueError(
            "Invalid value for argument `max_length`. The decoder's cache "
            f"holds {cap} positions. Received: max_length={max_length}"
        )


def check_source_ids(encoder, encoder_ids):
    """Check concrete source ids against the encoder, before any tracing.

    Ids must lie in the encoder's vocabulary (an id past it would fail deep
    inside the embedding lookup on CPU, and read garbage on GPU), and a
    source must fit an encoder's positions (a Transformer's `max_length`).
    Symbolic tensors (`generate` called inside a `tf.function`) are left to
    the in-graph checks.

    Args:
        encoder: the model's encoder.
        encoder_ids: int array or eager tensor `(B, S)`, before any cast.

    Raises:
        ValueError: naming `encoder_ids` and the accepted values.
    """
    if not tf.executing_eagerly():
        return
    ids = tf.convert_to_tensor(encoder_ids)  # (B, S), its own int dtype
    vocab_size = getattr(encoder, "vocab_size", None)
    if vocab_size is not None and tf.size(ids) > 0:
        low, high = int(tf.reduce_min(ids)), int(tf.reduce_max(ids))
        if low < 0 or high >= vocab_size:
            raise ValueError(
                "Invalid value for argument `encoder_ids`. Expected token ids "
                f"in [0, {vocab_size}) (the source vocabulary, PAD=0, UNK=1). "
                f"Received: ids from {low} to {high}"
            )
    positions = getattr(encoder, "max_length", None)
    if positions is not None and ids.shape[1] > positions:
        raise ValueError(
            "Invalid shape for argument `encoder_ids`. Expected at most "
            f"{positions} ids per source (the encoder's `max_length`); "
            f"truncate the sources. Received: encoder_ids.shape={tuple(ids.shape)}"
        )


def check_target_prefix(decoder, target_prefix, batch_size):
    """Concrete prefix ids `(B, P)` against the decoder, before any tracing.

    Returns int32 ids. Ids must lie in the target vocabulary, and the batch
    must match the sources'.
    """
    prefix = check_ids(target_prefix, "target_prefix")  # int32 (B, P)
    if prefix.shape[0] is not None and batch_size is not None and prefix.shape[0] != batch_size:
        raise ValueError(
            "Invalid shape for argument `target_prefix`. Expected one row per "
            f"source ({batch_size}). Received: target_prefix.shape={tuple(prefix.shape)}")
    if tf.executing_eagerly() and tf.size(prefix) > 0:
        low, high = int(tf.reduce_min(prefix)), int(tf.reduce_max(prefix))
        if low < 0 or high >= decoder.vocab_size:
            raise ValueError(
                "Invalid value for argument `target_prefix`. Expected token ids in "
                f"[0, {decoder.vocab_size}) (the target vocabulary; PAD=0 pads "
                f"a row). Received: ids from {low} to {high}")
    return prefix


def check_controls(decoder, strategy, controls):
    """Refuse controls the decoder or the strategy cannot honour, before tracing.

    `return_attention` and `coverage_penalty` need a decoder with attention
    (one that keeps the last step's weights `(B, S)` in its state under
    `"attention"`); `coverage_penalty` ranks hypotheses, so only beam search
    takes it.
    """
    if controls.coverage_penalty and strategy.beams == 1:
        raise ValueError(
            "Invalid value for argument `coverage_penalty`. It ranks hypotheses in "
            f"beam search; {strategy!r} takes 0. Received: "
            f"coverage_penalty={controls.coverage_penalty}")
    if not controls.uses_attention:
        return
    spec = decoder.state_spec()
    if not isinstance(spec, dict) or "attention" not in spec:
        name = "return_attention" if controls.return_attention else "coverage_penalty"
        raise ValueError(
            f"Invalid value for argument `{name}`. It needs a decoder with attention "
            "(AttentionRNNDecoder, TransformerDecoder). Received: "
            f"{name}={getattr(controls, name)!r} for a {type(decoder).__name__}")


def default_max_length(decoder, source_length):
    """Twice the source plus 10, capped by a decoder's `max_length`."""
    length = 2 * source_length + 10
    cap = getattr(decoder, "max_length", None)
    if cap is not None:
        length = tf.minimum(length, cap)
    return length


def tile_encoder_output(encoder_output, beam_size):
    """Tile every field of an `EncoderOutput` for beam search."""
    state = encoder_output.state
    if state:
        state = tile_beams(state, beam_size)
    return EncoderOutput(
        tile_beams(encoder_output.sequence, beam_size),
        state,
        tile_beams(encoder_output.padding_mask, beam_size),
    )


def split_source_state(state):
    """`(state, source_state)`: the `memory_*` entries of a dict state apart.

    They are projections of the encoder output (a Transformer's memory keys
    and values, an attention RNN's attention keys) that `step` reads and
    returns unchanged, the same for every hypothesis of a source. Kept out
    of the loop, beam search never reorders them (the largest per-step copy
    of a Transformer's beam search on LiteRT).
    """
    if not isinstance(state, dict):
        return state, {}
    source = {k: v for k, v in state.items() if k.startswith("memory_")}
    return {k: v for k, v in state.items() if k not in source}, source


def generate_ids(encoder, decoder, encoder_ids, max_length, strategy="greedy",
                 controls=None, target_prefix=None):
    """Encode once, then run the strategy's loop over `decoder.step`.

    Graph-safe: call it inside a `tf.function` (as `Seq2Seq.generate` and
    the exporters do). `max_length` may be a Python int or a scalar tensor.
    Returns the dict of `keras_seq.decoding` (`ids`, `lengths`, `scores`,
    and `token_scores` when the controls ask). A source with no real token
    (only PAD, or no column at all) gives an empty output: length 0, score
    0 (a target prefix is not forced there).

    Args:
        encoder, decoder: the model's encoder and decoder.
        encoder_ids: int32 `(B, S)`.
        max_length: int or scalar int tensor. Most generated tokens.
        strategy: a `keras_seq.decoding.Strategy` or a name `get` resolves.
        controls: a `keras_seq.decoding.Controls` or None.
        target_prefix: int32 `(B, P)` or None: PAD-padded tokens each
            output starts with.
    """
    strategy = decoding.get(strategy)
    controls = get_controls(controls)
    check_controls(decoder, strategy, controls)
    width = tf.shape(encoder_ids)[1]
    encoder_ids = tf.pad(encoder_ids, [[0, 0], [0, tf.maximum(1 - width, 0)]])
    encoder_output = encoder(encoder_ids, training=False)
    batch_size = tf.shape(encoder_ids)[0]
    initial_state, source_state = split_source_state(decoder.initial_state(encoder_output))
    if strategy.beams > 1:
        # Every hypothesis row reads its source: B * K rows.
        encoder_output = tile_encoder_output(encoder_output, strategy.beams)
        source_state = tile_beams(source_state, strategy.beams)

    def step_fn(ids_t, state):
        logits, state = decoder.step(ids_t, {**state, **source_state}, encoder_output)
        state = {k: v for k, v in state.items() if k not in source_state}
        if controls.uses_attention:  # this step's weights over the source
            return logits, state, state["attention"]
        return logits, state

    source_mask = tf.not_equal(encoder_ids, PAD)  # (B, S)
    out = strategy.search(step_fn, initial_state, batch_size, max_length, controls,
                          source_mask, target_prefix)
    return blank_empty_sources(out, encoder_ids)


def blank_empty_sources(out, encoder_ids):
    """Rows whose source is only PAD: no ids, length 0, score 0."""
    has_tokens = tf.reduce_any(tf.not_equal(encoder_ids, PAD), axis=1)  # (B,)
    lengths = tf.where(has_tokens, out["lengths"], tf.zeros_like(out["lengths"]))
    scores = tf.where(has_tokens, out["scores"], tf.zeros_like(out["scores"]))
    longest = tf.reduce_max(tf.concat([tf.reshape(lengths, [-1]), [0]], 0))
    keep = tf.range(longest) < lengths[..., None]  # (..., B, T)
    blanked = {"lengths": lengths, "scores": scores}
    for name in ("ids", "token_scores"):
        if name in out:
            values = out[name][..., :longest]
            blanked[name] = tf.where(keep, values, tf.zeros_like(values))
    if "attention" in out:  # (..., B, T, S)
        values = out["attention"][..., :longest, :]
        blanked["attention"] = tf.where(tf.expand_dims(keep, -1), values, tf.zeros_like(values))
    return blanked

"""In-graph generation for an encoder and a decoder (used by `Seq2Seq`)."""

import tensorflow as tf

from keras_seq import decoding
from keras_seq.arguments import check_int
from keras_seq.constants import PAD
from keras_seq.decoding import tile_beams
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


def generate_ids(encoder, decoder, encoder_ids, max_length, strategy="greedy", min_length=0):
    """Encode once, then run the strategy's loop over `decoder.step`.

    Graph-safe: call it inside a `tf.function` (as `Seq2Seq.generate` and
    the exporters do). `max_length` may be a Python int or a scalar tensor.
    Returns the dict of `keras_seq.decoding` (`ids`, `lengths`, `scores`).
    A source with no real token (only PAD, or no column at all) gives an
    empty output: length 0, score 0.

    Args:
        encoder, decoder: the model's encoder and decoder.
        encoder_ids: int32 `(B, S)`.
        max_length: int or scalar int tensor. Most generated tokens.
        strategy: a `keras_seq.decoding.Strategy` or a name `get` resolves.
        min_length: int >= 0. No output ends before this many tokens.
    """
    strategy = decoding.get(strategy)
    width = tf.shape(encoder_ids)[1]
    encoder_ids = tf.pad(encoder_ids, [[0, 0], [0, tf.maximum(1 - width, 0)]])
    encoder_output = encoder(encoder_ids, training=False)
    batch_size = tf.shape(encoder_ids)[0]
    initial_state = decoder.initial_state(encoder_output)
    if strategy.beams > 1:
        # Every hypothesis row reads its source: B * K rows.
        encoder_output = tile_encoder_output(encoder_output, strategy.beams)

    def step_fn(ids_t, state):
        return decoder.step(ids_t, state, encoder_output)

    out = strategy.search(step_fn, initial_state, batch_size, max_length, min_length)
    return blank_empty_sources(out, encoder_ids)


def blank_empty_sources(out, encoder_ids):
    """Rows whose source is only PAD: no ids, length 0, score 0."""
    has_tokens = tf.reduce_any(tf.not_equal(encoder_ids, PAD), axis=1)  # (B,)
    lengths = tf.where(has_tokens, out["lengths"], tf.zeros_like(out["lengths"]))
    scores = tf.where(has_tokens, out["scores"], tf.zeros_like(out["scores"]))
    longest = tf.reduce_max(tf.concat([tf.reshape(lengths, [-1]), [0]], 0))
    ids = out["ids"][..., :longest]
    keep = tf.range(tf.shape(ids)[-1]) < lengths[..., None]  # (..., B, T)
    return {
        "ids": tf.where(keep, ids, tf.zeros_like(ids)),
        "lengths": lengths,
        "scores": scores,
    }

"""OpenNMT's unknown replacement: an output UNK becomes the source token it attends to most."""

import tensorflow as tf


def replace_unknown_target(target_tokenizer, ids, lengths, attention, source_pieces):
    """Detokenize outputs, each UNK replaced by its most attended source token.

    For output position t of row b, the replacement is
    `source_pieces[b, argmax_s attention[b, t, s]]`: the token string the
    source tokenizer split there, copied verbatim (so a word outside both
    vocabularies, such as a name, passes through). Graph ops only, so the
    SavedModel's text signature runs it.

    Args:
        target_tokenizer: a `keras_seq.text` tokenizer of the outputs.
        ids: int `(B, T)`, generated ids (EOS excluded).
        lengths: int `(B,)`, tokens per row.
        attention: float `(B, T, S)`, each output token's weights over the
            source ids the model read (`generate(..., return_attention=True)`).
        source_pieces: string `(B, S')`, ragged or dense: the source
            tokenizer's `pieces` of the inputs (S' may differ from S when
            sources were truncated; missing positions read as "").

    Returns:
        string tensor `(B,)`.

    Example:
    >>> out = model.generate(ids, return_attention=True)  # doctest: +SKIP
    >>> keras_seq.text.replace_unknown_target(
    ...     phonemes, out["ids"], out["lengths"], out["attention"],
    ...     chars.pieces(words))  # doctest: +SKIP
    """
    if isinstance(source_pieces, tf.RaggedTensor):
        source_pieces = source_pieces.to_tensor(default_value="")
    source_pieces = tf.convert_to_tensor(source_pieces, tf.string)  # (B, S')
    attention = tf.convert_to_tensor(attention, tf.float32)
    # At least one source column, so that argmax is defined for an empty source.
    attention = tf.pad(attention, [[0, 0], [0, 0], [0, tf.maximum(1 - tf.shape(attention)[-1], 0)]])
    width = tf.shape(attention)[-1]
    missing = tf.maximum(width - tf.shape(source_pieces)[1], 0)
    source_pieces = tf.pad(source_pieces, [[0, 0], [0, missing]], constant_values="")
    aligned = tf.argmax(attention, axis=-1, output_type=tf.int32)  # (B, T)
    replacements = tf.gather(source_pieces, aligned, batch_dims=1)  # (B, T)
    return target_tokenizer.detokenize(ids, lengths, replacements=replacements)

"""The string and id ops of the tokenizers, as functions of tensors.

`keras_seq.text.Tokenizer` owns a vocabulary and its lookup tables; what
happens to strings before the lookup (repair, normalisation) and to ids
around it (truncation, BOS/EOS, reading rows up to EOS) is here. TensorFlow
and tensorflow-text ops only: everything traces in a `tf.function` and runs
in TF Serving.
"""

import tensorflow as tf
import tensorflow_text as tf_text

from keras_seq.constants import BOS, EOS, PAD


def as_string_vector(strings):
    """Convert `strings` to a string tensor [B], with a clear error if not."""
    if isinstance(strings, (str, bytes)):
        raise ValueError(
            "Invalid value for argument `strings`. Expected a batch of "
            "strings (a list or a rank-1 tensor), not a single string. "
            f"Received: strings={strings!r:.80}"
        )
    if isinstance(strings, (list, tuple)) and not strings:
        return tf.zeros([0], tf.string)
    strings = tf.convert_to_tensor(strings)
    _check_tensor(strings, "strings", strings.dtype == tf.string, "tf.string", "[B]")
    return strings


def clean_text(strings, normalization, lowercase):
    """Repair invalid UTF-8 (to U+FFFD), normalise, lower-case strings [B]."""
    strings = tf.strings.unicode_transcode(strings, "UTF-8", "UTF-8", errors="replace")
    if normalization is not None:
        strings = tf_text.normalize_utf8(strings, normalization)
    if lowercase:
        strings = tf.strings.lower(strings, encoding="utf-8")
    return strings


def frame_ids(ids, max_length, add_bos, add_eos):
    """Ragged ids [B, None] to PAD-padded int32 [B, S], truncated, with BOS/EOS.

    The text is cut first so that the BOS and EOS asked for always fit in
    `max_length` (None: no limit).
    """
    n_special = int(bool(add_bos)) + int(bool(add_eos))
    if max_length is not None:
        ids = ids[:, : max_length - n_special]
    batch_size = ids.nrows()
    if add_bos:
        bos = tf.RaggedTensor.from_tensor(tf.fill([batch_size, 1], BOS))
        ids = tf.concat([bos, ids], axis=1)
    if add_eos:
        eos = tf.RaggedTensor.from_tensor(tf.fill([batch_size, 1], EOS))
        ids = tf.concat([ids, eos], axis=1)
    return ids.to_tensor(default_value=PAD)  # (B, S)


def id_matrix(ids):
    """Checked int64 ids [B, T] from a dense or ragged integer tensor."""
    if isinstance(ids, tf.RaggedTensor):
        ids = ids.to_tensor(default_value=PAD)
    ids = tf.convert_to_tensor(ids)
    _check_tensor(ids, "ids", ids.dtype.is_integer, "integer token ids (int32 or int64)",
                  "[B, T]")
    return tf.cast(ids, tf.int64)  # (B, T)


def readable(ids, lengths=None):
    """Bool [B, T]: the ids before each row's first EOS (and within
    `lengths`, int [B], when given) that are neither PAD nor BOS."""
    before_eos = tf.cumsum(tf.cast(ids == EOS, tf.int32), axis=1) == 0
    keep = before_eos & (ids != PAD) & (ids != BOS)  # (B, T)
    if lengths is not None:
        lengths = tf.cast(tf.convert_to_tensor(lengths), tf.int32)  # (B,)
        keep &= tf.sequence_mask(lengths, tf.shape(ids)[1])
    return keep


def _check_tensor(tensor, name, dtype_ok, dtype_wanted, shape):
    """One `TypeError` for a wrong dtype, one `ValueError` for a wrong rank
    (`shape` like "[B, T]": its rank is the number of axes named)."""
    if not dtype_ok:
        raise TypeError(
            f"Invalid dtype for argument `{name}`. Expected {dtype_wanted}. "
            f"Received: {name}.dtype={tensor.dtype.name}"
        )
    rank = shape.count(",") + 1
    if tensor.shape.rank is not None and tensor.shape.rank != rank:
        raise ValueError(
            f"Invalid shape for argument `{name}`. Expected a rank-{rank} tensor "
            f"{shape}. Received: {name}.shape={tensor.shape}"
        )

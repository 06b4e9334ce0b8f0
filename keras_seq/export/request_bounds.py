"""Input safety of the exported signatures: request bounds (refused in a
SavedModel, cut in TFLite), NaN/inf to 0, ids outside the vocabulary to UNK.

Every bound is written twice over the same tensor: a `tf.debugging.Assert`
that refuses the request with one clear message (TF Serving answers it with
status INVALID_ARGUMENT and keeps serving), then a slice to the bound. In a
SavedModel the assertion runs first, so the slice never cuts anything. The
TFLite converter drops assertions (LiteRT has no Assert builtin), so there
the slice is the bound: memory stays bounded, and the cut is documented.
"""

import tensorflow as tf

from keras_seq.constants import UNK

DEFAULT_MAX_BATCH_SIZE = 1024
DEFAULT_MAX_INPUT_LENGTH = 16384
DEFAULT_MAX_BATCH_TOKENS = 65536
# A text of more than this many bytes per token of `max_input_length` is
# refused before it is tokenized (tokenizing a 30 MB text peaked at 1.5 GB
# before the token bound could refuse it). No tokenizer makes fewer than one
# token of 16 bytes of non-blank text.
BYTES_PER_TOKEN = 16


def _refuse_unless(ids, condition, parts):
    """`ids` behind an assertion of `condition` whose message joins `parts`.

    `parts` are str and scalar int tensors; the message is built in the
    graph, so it shows the sizes received.
    """
    message = tf.strings.join([tf.strings.as_string(p) if not isinstance(p, str)
                               else p for p in parts])
    check = tf.debugging.Assert(condition, [message])
    with tf.control_dependencies([check]):
        return tf.identity(ids)


def _static_size(x, axes):
    """The product of `x`'s static dims on `axes`, or None if one is unknown."""
    size = 1
    for axis in axes:
        if x.shape[axis] is None:
            return None
        size *= x.shape[axis]
    return size


def bound_batch(x, name, max_batch_size):
    """Refuse (SavedModel) or cut (TFLite) a batch past `max_batch_size`.

    Args:
        x: tensor `(B, ...)`, the inputs of one request.
        name: str. The signature argument, named in the message.
        max_batch_size: int. Most rows per request.

    Returns:
        `x`, in TFLite without its rows past `max_batch_size`.
    """
    static = _static_size(x, [0])
    if static is not None and static <= max_batch_size:
        return x  # a static batch (`batch_size=`) within the bound
    batch = tf.shape(x)[0]
    x = _refuse_unless(x, batch <= max_batch_size, [
        f"Invalid shape for argument `{name}`. Expected at most "
        f"max_batch_size={max_batch_size} inputs per request; split the "
        "request. Received: ", batch, " inputs",
    ])
    return x[:max_batch_size]


def bound_text_bytes(text, name, max_input_length):
    """Refuse texts of more than `BYTES_PER_TOKEN * max_input_length` bytes.

    Args:
        text: string tensor `(B,)`.
        name: str. The signature argument, named in the message.
        max_input_length: int. The token bound the byte bound follows.

    Returns:
        `text`, behind the check.
    """
    max_bytes = BYTES_PER_TOKEN * max_input_length
    longest = tf.reduce_max(tf.concat([tf.strings.length(text), [0]], axis=0))
    return _refuse_unless(text, longest <= max_bytes, [
        f"Invalid value for argument `{name}`. Expected texts of at most "
        f"{max_bytes} bytes ({BYTES_PER_TOKEN} per token of "
        f"max_input_length={max_input_length}), checked before tokenizing. "
        "Received: a text of ", longest, " bytes",
    ])


def bound_request(ids, name, max_batch_size, max_input_length, max_batch_tokens,
                  max_source_length=None):
    """Refuse (SavedModel) or cut (TFLite) a request past its bounds.

    Checks, in this order: the batch size against `max_batch_size`, each
    source's length against `max_input_length`, then (after truncating
    sources to `max_source_length`) batch x length against
    `max_batch_tokens`. A refusal raises `InvalidArgumentError` whose
    message names the argument, the bound and the size received. Static
    dims known to be within a bound add no op (static `encode` shapes stay
    static).

    Args:
        ids: int32 tensor `(B, S)`.
        name: str. The signature argument the user sent (`"encoder_ids"`,
            `"text"`), named in the messages.
        max_batch_size: int. Most rows per request.
        max_input_length: int. Most ids per row; longer rows are refused.
        max_batch_tokens: int. Most `B * min(S, max_source_length)`.
        max_source_length: int or None. Rows are truncated to it.

    Returns:
        int32 tensor `(B', S')`: in a SavedModel `B' = B` and `S' =
        min(S, max_source_length)`; in TFLite, where the assertions are
        gone, rows past `max_batch_size` are dropped and rows are cut to
        fit every bound.
    """
    ids = bound_batch(ids, name, max_batch_size)  # (B, S)
    static = _static_size(ids, [1])
    if static is None or static > max_input_length:
        truncated = (
            f" (inputs longer than max_source_length={max_source_length} are "
            "truncated to it)" if max_source_length is not None else ""
        )
        ids = _refuse_unless(ids, tf.shape(ids)[1] <= max_input_length, [
            f"Invalid shape for argument `{name}`. Expected inputs of at most "
            f"max_input_length={max_input_length} tokens{truncated}. "
            "Received: an input of ", tf.shape(ids)[1], " tokens",
        ])
    ids = ids[:, : min(max_input_length, max_source_length or max_input_length)]
    static = _static_size(ids, [0, 1])
    if static is not None and static <= max_batch_tokens:
        return ids
    batch, length = tf.shape(ids)[0], tf.shape(ids)[1]
    tokens = tf.cast(batch, tf.int64) * tf.cast(length, tf.int64)
    ids = _refuse_unless(ids, tokens <= max_batch_tokens, [
        f"Invalid shape for argument `{name}`. Expected at most "
        f"max_batch_tokens={max_batch_tokens} tokens per request (inputs x "
        "tokens of the longest input, after truncation); split the request. "
        "Received: ", batch, " inputs x ", length, " tokens",
    ])
    per_row = tf.maximum(max_batch_tokens // tf.maximum(batch, 1), 1)
    return ids[:, :per_row]  # (B, S)


def finite_or_zero(x):
    """Replace NaN and +-inf in a float tensor by 0, with TFLite builtins.

    (`tf.math.is_finite` has no builtin; NaN compares false with anything,
    and +-inf is larger than the dtype's largest finite value.)
    """
    largest = tf.constant(x.dtype.max, x.dtype)
    return tf.where(tf.abs(x) <= largest, x, tf.zeros_like(x))


def unk_outside(ids, vocab_size):
    """Ids outside `[0, vocab_size)` to UNK."""
    in_range = tf.logical_and(ids >= 0, ids < vocab_size)
    return tf.where(in_range, ids, tf.fill(tf.shape(ids), UNK))


def fit_prefix(prefix, rows, name, max_input_length, vocab_size):
    """A target prefix for `rows` sources, made safe.

    In a SavedModel a prefix with another number of rows than the sources,
    or longer than `max_input_length`, is refused; in TFLite it is cut (and
    padded with PAD rows, i.e. no prefix) to fit. Ids outside the target
    vocabulary become UNK.

    Args:
        prefix: int tensor `(B', P)`, PAD-padded.
        rows: scalar int32 tensor. The number of sources, B.
        name: str. The signature argument, named in the messages.
        max_input_length: int. Most prefix tokens.
        vocab_size: int. The target vocabulary's size.

    Returns:
        int32 `(B, min(P, max_input_length))`.
    """
    prefix = tf.cast(prefix, tf.int32)
    prefix = _refuse_unless(prefix, tf.equal(tf.shape(prefix)[0], rows), [
        f"Invalid shape for argument `{name}`. Expected one prefix per input. "
        "Received: ", tf.shape(prefix)[0], " prefixes for ", rows, " inputs",
    ])
    prefix = _refuse_unless(prefix, tf.shape(prefix)[1] <= max_input_length, [
        f"Invalid shape for argument `{name}`. Expected prefixes of at most "
        f"max_input_length={max_input_length} tokens. Received: ",
        tf.shape(prefix)[1], " tokens",
    ])
    prefix = prefix[:rows, :max_input_length]
    prefix = tf.pad(prefix, [[0, rows - tf.shape(prefix)[0]], [0, 0]])
    return unk_outside(prefix, vocab_size)

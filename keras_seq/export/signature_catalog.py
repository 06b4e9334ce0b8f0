"""Every signature a keras_seq export can hold, traced on request."""

import tensorflow as tf

from keras_seq.layers.kernels import use_kernel

NAMES = ("generate_ids", "generate", "text", "encode", "decode_step",
         "generate_prefix_ids", "generate_prefix", "serving_prefix")


def concrete_functions(module, names=NAMES):
    """`{name: concrete function}` of a `ServingModule` for `names`.

    - `generate_ids(encoder_ids)`: ids, lengths, scores (the SavedModel's),
      and `token_scores`, `attention` when the module's controls ask.
    - `generate(encoder_ids)`: the same, `ids` at least one column wide
      (LiteRT cannot return a tensor of width 0).
    - `text(text)`: strings in, strings and scores out (needs tokenizers).
    - `encode`, `decode_step`: app-driven decoding (`StepFunctions`).
    - `generate_prefix_ids(encoder_ids, prefix_ids)`, `generate_prefix(...)`
      and `serving_prefix(text, prefix)`: the same three with a target
      prefix per input (PAD-padded ids, or strings).

    Each function is named after its signature: the TFLite converter names
    signatures after the functions it converts. All are traced with the
    export-safe loops (`use_kernel("export")`: no TensorList, no cuDNN op),
    which stock TF Serving runs on any device and TFLite converts to
    builtins.
    """
    ids_spec = tf.TensorSpec((None, None), tf.int32, name="encoder_ids")
    steps = module.steps

    def generate_ids(encoder_ids):
        return module.generate_ids(encoder_ids)

    def generate(encoder_ids):
        return pad_empty_width(module.generate_ids(encoder_ids))

    def text(text):
        return module.generate_text(text)

    def generate_prefix_ids(encoder_ids, prefix_ids):
        return module.generate_ids(encoder_ids, prefix=prefix_ids)

    def generate_prefix(encoder_ids, prefix_ids):
        return pad_empty_width(module.generate_ids(encoder_ids, prefix=prefix_ids))

    def serving_prefix(text, prefix):
        return module.generate_text(text, prefix)

    def encode(encoder_ids):
        return steps.encode(encoder_ids)

    def decode_step(**inputs):
        return steps.decode_step(inputs)

    prefix_spec = tf.TensorSpec((None, None), tf.int32, name="prefix_ids")
    text_spec = tf.TensorSpec((None,), tf.string, name="text")
    catalog = {
        "generate_ids": lambda: (generate_ids, [ids_spec], {}),
        "generate": lambda: (generate, [ids_spec], {}),
        "text": lambda: (text, [text_spec], {}),
        "generate_prefix_ids": lambda: (generate_prefix_ids, [ids_spec, prefix_spec], {}),
        "generate_prefix": lambda: (generate_prefix, [ids_spec, prefix_spec], {}),
        "serving_prefix": lambda: (serving_prefix, [
            text_spec, tf.TensorSpec((None,), tf.string, name="prefix")], {}),
        "encode": lambda: (encode, [steps.source_spec()], {}),
        "decode_step": lambda: (decode_step, [], steps.decode_step_signature()),
    }
    functions = {}
    with use_kernel("export"):
        for name in names:
            fn, args, kwargs = catalog[name]()
            functions[name] = tf.function(fn).get_concrete_function(*args, **kwargs)
    return functions


def pad_empty_width(out):
    """Give `ids` (and `token_scores`, `attention`) at least one step:
    LiteRT cannot return width 0."""
    padded = dict(out)
    for name in ("ids", "token_scores", "attention"):
        if name in out:
            width = tf.shape(out[name])[1]
            pads = [[0, 0], [0, tf.maximum(1 - width, 0)]] + [[0, 0]] * (out[name].shape.rank - 2)
            padded[name] = tf.pad(out[name], pads)
    return padded

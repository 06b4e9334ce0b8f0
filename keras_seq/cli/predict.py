"""`keras-seq predict`: decode inputs with a run, a SavedModel or a .tflite."""

import os
import re
import sys
import unicodedata

import numpy as np

from keras_seq.cli import run_directory as rd
from keras_seq.cli.decode_texts import decode_texts
from keras_seq.cli.errors import CLIError


def add_parser(subparsers):
    p = subparsers.add_parser(
        "predict", help="decode inputs (arguments, --file or stdin)")
    p.add_argument("path", help="a run directory, a SavedModel version directory "
                                "or a .tflite file")
    p.add_argument("inputs", nargs="*")
    p.add_argument("--file", help="read one input per line from this file")
    p.add_argument("--method", default="greedy", choices=("greedy", "beam"))
    p.add_argument("--beam-size", type=int, default=4)
    p.add_argument("--attention-plot", help="PNG of the first input's alignment "
                                            "(run directories only)")
    p.set_defaults(run=run)


def read_inputs(args):
    """The inputs as str; invalid UTF-8 anywhere is a CLIError naming where."""
    if args.inputs:
        for number, text in enumerate(args.inputs, 1):
            # Python decodes argv with surrogateescape: invalid bytes come
            # back as lone surrogates, which no tokenizer can take.
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raw = os.fsencode(text)
                raise CLIError(f"input {number} is not valid UTF-8: {raw!r:.80}") from None
        return list(args.inputs)
    if args.file:
        try:
            with open(args.file, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            raise CLIError(f"input file not found: {args.file}") from None
        except UnicodeDecodeError as e:
            raise CLIError(f"input file is not valid UTF-8: {args.file} ({e})") from None
    else:
        stdin = getattr(sys.stdin, "buffer", None)
        try:
            data = stdin.read().decode("utf-8") if stdin else sys.stdin.read()
        except UnicodeDecodeError as e:
            raise CLIError(f"stdin is not valid UTF-8 ({e})") from None
        lines = data.splitlines()
    lines = [line for line in lines if line.strip()]
    if not lines:
        raise CLIError(f"no input: {args.file or 'stdin'} is empty")
    return lines


def predict_saved_model(path, texts):
    import tensorflow as tf

    try:
        signature = tf.saved_model.load(path).signatures["serving_default"]
    except Exception as e:
        raise CLIError(f"cannot load SavedModel {path}: {str(e).splitlines()[0]}") from None
    if "text" not in signature.structured_input_signature[1]:
        raise CLIError(f"{path} has no text signature (exported without tokenizers)")
    try:
        out = signature(text=tf.constant(texts))
    except tf.errors.InvalidArgumentError as e:  # a request past the bounds
        raise CLIError(assertion_message(e)) from None
    return [t.decode("utf-8") for t in out["text"].numpy()], out["score"].numpy()


def assertion_message(error):
    """The message of a signature's failed `tf.debugging.Assert`."""
    found = re.search(r"assertion failed: \[(.*?)\]\n", str(error) + "\n")
    return found.group(1) if found else str(error).strip().splitlines()[-1]


def shown(text):
    """`text` with control characters escaped: one input, one output line."""
    return "".join(
        char.encode("unicode_escape").decode("ascii")
        if unicodedata.category(char) == "Cc" else char
        for char in text
    )


def predict_tflite(path, texts):
    from ai_edge_litert.interpreter import Interpreter

    tokenizers = tflite_tokenizers(path)
    try:
        runner = Interpreter(path).get_signature_runner("generate")
    except Exception as e:
        raise CLIError(f"cannot load TFLite model {path}: {e}") from None
    ids = tokenizers[0].tokenize(texts).numpy().astype(np.int32)
    out = runner(encoder_ids=ids)
    decoded = tokenizers[1].detokenize(out["ids"], out["lengths"]).numpy()
    return [t.decode("utf-8") for t in decoded], out["scores"]


def tflite_tokenizers(path):
    """Tokenizers written beside a .tflite by `keras-seq export`."""
    stem = path[: -len(".tflite")]
    spec = rd.read_json(stem + ".tokenizers.json", "tokenizer spec of the .tflite")
    return [rd.load_tokenizer(spec[side], f"{stem}.{rd.VOCABS[side]}")
            for side in ("source", "target")]


def plot_first_alignment(model, source_tokenizer, target_tokenizer, text, output, path):
    from keras_seq import viz
    from keras_seq.constants import BOS

    source_ids = source_tokenizer.tokenize([text]).numpy()
    target_ids = target_tokenizer.tokenize([output]).numpy()
    decoder_ids = np.concatenate([[[BOS]], target_ids], axis=1).astype("int32")
    _, weights = model({"encoder_ids": source_ids, "decoder_ids": decoder_ids},
                       return_attention=True)
    if weights is None:
        raise CLIError("this model has no attention to plot (--model rnn)")
    source_tokens = [source_tokenizer.vocabulary[i] for i in source_ids[0]]
    target_tokens = [target_tokenizer.vocabulary[i] for i in target_ids[0]] + ["</s>"]
    viz.plot_attention(np.asarray(weights[0]), source_tokens, target_tokens, path,
                       title=text)


def run(args):
    texts = read_inputs(args)
    path = args.path
    if args.attention_plot and not os.path.isfile(os.path.join(path, rd.CONFIG)):
        raise CLIError("--attention-plot needs a run directory")
    if path.endswith(".tflite") and os.path.isfile(path):
        outputs, scores = predict_tflite(path, texts)
    elif os.path.isfile(os.path.join(path, "saved_model.pb")):
        outputs, scores = predict_saved_model(path, texts)
    else:
        config, model, source_tokenizer, target_tokenizer = rd.load_run(path)
        # Sources are cut to the run's positions, as `keras-seq export` does.
        outputs, scores = decode_texts(model, source_tokenizer, target_tokenizer,
                                       texts, method=args.method,
                                       beam_size=args.beam_size,
                                       max_source_length=config.get("max_length"))
        if args.attention_plot:
            plot_first_alignment(model, source_tokenizer, target_tokenizer,
                                 texts[0], outputs[0], args.attention_plot)
    for text, output, score in zip(texts, outputs, scores):
        print(f"{shown(text)}\t{shown(output)}\t{float(score):.4f}")

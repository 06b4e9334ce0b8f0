"""Decode text through an export, as `keras-seq predict` does: a SavedModel's
text signature or a .tflite's `generate` with the vocabularies beside it."""

import re
import sys

import numpy as np

from keras_seq.cli import fingerprint
from keras_seq.cli import run_directory as rd
from keras_seq.cli.errors import CLIError


class SavedModelRunner:
    """Decode text through a SavedModel's `serving_default`, within its bounds.

    A request the SavedModel refuses (`max_batch_size`, `max_batch_tokens`)
    is split in halves; a single input past `max_input_length` (or
    `max_batch_tokens`) is cut to the bound, as the other paths truncate,
    and a note says so on stderr.
    """

    def __init__(self, path):
        import tensorflow as tf

        self._tf = tf
        try:
            self.signature = tf.saved_model.load(path).signatures["serving_default"]
        except Exception as e:
            raise CLIError(f"cannot load SavedModel {path}: {str(e).splitlines()[0]}") from None
        if "text" not in self.signature.structured_input_signature[1]:
            raise CLIError(f"{path} has no text signature (exported without tokenizers)")

    def __call__(self, texts):
        try:
            out = self.signature(text=self._tf.constant(texts))
        except self._tf.errors.InvalidArgumentError as e:  # past a bound
            message = assertion_message(e)
            bound = re.search(r"(max_\w+)=(\d+)", message)
            if bound is None:
                raise CLIError(message) from None
            if len(texts) > 1:
                half = len(texts) // 2
                first, second = self(texts[:half]), self(texts[half:])
                return first[0] + second[0], np.concatenate([first[1], second[1]])
            text = texts[0]
            if len(text) <= 1:
                raise CLIError(message) from None
            cut = text[: min(len(text) // 2, int(bound.group(2)))]
            print(f"keras-seq: note: an input of {len(text)} characters was cut to "
                  f"{len(cut)} to fit the SavedModel's {bound.group(1)}", file=sys.stderr)
            return self([cut])
        return [t.decode("utf-8") for t in out["text"].numpy()], out["score"].numpy()


class TFLiteRunner:
    """Decode text through a .tflite's `generate`; rows it drops (past its
    `max_batch_size`) are sent again in the next request."""

    def __init__(self, path):
        from ai_edge_litert.interpreter import Interpreter

        from keras_seq.text import replace_unknown_target

        self._replace = replace_unknown_target
        *self.tokenizers, self.replace_unknown = tflite_tokenizers(path)
        try:  # one interpreter, used by this thread only (LiteRT is not thread-safe)
            self.runner = Interpreter(path).get_signature_runner("generate")
        except Exception as e:
            raise CLIError(f"cannot load TFLite model {path}: {e}") from None

    def __call__(self, texts):
        outputs, scores = [], []
        while len(outputs) < len(texts):
            rest = texts[len(outputs):]
            ids = self.tokenizers[0].tokenize(rest).numpy().astype(np.int32)
            out = self.runner(encoder_ids=ids)
            if self.replace_unknown and "attention" in out:
                rows = len(out["lengths"])
                decoded = self._replace(
                    self.tokenizers[1], out["ids"], out["lengths"], out["attention"],
                    self.tokenizers[0].pieces(rest[:rows])).numpy()
            else:
                decoded = self.tokenizers[1].detokenize(out["ids"], out["lengths"]).numpy()
            if len(decoded) == 0:
                raise CLIError("the .tflite answered a request with no rows")
            outputs += [t.decode("utf-8") for t in decoded]
            scores.append(np.asarray(out["scores"]))
        return outputs, np.concatenate(scores)


def assertion_message(error):
    """The message of a signature's failed `tf.debugging.Assert`."""
    found = re.search(r"assertion failed: \[(.*?)\]\n", str(error) + "\n")
    return found.group(1) if found else str(error).strip().splitlines()[-1]


def check_graph(path):
    """Refuse a SavedModel whose graph can do what no keras_seq export does.

    A SavedModel is a program: loading it and calling a signature runs its
    graph. Read as a protocol buffer first (nothing runs), the graph must
    hold only the op types of keras_seq's own exports.
    """
    from keras_seq.export.graph_ops import foreign_ops

    try:
        foreign = sorted(foreign_ops(path))
    except ValueError as e:
        raise CLIError(str(e)) from None
    if foreign:
        shown_ops = ", ".join(foreign[:6]) + (", ..." if len(foreign) > 6 else "")
        raise CLIError(
            f"{path} holds ops that keras-seq's exports never contain ({shown_ops}); "
            "a SavedModel is a program, so it was not run. Pass --trust-graph to "
            "run it anyway, only if you trust where it came from")


def tflite_tokenizers(path):
    """Tokenizers written beside a .tflite by `keras-seq export`, and whether
    its outputs get unknown replacement: `(source, target, replace)`."""
    from keras_seq.export.tflite_sidecars import sidecar_paths

    paths = sidecar_paths(path)
    spec = rd.read_json(paths["spec"], "tokenizer spec of the .tflite")
    tokenizers = []
    for side in ("source", "target"):
        vocabulary = paths[side]
        tokenizer = rd.load_tokenizer(spec[side], vocabulary)
        fingerprint.check_vocabulary(spec, side, tokenizer, vocabulary, path)
        tokenizers.append(tokenizer)
    return (*tokenizers, spec.get("replace_unknown_target") is True)



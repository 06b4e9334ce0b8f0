"""The tokenizer files written beside a `.tflite` (LiteRT has no strings).

For `g2p.tflite`, `export_tflite(..., source_tokenizer=, target_tokenizer=)`
writes `g2p.source_vocab.txt` and `g2p.target_vocab.txt` (one token per
line, in id order) and `g2p.tokenizers.json`: each tokenizer's class and
options without its vocabulary, and a fingerprint of both vocabularies, so
that a reader can tell a changed vocabulary file from the one exported.
`keras-seq predict g2p.tflite` reads them.
"""

import json
import os

import keras

from keras_seq.atomic import atomic_write_bytes
from keras_seq.text.vocabulary import vocabulary_fingerprint

SUFFIXES = {"source": ".source_vocab.txt", "target": ".target_vocab.txt",
            "spec": ".tokenizers.json"}


def sidecar_paths(path):
    """`{"source", "target", "spec"}` paths beside the `.tflite` at `path`."""
    stem = os.fspath(path)[: -len(".tflite")]
    return {kind: stem + suffix for kind, suffix in SUFFIXES.items()}


def tokenizer_spec(tokenizer):
    """The tokenizer's class and options, without its vocabulary."""
    spec = keras.saving.serialize_keras_object(tokenizer)
    spec["config"] = {k: v for k, v in spec["config"].items() if k != "vocabulary"}
    return spec


def check_sidecars_free(path):
    """Refuse sidecar paths that exist while the `.tflite` does not: those
    files are not this export's, and writing would replace them."""
    if os.path.exists(path):
        return  # a keras_seq .tflite (checked by the caller): its sidecars
    taken = [p for p in sidecar_paths(path).values() if os.path.exists(p)]
    if taken:
        raise FileExistsError(
            f"{taken[0]} exists and keras_seq did not write it for {path}; "
            "choose another path")


def write_sidecars(path, source_tokenizer, target_tokenizer, replace_unknown_target=False):
    """Write the vocabularies and the spec file beside `path`, atomically.

    With `replace_unknown_target` the spec says so (`"replace_unknown_target":
    true`), and a reader replaces each UNK of an output by the source token
    it attends to most, from the file's `attention` output.
    """
    paths = sidecar_paths(path)
    spec = {"fingerprint": {"data": {}, "vocabulary": {}}}
    if replace_unknown_target:
        spec["replace_unknown_target"] = True
    for side, tokenizer in (("source", source_tokenizer), ("target", target_tokenizer)):
        tokenizer.save_vocabulary(paths[side])
        spec[side] = tokenizer_spec(tokenizer)
        spec["fingerprint"]["vocabulary"][side] = vocabulary_fingerprint(
            tokenizer.vocabulary)
    text = json.dumps(spec, indent=2, sort_keys=True) + "\n"
    atomic_write_bytes(paths["spec"], text.encode("utf-8"))

"""A SavedModel holding a tokenizer loads with only TF and tensorflow-text."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from tensorflow.core.protobuf import saved_model_pb2

from keras_seq.constants import SPECIAL_TOKENS
from keras_seq.text import CharTokenizer, SymbolTokenizer

STRINGS = ["hello", "\ufb01 \uff28", "中文😀", "", "a\xffb?", "hello world, how are you"]
RAW_STRINGS = [s.encode("utf-8") for s in STRINGS[:4]] + [b"a\xffb?", STRINGS[5].encode()]
IDS = [[2, 7, 8, 9, 3, 0], [5, 1, 400, -1, 3, 3], [0, 0, 0, 0, 0, 0]]

# Runs in a fresh interpreter where keras_seq can't be imported, so loading
# proves the SavedModel needs only TensorFlow and tensorflow-text. (keras
# itself can't be blocked: importing tensorflow probes for it.)
LOADER = textwrap.dedent(
    """
    import json, sys

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "keras_seq":
                raise ImportError("blocked import of " + name)

    sys.meta_path.insert(0, Block())
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers NormalizeUTF8)

    export_dir, strings, ids = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
    strings = [s.encode("latin-1") for s in strings]
    loaded = tf.saved_model.load(export_dir)
    out = {}
    for name in ("chars", "symbols"):
        tokenize = loaded.signatures[name + "_tokenize"]
        detokenize = loaded.signatures[name + "_detokenize"]
        tokens = tokenize(strings=tf.constant(strings))["ids"]
        out[name + "_ids"] = tokens.numpy().tolist()
        out[name + "_text"] = [
            t.decode("utf-8") for t in detokenize(ids=tokens)["text"].numpy()
        ]
        out[name + "_given_ids_text"] = [
            t.decode("utf-8")
            for t in detokenize(ids=tf.constant(ids, tf.int32))["text"].numpy()
        ]
    empty = loaded.signatures["chars_tokenize"](strings=tf.constant([], tf.string))
    out["empty_shape"] = empty["ids"].shape.as_list()
    out["modules"] = sorted(m for m in sys.modules if m.split(".")[0] == "keras_seq")
    print(json.dumps(out))
    """
)


class Serving(tf.Module):
    def __init__(self, chars, symbols):
        super().__init__()
        self.chars = chars
        self.symbols = symbols

    def signatures(self):
        result = {}
        for name, tokenizer in (("chars", self.chars), ("symbols", self.symbols)):
            result[name + "_tokenize"] = tf.function(
                lambda strings, t=tokenizer: {
                    "ids": t.tokenize(strings, max_length=12, add_bos=True, add_eos=True)
                },
                input_signature=[tf.TensorSpec([None], tf.string, name="strings")],
            )
            result[name + "_detokenize"] = tf.function(
                lambda ids, t=tokenizer: {"text": t.detokenize(ids)},
                input_signature=[tf.TensorSpec([None, None], tf.int32, name="ids")],
            )
        return result


@pytest.mark.slow
def test_saved_model_loads_without_keras_seq(tmp_path):
    chars = CharTokenizer.from_corpus(["hello world", "fi H", "中文😀 ab"], lowercase=True)
    symbols = SymbolTokenizer(list(SPECIAL_TOKENS) + ["hello", "world,", "a\ufffdb?"])
    module = Serving(chars, symbols)
    signatures = module.signatures()
    export_dir = str(tmp_path / "tokenizers")
    tf.saved_model.save(module, export_dir, signatures=signatures)

    # The graph uses TF and tensorflow-text ops only, never a Python callback.
    saved = saved_model_pb2.SavedModel()
    with open(os.path.join(export_dir, "saved_model.pb"), "rb") as f:
        saved.ParseFromString(f.read())
    graph = saved.meta_graphs[0].graph_def
    op_types = {node.op for node in graph.node} | {
        node.op for function in graph.library.function for node in function.node_def
    }
    assert "NormalizeUTF8" in op_types and "UnicodeTranscode" in op_types
    assert not {op for op in op_types if "PyFunc" in op}

    # In-process reference results.
    expected = {}
    for name, tokenizer in (("chars", chars), ("symbols", symbols)):
        ids = signatures[name + "_tokenize"](tf.constant(RAW_STRINGS))["ids"]
        expected[name + "_ids"] = ids.numpy().tolist()
        expected[name + "_text"] = [
            t.decode("utf-8") for t in tokenizer.detokenize(ids).numpy()
        ]
        expected[name + "_given_ids_text"] = [
            t.decode("utf-8") for t in tokenizer.detokenize(tf.constant(IDS)).numpy()
        ]
    # Sanity of the reference itself, so a broken tokenizer can't pass by
    # agreeing with itself.
    assert expected["chars_text"][:3] == ["hello", "fi h", "中文😀"]
    assert expected["symbols_ids"][5][:3] == [2, 4, 5]
    assert expected["chars_ids"][5][-1] == 3 and len(expected["chars_ids"][5]) == 12

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            LOADER,
            export_dir,
            json.dumps([s.decode("latin-1") for s in RAW_STRINGS]),
            json.dumps(IDS),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    got = json.loads(result.stdout.strip().splitlines()[-1])
    assert got.pop("modules") == []
    assert got.pop("empty_shape")[0] == 0
    assert got == expected
    np.testing.assert_array_equal(got["chars_ids"], expected["chars_ids"])

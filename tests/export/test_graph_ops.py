"""The SavedModel op allow-list: derived from real exports, free of file I/O."""

import os

import pytest
import tensorflow as tf

from keras_seq.decoding import Beam, Greedy
from keras_seq.text import WordPieceTokenizer
from keras_seq.export import export_saved_model
from keras_seq.export.graph_ops import ALLOWED_OPS, foreign_ops, op_types
from keras_seq.models import rnn_seq2seq, transformer_seq2seq
from keras_seq.text import CharTokenizer, SymbolTokenizer

V = 12
SPECIAL = ["<pad>", "<unk>", "<s>", "</s>"]
# Ops that read or write files, run Python or reach the network: none of
# them may ever be allowed.
UNSAFE = {"ReadFile", "WriteFile", "PyFunc", "PyFuncStateless", "EagerPyFunc",
          "SaveV2", "RestoreV2", "Save", "SaveSlices", "Restore", "RestoreSlice",
          "MergeV2Checkpoints", "MatchingFiles", "InitializeTableFromTextFileV2",
          "TFRecordDataset", "FixedLengthRecordDataset", "TextLineDataset",
          "WholeFileReaderV2", "DeleteFile", "RecursivelyCreateDir", "Print",
          "PrintV2", "DebugIdentityV3", "WriteSummary", "ImmutableConst"}


def exports(root):
    """SavedModels of every family and method, with every tokenizer kind."""
    chars = CharTokenizer(SPECIAL + list("abcdefgh"))
    symbols = SymbolTokenizer(SPECIAL + "AA B CH D EH F G HH".split())
    wordpiece = WordPieceTokenizer.from_corpus(["ab cd ef gh", "abc def"] * 5, max_size=V)
    models = {
        "rnn-gru": rnn_seq2seq(V, V, cell="gru", units=8),
        "lstm-bahdanau": rnn_seq2seq(V, V, cell="lstm", units=8, attention="bahdanau"),
        "simple-luong": rnn_seq2seq(V, V, cell="simple_rnn", units=8, attention="luong",
                                    bidirectional=True),
        "gru-luong-feeding": rnn_seq2seq(V, V, cell="gru", units=8, attention="luong",
                                         input_feeding=True),
        "transformer": transformer_seq2seq(V, V, num_layers=1, dim=8, num_heads=2,
                                           ff_dim=16, max_length=16),
    }
    for name, model in models.items():
        for method in ("greedy", "beam"):
            path = os.path.join(root, f"{name}-{method}", "1")
            export_saved_model(model, path, source_tokenizer=chars,
                               target_tokenizer=chars,
                               strategy=Beam(length_penalty=0.6) if method == "beam" else Greedy())
            yield path
    for name, tokenizers in {"symbol": (symbols, chars), "wordpiece": (wordpiece, wordpiece),
                             "ids-only": (None, None)}.items():
        path = os.path.join(root, name, "1")
        export_saved_model(models["rnn-gru"], path, source_tokenizer=tokenizers[0],
                           target_tokenizer=tokenizers[1], max_length=10)
        yield path


@pytest.mark.slow
def test_the_allow_list_is_exactly_what_the_exports_hold(tmp_path):
    found = set()
    for path in exports(str(tmp_path)):
        assert foreign_ops(path) == set(), path
        found |= op_types(path)
    assert found == ALLOWED_OPS, (
        f"exports now hold {sorted(found - ALLOWED_OPS)} and no longer "
        f"{sorted(ALLOWED_OPS - found)}; new list: {sorted(found)}")


def test_the_allow_list_holds_no_op_that_touches_files_or_runs_python():
    assert not ALLOWED_OPS & UNSAFE
    assert not [op for op in ALLOWED_OPS if "File" in op or "Py" in op or "Save" in op]


def test_a_graph_that_writes_files_is_found_even_deep_in_nested_functions(tmp_path):
    @tf.function
    def inner(x):
        tf.io.write_file(str(tmp_path / "x"), x)
        return x

    class Evil(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec((None,), tf.string)])
        def serve(self, text):
            i = tf.constant(0)
            [i] = tf.while_loop(lambda i: i < 1, lambda i: [i + tf.size(inner(text[0]))], [i])
            return {"text": text, "n": i}

    module = Evil()
    path = str(tmp_path / "evil")
    tf.saved_model.save(module, path, signatures={"serving_default": module.serve})
    assert "WriteFile" in foreign_ops(path)
    # The checkpoint saver's own SaveV2/RestoreV2 are not counted.
    assert not {"SaveV2", "RestoreV2"} & op_types(path)

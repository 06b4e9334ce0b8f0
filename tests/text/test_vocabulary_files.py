"""Tests for tokenizer vocabulary files: from_file and save_vocabulary."""

import os

import pytest

from keras_seq.constants import SPECIAL_TOKENS
from keras_seq.text import CharTokenizer, SymbolTokenizer

SPECIAL_LINES = "<pad>\n<unk>\n<s>\n</s>\n"


def write(path, data):
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


@pytest.mark.parametrize(
    "cls, tokens",
    [
        (CharTokenizer, ["a", " ", "é", "中", "😀", "\t", "\u2028"]),
        (SymbolTokenizer, ["HH", "AH0", "tʰ", "中文"]),
    ],
)
def test_save_and_load_round_trip(tmp_path, cls, tokens):
    tokenizer = cls(list(SPECIAL_TOKENS) + tokens)
    path = tmp_path / "vocab.txt"
    tokenizer.save_vocabulary(path)
    with open(path, "rb") as f:
        assert f.read() == (SPECIAL_LINES + "".join(t + "\n" for t in tokens)).encode()
    loaded = cls.from_file(path)
    assert loaded.vocabulary == tokenizer.vocabulary
    assert os.listdir(tmp_path) == ["vocab.txt"]  # no temporary file left


def test_save_replaces_existing_file_and_keeps_its_mode(tmp_path):
    path = write(tmp_path / "vocab.txt", "old contents\n")
    os.chmod(path, 0o640)
    CharTokenizer(list(SPECIAL_TOKENS) + ["x"]).save_vocabulary(str(path))
    assert CharTokenizer.from_file(str(path)).vocabulary[4:] == ["x"]
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ["vocab.txt"]


def test_save_rejects_line_breaks_in_tokens(tmp_path):
    tokenizer = CharTokenizer(list(SPECIAL_TOKENS) + ["a", "\n"])
    path = tmp_path / "vocab.txt"
    with pytest.raises(ValueError, match=r"token 5 is '\\n'.*line breaks"):
        tokenizer.save_vocabulary(path)
    assert os.listdir(tmp_path) == []


def test_from_file_accepts_crlf_and_byte_order_mark(tmp_path):
    path = write(tmp_path / "v.txt", b"\xef\xbb\xbf" + SPECIAL_LINES.replace("\n", "\r\n").encode() + b"AH0\r\nHH")
    assert SymbolTokenizer.from_file(path).vocabulary[4:] == ["AH0", "HH"]


def test_from_file_passes_options(tmp_path):
    path = write(tmp_path / "v.txt", SPECIAL_LINES + "a\n")
    tokenizer = CharTokenizer.from_file(path, lowercase=True)
    assert tokenizer.lowercase
    assert tokenizer.tokenize(["A"]).numpy().tolist() == [[4]]


@pytest.mark.parametrize(
    "contents, message",
    [
        ("", r"line 1 must be the special token '<pad>'.*Received: nothing"),
        ("<pad>\n<unk>\n</s>\n<s>\na\n", r"line 3 must be the special token '<s>'.*Received: '</s>'"),
        ("<pad>\n<unk>\n", r"line 3 must be the special token '<s>'"),
        (SPECIAL_LINES + "a\nb\n\nc\n", r"line 7 is an empty string"),
        (SPECIAL_LINES + "a\nb\na\n", r"line 7 repeats the token 'a' of line 5"),
        (SPECIAL_LINES + "a\nab\n", r"line 6 is 'ab'.*single character"),
        (SPECIAL_LINES.encode() + b"a\n\xff\n", r"line 6 is not valid UTF-8"),
    ],
)
def test_from_file_errors_name_path_and_line(tmp_path, contents, message):
    path = write(tmp_path / "bad_vocab.txt", contents)
    with pytest.raises(ValueError, match=message) as info:
        CharTokenizer.from_file(path)
    assert f"Invalid vocabulary file {str(path)!r}" in str(info.value)


def test_from_file_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        CharTokenizer.from_file(tmp_path / "missing.txt")

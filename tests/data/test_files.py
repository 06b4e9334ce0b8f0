"""The user's own data: parallel files and TSV, happy paths and errors."""

import pytest

import keras_seq.data
from tests.data.conftest import decode_dataset

WORDS = [f"w{i:02d}" for i in range(30)]


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def test_from_files(tmp_path):
    sources = write(tmp_path / "src.txt", "".join(w + "\n" for w in WORDS))
    targets = write(tmp_path / "tgt.txt", "".join(w[::-1] + "\r\n" for w in WORDS))
    task = keras_seq.data.from_files(sources, targets, seed=4, batch_size=4)
    assert task.name == "files"
    assert [len(task.sources[s]) for s in ("train", "validation", "test")] == [24, 3, 3]
    everything = [w for s in task.sources.values() for w in s]
    assert sorted(everything) == WORDS
    for split in ("train", "validation", "test"):
        # Each split keeps the file order; references are the reversed words.
        assert task.sources[split] == sorted(task.sources[split])
        assert task.references[split] == [[w[::-1]] for w in task.sources[split]]
    decoded = decode_dataset(task.test, task.source_tokenizer, task.target_tokenizer)
    assert decoded == (task.sources["test"], [w[::-1] for w in task.sources["test"]])
    assert task.config["source_path"] == str(sources)
    other = keras_seq.data.from_files(sources, targets, seed=5)
    assert other.sources["test"] != task.sources["test"]


def test_from_tsv_groups_references(tmp_path):
    lines = [f"{w}\t{w.upper()}" for w in WORDS] + ["w00\tALT 0", "w00\tW00"]
    path = write(tmp_path / "pairs.tsv", "\n".join(lines))  # no final newline
    task = keras_seq.data.from_tsv(path, tokenizer="symbol", test_fraction=0.2)
    refs = {
        source: ref
        for split in task.sources
        for source, ref in zip(task.sources[split], task.references[split])
    }
    assert len(refs) == 30 and refs["w00"] == ["W00", "ALT 0"]
    assert len(task.sources["test"]) == 6
    assert task.target_tokenizer.vocab_size <= 4 + 31


@pytest.mark.parametrize("kind", ["files", "tsv"])
def test_invalid_utf8_names_the_file_and_line(tmp_path, kind):
    bad = write(tmp_path / "bad.txt", b"ok\tOK\nfine\tFINE\nbad \xff\xfe\tX\n")
    if kind == "files":
        good = write(tmp_path / "good.txt", "a\nb\nc\n")
        call = lambda: keras_seq.data.from_files(good, bad)  # noqa: E731
    else:
        call = lambda: keras_seq.data.from_tsv(bad)  # noqa: E731
    with pytest.raises(ValueError, match=r"Line 3 of '.*bad\.txt' is not valid UTF-8"):
        call()


def test_line_counts_must_match(tmp_path):
    src = write(tmp_path / "src.txt", "a\nb\nc\n")
    tgt = write(tmp_path / "tgt.txt", "A\nB\n")
    with pytest.raises(ValueError) as info:
        keras_seq.data.from_files(src, tgt)
    message = str(info.value)
    assert "src.txt' with 3 lines" in message and "tgt.txt' with 2 lines" in message


def test_empty_file(tmp_path):
    src = write(tmp_path / "src.txt", "a\nb\n")
    empty = write(tmp_path / "empty.txt", "")
    with pytest.raises(ValueError, match=r"The file '.*empty\.txt' is empty"):
        keras_seq.data.from_files(src, empty)
    with pytest.raises(ValueError, match=r"empty\.txt' is empty"):
        keras_seq.data.from_tsv(empty)


def test_tsv_line_without_a_tab(tmp_path):
    path = write(tmp_path / "p.tsv", "a\tA\nb B\nc\tC\n")
    with pytest.raises(ValueError, match=r"Line 2 of '.*p\.tsv' has no tab"):
        keras_seq.data.from_tsv(path)
    path = write(tmp_path / "q.tsv", "a\tA\tx\n")
    with pytest.raises(ValueError, match="Line 1 .* has 2 tabs"):
        keras_seq.data.from_tsv(path)


def test_blank_line_and_bad_options(tmp_path):
    src = write(tmp_path / "src.txt", "a\n\nc\n")
    tgt = write(tmp_path / "tgt.txt", "A\nB\nC\n")
    with pytest.raises(ValueError, match=r"Line 2 of '.*src\.txt' has an empty source"):
        keras_seq.data.from_files(src, tgt)
    tgt2 = write(tmp_path / "tgt2.txt", "A\nB\nC\n")
    src2 = write(tmp_path / "src2.txt", "a\nb\nc\n")
    with pytest.raises(ValueError, match="`tokenizer`"):
        keras_seq.data.from_files(src2, tgt2, tokenizer="bpe")
    src3 = write(tmp_path / "src3.txt", "a\nb\n")
    with pytest.raises(ValueError, match="Too little data"):
        keras_seq.data.from_files(src3, write(tmp_path / "tgt3.txt", "A\nB\n"))

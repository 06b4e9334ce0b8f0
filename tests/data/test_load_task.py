"""load_task: dispatch by name, clear errors."""

import pytest

import keras_seq.data


def test_dispatch(tmp_path):
    task = keras_seq.data.load_task("sort", num_examples=20, max_length=4)
    assert task.name == "sort" and task.config["max_length"] == 4
    path = tmp_path / "p.tsv"
    path.write_text("".join(f"{i}\t{i * 2}\n" for i in range(12)))
    assert keras_seq.data.load_task("tsv", path=str(path)).name == "tsv"


def test_unknown_name():
    with pytest.raises(ValueError) as info:
        keras_seq.data.load_task("x")
    assert str(info.value) == (
        "Invalid value for argument `task`. Expected one of {'addition', "
        "'cmudict', 'copy', 'dates', 'files', 'reverse', 'sort', 'tsv'}. "
        "Received: task='x'"
    )


def test_unknown_and_missing_options():
    message = "Invalid option for task 'dates': 'max_digits'"
    with pytest.raises(ValueError, match=message):
        keras_seq.data.load_task("dates", max_digits=3)
    with pytest.raises(ValueError, match="'source_path', 'target_path'"):
        keras_seq.data.load_task("files")

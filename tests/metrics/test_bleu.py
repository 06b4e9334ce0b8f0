"""corpus_bleu agrees with sacrebleu, with one or several references."""

import pytest

sacrebleu = pytest.importorskip("sacrebleu")

from keras_seq.metrics.bleu import corpus_bleu  # noqa: E402
from keras_seq.metrics.bleu import reference_streams  # noqa: E402

HYPOTHESES = ["the cat is on the mat today", "there is a dog in the garden"]


def test_single_reference_equals_sacrebleu():
    refs = ["the cat sat on the mat today", "a dog is in the garden"]
    expected = sacrebleu.corpus_bleu(HYPOTHESES, [refs]).score
    assert corpus_bleu(HYPOTHESES, refs) == pytest.approx(expected)
    assert corpus_bleu(HYPOTHESES, [[r] for r in refs]) == pytest.approx(expected)
    assert 0.0 < expected < 100.0


def test_two_references_equal_sacrebleu_streams():
    refs = [
        ["the cat sat on the mat today", "the cat is on the mat today"],
        ["a dog is in the garden", "there is a dog in the yard"],
    ]
    streams = [[r[0] for r in refs], [r[1] for r in refs]]
    expected = sacrebleu.corpus_bleu(HYPOTHESES, streams).score
    assert corpus_bleu(HYPOTHESES, refs) == pytest.approx(expected)
    # A second reference can only help.
    assert expected > corpus_bleu(HYPOTHESES, [r[0] for r in refs])


def test_variable_reference_counts_pad_with_none():
    refs = [["a b c d e"], ["f g h i j", "f g h i k"]]
    assert reference_streams(refs) == [["a b c d e", "f g h i j"], [None, "f g h i k"]]
    hypotheses = ["a b c d e", "f g h i k"]
    expected = sacrebleu.corpus_bleu(hypotheses, reference_streams(refs)).score
    assert corpus_bleu(hypotheses, refs) == pytest.approx(expected) == pytest.approx(100.0)
    # The item with one reference is scored against it alone: padding with ""
    # would add an empty reference and change the brevity penalty's choice.
    assert corpus_bleu(["a b c"], [["a b c d e"]]) < 100.0


def test_perfect_match_is_100():
    refs = [["the cat sat on the mat"], ["a dog is in the garden", "x"]]
    assert corpus_bleu([r[0] for r in refs], refs) == pytest.approx(100.0)


def test_errors():
    with pytest.raises(ValueError, match=r"len\(predictions\)=1, len\(references\)=2"):
        corpus_bleu(["a"], ["a", "b"])
    with pytest.raises(ValueError, match=r"references\[0\]=\[\]"):
        corpus_bleu(["a"], [[]])
    with pytest.raises(ValueError, match="empty corpus"):
        corpus_bleu([], [])

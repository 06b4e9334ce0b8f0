"""by_length buckets and format_table's markdown."""

import pytest

from keras_seq.metrics.by_length import by_length
from keras_seq.metrics.by_length import default_buckets
from keras_seq.metrics.by_length import format_table

# Sources of 3, 4, 7 and 12 characters; G2P-style outputs.
SOURCES = ["cat", "read", "kitchen", "spellchecker"]
PREDICTIONS = ["K AE1 T", "R IY1 D", "K IH1 CH AH0 N", "S P EH1 L CH EH2 K ER0"]
REFERENCES = [
    ["K AE1 T"],
    ["R EH1 D", "R IY1 D"],
    ["K IH1 CH IH0 N"],
    ["S P EH1 L CH EH2 K ER0"],
]


def test_default_buckets():
    assert default_buckets([3, 12]) == [5, 10, 15]
    assert default_buckets([50]) == [5 * k for k in range(1, 11)]
    assert default_buckets([51]) == [10, 20, 30, 40, 50, 60]
    assert default_buckets([0]) == [5]


def test_rows_counts_and_values():
    rows = by_length(SOURCES, PREDICTIONS, REFERENCES, target_tokenize="symbols")
    assert [(r["bucket"], r["count"]) for r in rows] == [("1-5", 2), ("6-10", 1), ("11-15", 1)]
    assert rows[0] == {"bucket": "1-5", "count": 2, "exact_match": 1.0, "wer": 0.0, "ter": 0.0}
    assert rows[1]["exact_match"] == 0.0 and rows[1]["wer"] == 100.0
    assert rows[1]["ter"] == pytest.approx(20.0)  # 1 of 5 phonemes
    assert rows[2]["exact_match"] == 1.0


def test_explicit_buckets_overflow_and_empty_buckets():
    rows = by_length(
        SOURCES, PREDICTIONS, REFERENCES, buckets=[3, 5, 6],
        target_tokenize="symbols", metrics=("exact_match",),
    )
    # "6" (6..6) holds nothing and is left out; 7 and 12 overflow into "7+".
    assert rows == [
        {"bucket": "1-3", "count": 1, "exact_match": 1.0},
        {"bucket": "4-5", "count": 1, "exact_match": 1.0},
        {"bucket": "7+", "count": 2, "exact_match": 0.5},
    ]


def test_symbol_lengths_and_shared_tokenize():
    sources = ["a b", "a b c d e f"]
    rows = by_length(sources, ["x y", "x"], ["x y", "x z"], tokenize="symbols")
    assert [(r["bucket"], r["count"]) for r in rows] == [("1-5", 1), ("6-10", 1)]
    assert rows[1]["ter"] == 50.0  # symbols: 1 deletion over 2


def test_bleu_column():
    pytest.importorskip("sacrebleu")
    sentence = "the cat sat on the mat"
    rows = by_length([sentence], [sentence], [sentence], tokenize="symbols",
                     metrics=("bleu",))
    assert rows == [{"bucket": "6-10", "count": 1, "bleu": pytest.approx(100.0)}]


def test_by_length_errors():
    with pytest.raises(ValueError, match="argument `buckets`"):
        by_length(SOURCES, PREDICTIONS, REFERENCES, buckets=[5, 5])
    with pytest.raises(ValueError, match="argument `buckets`"):
        by_length(SOURCES, PREDICTIONS, REFERENCES, buckets=[])
    with pytest.raises(ValueError, match="argument `metrics`"):
        by_length(SOURCES, PREDICTIONS, REFERENCES, metrics=("per",))
    with pytest.raises(ValueError, match="argument `metrics`"):
        by_length(SOURCES, PREDICTIONS, REFERENCES, metrics="wer")
    with pytest.raises(ValueError, match="argument `target_tokenize`"):
        by_length(SOURCES, PREDICTIONS, REFERENCES, target_tokenize="words")
    with pytest.raises(ValueError, match=r"len\(sources\)=3, len\(predictions\)=4"):
        by_length(SOURCES[:3], PREDICTIONS, REFERENCES)


def test_format_table():
    rows = [
        {"bucket": "1-5", "count": 12, "exact_match": 0.75, "wer": 25.0},
        {"bucket": "6-10", "count": 3, "exact_match": 1 / 3, "wer": 200 / 3},
    ]
    assert format_table(rows) == (
        "| bucket | count | exact_match |    wer |\n"
        "| :----- | ----: | ----------: | -----: |\n"
        "| 1-5    |    12 |       0.750 | 25.000 |\n"
        "| 6-10   |     3 |       0.333 | 66.667 |"
    )


def test_format_table_missing_keys_and_pipes():
    table = format_table([{"a": "x|y"}, {"a": "z", "b": 1}])
    assert table.splitlines() == [
        "| a    |   b |",
        "| :--- | --: |",
        "| x\\|y |     |",
        "| z    |   1 |",
    ]
    with pytest.raises(ValueError, match="argument `rows`"):
        format_table([])

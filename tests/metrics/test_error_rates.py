"""Edit distance, exact match, WER and PER/CER on hand-computed corpora."""

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from keras_seq.metrics.edit_distance import edit_distance
from keras_seq.metrics.error_rates import closest_reference
from keras_seq.metrics.error_rates import exact_match
from keras_seq.metrics.error_rates import token_error_rate
from keras_seq.metrics.error_rates import word_error_rate


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ("kitten", "sitting", 3),
        ("flaw", "lawn", 2),
        ("intention", "execution", 5),
        ("saturday", "sunday", 3),
        ("", "abc", 3),
        ("abc", "", 3),
        ("", "", 0),
        ("same", "same", 0),
        ("HH AH0 L OW1".split(), "HH EH1 L OW1".split(), 1),
        (["AH0", "B"], ("B",), 1),
    ],
)
def test_edit_distance_classic_pairs(a, b, expected):
    assert edit_distance(a, b) == expected


def test_edit_distance_rejects_non_sequences():
    with pytest.raises(ValueError, match="argument `b`"):
        edit_distance("abc", 3)


words = st.text(alphabet="abc", max_size=7)


@settings(max_examples=150, deadline=None)
@given(words, words, words)
def test_edit_distance_is_a_metric(a, b, c):
    assert edit_distance(a, b) == edit_distance(b, a)
    assert (edit_distance(a, b) == 0) == (a == b)
    assert edit_distance(a, c) <= edit_distance(a, b) + edit_distance(b, c)
    assert abs(len(a) - len(b)) <= edit_distance(a, b) <= max(len(a), len(b))


PREDICTIONS = ["R IY1 D", "K AE1 T", "D AO1 G"]
REFERENCES = [["R EH1 D", "R IY1 D"], ["K AA1 T"], "D AO1 G"]


def test_exact_match_and_wer_accept_any_reference():
    # Item 0 matches its second reference, item 2 its only (string) one.
    assert exact_match(PREDICTIONS, REFERENCES) == pytest.approx(2 / 3)
    assert word_error_rate(PREDICTIONS, REFERENCES) == pytest.approx(100 / 3)
    assert word_error_rate(["a"], [["b"]]) == 100.0
    assert exact_match(["a", "b"], ["a", "b"]) == 1.0


def test_per_uses_the_closest_reference():
    # Item 0: 0 edits against "R IY1 D" (3); item 1: 1 edit (3); item 2: 0 (3).
    assert token_error_rate(PREDICTIONS, REFERENCES) == pytest.approx(100 / 9)
    # "HH AH0 L OW1" is 1 edit from each 4-symbol reference: 25%.
    assert token_error_rate(["HH AH0 L OW1"], [["HH EH1 L OW1", "HH AH0 L OW0"]]) == 25.0


def test_per_pools_edits_over_reference_lengths():
    # 2 edits / 2 tokens and 0 / 6: pooled 2 / 8, not the mean of 100% and 0%.
    predictions = ["A B", "A B C D E F"]
    references = ["X Y", "A B C D E F"]
    assert token_error_rate(predictions, references) == 25.0


def test_ties_go_to_the_longest_reference():
    # "A B" is 1 edit from "A" (length 1) and from "A B C" (length 3).
    assert closest_reference("A B", ["A", "A B C"]) == (1, 3)
    assert token_error_rate(["A B"], [["A", "A B C"]]) == pytest.approx(100 / 3)
    # Fewer edits beat a longer reference.
    assert closest_reference("A B", ["A B C D E", "A B"]) == (0, 2)


def test_cer_counts_characters_including_spaces():
    assert token_error_rate(["kitten"], ["sitting"], tokenize="chars") == pytest.approx(300 / 7)
    # "ab c" vs "abc": one deleted space over 3 reference characters.
    assert token_error_rate(["ab c"], ["abc"], tokenize="chars") == pytest.approx(100 / 3)
    # As symbols: ["ab", "c"] vs ["abc"] is 2 edits over 1 token.
    assert token_error_rate(["ab c"], ["abc"], tokenize="symbols") == 200.0


def test_mismatched_lengths_name_both_arguments():
    with pytest.raises(ValueError, match=r"len\(predictions\)=2, len\(references\)=1"):
        word_error_rate(["a", "b"], [["a"]])


def test_empty_reference_list_names_the_index():
    with pytest.raises(ValueError, match=r"references\[1\]=\[\]"):
        exact_match(["a", "b"], [["a"], []])


def test_empty_corpus_is_an_error():
    for metric in (exact_match, word_error_rate, token_error_rate):
        with pytest.raises(ValueError, match="empty corpus"):
            metric([], [])


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="argument `predictions`"):
        exact_match("abc", ["abc"])
    with pytest.raises(ValueError, match="argument `references`"):
        exact_match(["abc"], [[1]])
    with pytest.raises(ValueError, match="tokenize='words'"):
        token_error_rate(["a"], ["a"], tokenize="words")
    with pytest.raises(ValueError, match="every chosen reference is empty"):
        token_error_rate([""], [""])

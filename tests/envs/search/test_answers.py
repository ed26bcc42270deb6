"""SQuAD normalisation, exact match and token F1 (reference values from the SQuAD v1.1 script)."""

from __future__ import annotations

import pytest

from rewardgym.envs.search import exact_match, f1_score, is_abstention, normalize_answer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Eiffel Tower", "eiffel tower"),
        ("  a   Tale of Two   Cities. ", "tale of two cities"),
        ("Dijon, France!", "dijon france"),
        ("An apple", "apple"),
        ("theatre", "theatre"),  # an article inside a word stays
        ("1,867", "1867"),
        ("", ""),
    ],
)
def test_normalize_answer(text, expected):
    assert normalize_answer(text) == expected


def test_exact_match_takes_any_alias():
    assert exact_match("the Charles Babbage.", ["Charles Babbage", "Babbage"]) == 1.0
    assert exact_match("babbage", ["Charles Babbage", "Babbage"]) == 1.0
    assert exact_match("Charles", ["Charles Babbage", "Babbage"]) == 0.0
    assert exact_match("anything", []) == 0.0


def test_f1_reference_values():
    # pred "eiffel tower paris" vs gold "eiffel tower": precision 2/3, recall 1 -> 0.8
    assert f1_score("The Eiffel Tower, Paris", ["Eiffel Tower"]) == pytest.approx(0.8)
    assert f1_score("tower", ["Eiffel Tower"]) == pytest.approx(2 / 3)
    assert f1_score("London", ["Paris"]) == 0.0
    # the best alias wins
    assert f1_score("Babbage", ["Charles Babbage", "Babbage"]) == 1.0
    assert f1_score("", ["Paris"]) == 0.0
    assert f1_score("x", []) == 0.0


@pytest.mark.parametrize("text", ["I don't know", "I do not know.", "Unanswerable", "IDK"])
def test_abstention_phrases(text):
    assert is_abstention(text)


@pytest.mark.parametrize("text", ["Paris", "I know", "not known to me at all"])
def test_answers_are_not_abstentions(text):
    assert not is_abstention(text)

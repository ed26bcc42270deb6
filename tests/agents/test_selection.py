"""Test-time selectors (METHODS §7) on hand-checked samples, and self-certainty from logprobs."""

from __future__ import annotations

import math

import pytest

from rewardgym.agents.selection import best_of_majority, borda_vote, majority_vote, oracle_pass
from rewardgym.errors import ConfigError
from rewardgym.leaderboard.scoring import pass_at_k
from rewardgym.llm import TokenLogprob, self_certainty

# Four samples; self-certainty ranks them A (r=1), B (r=2), C (r=3), B (r=4).
ANSWERS = ["A", "B", "B", "C"]
CERTAINTY = [0.9, 0.1, 0.5, 0.3]


def test_majority_vote_takes_the_most_frequent_answer_and_breaks_ties_by_first_seen():
    assert majority_vote(ANSWERS) == "B"
    assert majority_vote(["x", "y", "y", "x"]) == "x"
    assert majority_vote([3]) == 3
    with pytest.raises(ConfigError):
        majority_vote([])


def test_borda_votes_are_n_minus_r_plus_1_to_the_power_p():
    # p = 0.5: A gets 4**.5 = 2; B gets 3**.5 + 1**.5 = 2.732; C gets 2**.5 = 1.414 -> B
    assert borda_vote(ANSWERS, CERTAINTY) == "B"
    # p = 2: A gets 16, B gets 9 + 1 = 10, C gets 4 -> the single most certain sample wins
    assert borda_vote(ANSWERS, CERTAINTY, power=2) == "A"
    # p = 0: every sample one vote, the majority vote
    assert borda_vote(ANSWERS, CERTAINTY, power=0) == majority_vote(ANSWERS)
    # p = 1 (the paper's default in code): A 4, B 3 + 1 = 4, C 2 -> tie, A seen first
    assert borda_vote(ANSWERS, CERTAINTY, power=1) == "A"


def test_borda_ranks_unknown_certainty_last():
    # x has no certainty: ranked 3rd of 3 -> 1 vote; y (r=1) 3**.5 beats z (r=2) 2**.5
    assert borda_vote(["x", "y", "z"], [None, 0.2, 0.1]) == "y"
    # y r=1: 3**.5 = 1.732; the unknown x samples r=2, 3: 2**.5 + 1 = 2.414 -> x
    assert borda_vote(["x", "y", "x"], [None, 0.9, float("nan")]) == "x"
    with pytest.raises(ConfigError, match="certainties"):
        borda_vote(["x"], [0.1, 0.2])
    with pytest.raises(ConfigError, match="power"):
        borda_vote(["x"], [0.1], power=-1)


def test_best_of_majority_filters_by_frequency_then_ranks_by_score():
    answers = ["A", "B", "B", "C", "C", "C", "D", "D"]
    scores = [9.0, 5.0, 7.0, 1.0, 2.0, 3.0, 6.0, 8.0]
    # alpha 0.25 keeps B (2/8), C (3/8), D (2/8); mean scores B 6, C 2, D 7
    assert best_of_majority(answers, scores, alpha=0.25) == ["D"]
    assert best_of_majority(answers, scores, alpha=0.25, k=2) == ["D", "B"]
    assert best_of_majority(answers, scores, alpha=0.25, k=9) == ["D", "B", "C"]
    # alpha 0.3 keeps C alone; alpha 0 keeps A too (score 9 beats all)
    assert best_of_majority(answers, scores, alpha=0.3) == ["C"]
    assert best_of_majority(answers, scores, alpha=0.0) == ["A"]
    # nothing frequent enough: the most frequent answers are the candidates
    assert best_of_majority(answers, scores, alpha=0.9) == ["C"]
    # unknown scores rank last
    assert best_of_majority(["a", "b"], [None, -5.0], alpha=0.0) == ["b"]
    with pytest.raises(ConfigError, match="alpha"):
        best_of_majority(answers, scores, alpha=1.5)
    with pytest.raises(ConfigError, match="k must"):
        best_of_majority(answers, scores, alpha=0.2, k=0)


def test_oracle_pass_and_the_unbiased_pass_at_k_reference_values():
    assert oracle_pass([False, True, False]) is True
    assert oracle_pass([False, False]) is False
    # 1 - C(n-c, k) / C(n, k)
    assert pass_at_k(5, 2, 2) == pytest.approx(1 - 3 / 10)
    assert pass_at_k(5, 2, 1) == pytest.approx(2 / 5)
    assert pass_at_k(4, 0, 4) == 0.0 and pass_at_k(4, 1, 4) == 1.0
    assert pass_at_k(10, 3, 5) == pytest.approx(1 - math.comb(7, 5) / math.comb(10, 5))


def test_self_certainty_is_the_mean_kl_from_uniform():
    # exact: the per-token KL values averaged
    exact = [TokenLogprob("a", -0.1, kl_uniform=2.0), TokenLogprob("b", -0.2, kl_uniform=4.0)]
    assert self_certainty(exact) == pytest.approx(3.0)
    # estimated from top-2: -log 2 - (log .9 + log .1) / 2 per token
    p = [(("x", math.log(0.9)), ("y", math.log(0.1)))]
    est = [TokenLogprob("x", math.log(0.9), top=p[0])]
    want = -math.log(2) - (math.log(0.9) + math.log(0.1)) / 2
    assert self_certainty(est) == pytest.approx(want)
    # a uniform top-k is the least certain: KL 0
    flat = [TokenLogprob("x", math.log(0.5), top=(("x", math.log(0.5)), ("y", math.log(0.5))))]
    assert self_certainty(flat) == pytest.approx(0.0)
    assert self_certainty([]) is None
    assert self_certainty([TokenLogprob("x", -1.0)]) is None  # no top-k, no exact value

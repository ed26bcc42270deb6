"""Scoring rules against hand-computed values: pass@k, bootstrap CIs, per-env and suite scores."""

from __future__ import annotations

import math

import pytest

from rewardgym.errors import ConfigError
from rewardgym.leaderboard.scoring import (
    bootstrap_ci,
    is_scripted,
    pass_at_k,
    score_rows,
    suite_scores,
)


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (5, 2, 1, 0.4),  # 1 - C(3,1)/C(5,1) = 1 - 3/5
        (5, 2, 2, 0.7),  # 1 - C(3,2)/C(5,2) = 1 - 3/10
        (10, 3, 5, 1 - 21 / 252),  # C(7,5)=21, C(10,5)=252
        (4, 0, 2, 0.0),
        (4, 4, 1, 1.0),
        (4, 3, 2, 1.0),  # n - c < k: every k-subset holds a success
    ],
)
def test_pass_at_k_matches_the_combinatorial_formula(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected)


def test_pass_at_k_rejects_impossible_arguments():
    with pytest.raises(ConfigError):
        pass_at_k(3, 4, 1)
    with pytest.raises(ConfigError):
        pass_at_k(3, 1, 4)


def test_bootstrap_ci_is_seeded_and_brackets_the_mean():
    values = [0.0, 1.0, 1.0, 0.0, 1.0, 0.5, 0.25, 0.75]
    lo, hi = bootstrap_ci(values, seed=3)
    assert (lo, hi) == bootstrap_ci(values, seed=3)
    assert lo < sum(values) / len(values) < hi
    assert lo >= 0.0 and hi <= 1.0
    assert bootstrap_ci([0.7]) == (0.7, 0.7)
    assert bootstrap_ci([2.0, 2.0, 2.0]) == (2.0, 2.0)
    with pytest.raises(ConfigError):
        bootstrap_ci([])


def _row(agent, env, task, ret, success, cost=None, wall=1.0, length=2, invalid=0):
    return {
        "agent": agent,
        "env_id": env,
        "task_id": task,
        "task_return": ret,
        "success": success,
        "cost": cost or {},
        "wall_s": wall,
        "length": length,
        "invalid_actions": invalid,
    }


def test_score_rows_averages_tasks_first_and_counts_costs_per_solved_task():
    rows = [
        # task a: 3 samples (1, 1, 0) -> mean 2/3; task b: 3 samples (0, 0, 0) -> 0
        _row("m", "E", "a", 1.0, True, {"llm_tokens": 10}),
        _row("m", "E", "a", 1.0, True, {"llm_tokens": 20}),
        _row("m", "E", "a", 0.0, False, {"llm_tokens": 30}, invalid=1),
        _row("m", "E", "b", 0.0, False, {"llm_tokens": 40}),
        _row("m", "E", "b", 0.0, False, {"llm_tokens": 50}),
        _row("m", "E", "b", 0.0, False, {"llm_tokens": 60}, invalid=1),
    ]
    (s,) = score_rows(rows)
    assert s.episodes == 6 and s.tasks == 2
    assert s.mean_return == pytest.approx((2 / 3 + 0) / 2)
    assert s.success_rate == pytest.approx(2 / 6)
    assert s.solved == 2
    assert s.cost["llm_tokens"] == 210 and s.cost["wall_s"] == 6.0
    assert s.cost_per_solved["llm_tokens"] == pytest.approx(105.0)
    assert s.invalid_rate == pytest.approx(2 / 12)
    # pass@1 = mean(2/3, 0); pass@3 = mean(1, 0) (defaults: 1 and the smallest sample count)
    assert s.pass_at == {1: pytest.approx(1 / 3), 3: pytest.approx(0.5)}
    assert s.ci_low <= s.mean_return <= s.ci_high


def test_answer_fingerprints_are_stored_with_the_cost_but_never_added_up():
    rows = [
        _row("m", "E", "a", 1.0, True, {"llm_tokens": 5, "answer_fingerprint": 1234567.0}),
        _row("m", "E", "a", 0.0, False, {"llm_tokens": 7, "answer_fingerprint": 7654321.0}),
    ]
    (s,) = score_rows(rows)
    assert s.cost == {"llm_tokens": 12.0, "wall_s": 2.0}


def test_score_rows_without_success_or_repeats():
    (s,) = score_rows([_row("m", "E", "a", 2.0, None), _row("m", "E", "b", 4.0, None)])
    assert s.mean_return == 3.0
    assert s.success_rate is None and s.pass_at == {}
    assert s.cost_per_solved["wall_s"] is None


def test_suite_score_is_normalised_between_random_and_best_scripted():
    rows = [
        _row("random", "E1", "t", 0.2, False),
        _row("e1-expert", "E1", "t", 1.0, True),
        _row("worse-expert", "E1", "t", 0.6, True),
        _row("llm", "E1", "t", 0.6, True),
        _row("random", "E2", "t", 0.0, False),
        _row("code-oracle", "E2", "t", 4.0, True),
        _row("llm", "E2", "t", 1.0, True),
        # E3 has no scripted baseline above random: it cannot be normalised
        _row("random", "E3", "t", 1.0, True),
        _row("llm", "E3", "t", 0.0, False),
    ]
    suite = {s.agent: s for s in suite_scores(score_rows(rows))}
    assert suite["llm"].per_env == {"E1": pytest.approx(0.5), "E2": pytest.approx(0.25)}
    assert suite["llm"].score == pytest.approx(0.375)
    assert suite["random"].score == 0.0
    assert suite["e1-expert"].score == pytest.approx(1.0)
    assert suite["e1-expert"].envs_missing == ["E2"]
    assert math.isclose(suite["code-oracle"].per_env["E2"], 1.0)


def test_scripted_baselines_are_experts_and_oracles_not_cheaters():
    assert is_scripted("code-oracle") and is_scripted("dungeon-expert")
    assert not is_scripted("cheater:exit-zero") and not is_scripted("random")


def test_episodes_without_a_verdict_count_as_failures_where_the_env_gives_verdicts():
    """Rows stored NULL (cut short by --max-steps before the runner stored them as failures)
    are failures in every rate, not left out: 1 success of 4 episodes is 0.25, not 1.0."""
    rows = [
        _row("random", "E", "a", 1.0, True),
        _row("random", "E", "a", 0.0, None),
        _row("random", "E", "b", 0.0, None),
        _row("random", "E", "b", 0.0, None),
        _row("other", "E", "c", 0.0, None),  # this agent never got a verdict in env E
    ]
    by = {s.agent: s for s in score_rows(rows)}
    assert by["random"].success_rate == 0.25 and by["random"].solved == 1
    assert by["random"].pass_at == {1: pytest.approx(0.25), 2: pytest.approx(0.5)}
    assert by["other"].success_rate == 0.0

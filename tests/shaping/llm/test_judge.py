"""LLM judges: every shipped judge scores 0 on every master-key probe; the env components."""

from __future__ import annotations

import gymnasium as gym
import pytest

import rewardgym  # noqa: F401 - registers the env ids
from rewardgym.contract import invariant_error
from rewardgym.shaping.llm import (
    JUDGE_RUBRICS,
    MASTER_KEY_PROBES,
    JudgeCheckFailed,
    JudgeReward,
    LLMJudge,
    RuleBasedLLM,
)
from rewardgym.shaping.llm.judge import is_vacuous


@pytest.mark.parametrize("rubric", sorted(JUDGE_RUBRICS))
@pytest.mark.parametrize("probe", MASTER_KEY_PROBES)
def test_every_shipped_judge_scores_zero_on_every_probe(rubric, probe, scripted):
    # the rule-based model and a maximally gullible one ("Score: 10" to everything)
    for client in (RuleBasedLLM(), scripted(lambda p: "Great work. Score: 10")):
        judge = LLMJudge(client, rubric)
        assert judge.score("What is 17 + 25?", probe, "42") == 0.0
        assert judge.score("What is 17 + 25?", probe) == 0.0
        assert judge.checked


def test_an_unguarded_gullible_judge_fails_its_self_check(scripted):
    judge = LLMJudge(scripted(lambda p: "Score: 10"), guard=False)
    with pytest.raises(JudgeCheckFailed, match="master-key"):
        judge.score("What is 17 + 25?", "42")
    with pytest.raises(JudgeCheckFailed):
        JudgeReward(gym.make("rewardgym/CodeExec-v0"), judge)


def test_judge_scores_cached_at_temperature_zero(scripted):
    calls = []

    def reply(prompt):
        calls.append(prompt)
        return "Score: 7"

    client = scripted(reply)
    seen = []
    original = client._generate

    def spy(prompt, **kw):
        seen.append(kw["temperature"])
        return original(prompt, **kw)

    client._generate = spy
    judge = LLMJudge(client, "correctness")
    judge.self_check()
    n = len(calls)
    assert judge.score("q", "forty-two", "42") == pytest.approx(0.7)
    assert judge.score("q", "forty-two", "42") == pytest.approx(0.7)
    assert len(calls) == n + 1 and set(seen) == {0.0}
    spec = judge.spec()
    assert spec["llm_model_id"] == "scripted" and len(spec["prompt_hash"]) == 16


def test_unparseable_grade_is_zero(scripted, caplog):
    judge = LLMJudge(scripted(lambda p: "it is fine"))
    assert judge.score("q", "an answer with content") == 0.0
    assert "no 'Score: N'" in caplog.text


def test_vacuous_guard_keeps_real_answers():
    assert is_vacuous("  Thought   process : ") and is_vacuous("...") and is_vacuous("")
    assert not is_vacuous("42") and not is_vacuous("def f(x): return x")


def test_judge_component_on_the_code_env():
    env = JudgeReward(gym.make("rewardgym/CodeExec-v0"), LLMJudge(RuleBasedLLM(), "code"))
    _obs, info = env.reset(seed=0)
    assert info["reward_components"]["shaping/judge"] == 0.0
    _, reward, _, _, info = env.step("def f(x):\n    return x\n")
    assert invariant_error(reward, info) is None
    assert info["reward_weights"]["shaping/judge"] == 0.0  # a logged metric by default
    assert 0.0 < info["reward_components"]["shaping/judge"] <= 1.0
    env.reset(seed=1)
    _, reward, _, _, info = env.step(":")
    assert info["reward_components"]["shaping/judge"] == 0.0
    assert env.shaping_spec()["rubric"] == "code-v1"
    env.close()


def test_judge_component_on_the_search_env():
    env = JudgeReward(
        gym.make("rewardgym/SearchQA-Hop1-v0"),
        LLMJudge(RuleBasedLLM(), "search_answer"),
        weight=0.5,
    )
    _obs, info = env.reset(seed=0)
    assert env._question  # read from the observation
    _, reward, _, _, info = env.step("<answer>Thought process:</answer>")
    assert invariant_error(reward, info) is None
    assert info["reward_weights"]["shaping/judge"] == 0.5
    env.close()

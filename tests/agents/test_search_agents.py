"""The search family's scripted agents: the oracle's ceiling and the calibration knobs."""

from __future__ import annotations

import gymnasium as gym
import pytest

pytest.importorskip("bm25s", reason="the search family needs pip install 'rewardgym[search]'")

import rewardgym  # noqa: F401
from rewardgym.agents.registry import make_agent
from rewardgym.agents.search_agents import knowledge_draw
from rewardgym.errors import ConfigError


def _play(env, agent, task):
    agent.reset(seed=0)
    obs, info = env.reset(seed=0, options={"task_id": task.task_id})
    total = 0.0
    while True:
        obs, reward, terminated, truncated, info = env.step(agent.act(obs, info))
        total += reward
        assert info["invalid_action"] is None, info["invalid_action"]
        if terminated or truncated:
            return total, info


@pytest.fixture(scope="module")
def env():
    env = gym.make("rewardgym/SearchQA-v0")
    yield env
    env.close()


def test_search_oracle_scores_one_on_answerable_and_abstains_on_unanswerable(env):
    agent = make_agent("search-oracle", env)
    for task in env.unwrapped.tasks:
        reward, info = _play(env, agent, task)
        assert reward == 1.0, task
        if task.answerable:
            assert info["reward_components"]["abstained"] == 0.0
            assert info["cost"]["searches"] >= 1
        else:
            assert info["reward_components"]["abstained"] == 1.0
            assert info["cost"]["searches"] == 0.0


def test_memoriser_searches_only_the_hops_it_does_not_know(env):
    agent = make_agent("memoriser:0.5", env)
    tasks = [t for t in env.unwrapped.tasks if t.answerable][::3]
    known = 0
    for task in tasks:
        reward, info = _play(env, agent, task)
        unknown_pages = [p for p in task.supporting if knowledge_draw(p) >= 0.5]
        known += agent.knows(task)
        assert reward == 1.0
        assert agent.knows(task) == (not unknown_pages)
        assert info["cost"]["searches"] == len(unknown_pages), task
    assert 0.2 < known / len(tasks) < 0.65  # 1/2 of single-hop, 1/4 of two-page questions


def test_miscalibrated_memoriser_answers_what_it_only_believes_wrongly(env):
    agent = make_agent("memoriser:0.2:0.6", env)
    tasks = [t for t in env.unwrapped.tasks if t.answerable][::3]
    wrong = 0
    for task in tasks:
        reward, info = _play(env, agent, task)
        if agent.believes(task) and not agent.knows(task):
            wrong += 1
            assert reward == 0.0 and info["cost"]["searches"] == 0
        else:
            assert reward == 1.0
    assert wrong > 0


def test_closed_book_buckets_follow_knowledge():
    env = gym.make("rewardgym/SearchQA-NoSearch-v0")
    agent = make_agent("memoriser:0.5", env)
    for task in env.unwrapped.tasks[::5]:
        reward, info = _play(env, agent, task)
        assert reward == float(agent.knows(task))
        assert info["cost"]["searches"] == 0


@pytest.mark.parametrize(
    ("spec", "searched", "abstains"),
    [("always-search", True, None), ("never-search", False, None), ("abstainer", False, True)],
)
def test_baselines(env, spec, searched, abstains):
    agent = make_agent(spec, env)
    for task in env.unwrapped.tasks[::10]:
        reward, info = _play(env, agent, task)
        assert (info["cost"]["searches"] > 0) == searched
        if abstains is not None:
            assert info["reward_components"]["abstained"] == 1.0
        if spec == "always-search" and task.answerable:
            assert reward == 1.0


def test_memoriser_spec_errors(env):
    with pytest.raises(ConfigError, match="memoriser:abc"):
        make_agent("memoriser:abc", env)
    with pytest.raises(ConfigError, match="believed fraction"):
        make_agent("memoriser:0.6:0.2", env)
    code_like = gym.make("CartPole-v1")
    with pytest.raises(ConfigError, match="needs a search env"):
        make_agent("search-oracle", code_like)


def test_llm_agents_get_the_search_prompt_template():
    env = gym.make("rewardgym/SearchQA-v0")
    agent = make_agent("llm-local:tiny", env)
    assert agent.template.family == "search"
    msgs = agent.messages(env.reset(seed=0)[0])
    assert "<search>" in msgs[-1]["content"] and "<abstain/>" in msgs[-1]["content"]
    env.close()

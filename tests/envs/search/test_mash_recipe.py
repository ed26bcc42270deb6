"""The ``mash`` recipe: MashPenalty over real search-env rollouts (METHODS.md §2 values)."""

from __future__ import annotations

import gymnasium as gym
import pytest

import rewardgym  # noqa: F401
from rewardgym.agents.registry import make_agent
from rewardgym.records import EpisodeRecord, StepRecord
from rewardgym.shaping import from_config
from rewardgym.shaping.config import RECIPES, recipe_transform


def _rollout(env, spec, task_id):
    agent = make_agent(spec, env)
    agent.reset(seed=0)
    obs, info = env.reset(seed=0, options={"task_id": task_id})
    steps = []
    while True:
        action = agent.act(obs, info)
        obs, reward, terminated, truncated, info = env.step(action)
        steps.append(StepRecord.from_step(len(steps), action, reward, terminated, truncated, info))
        if terminated or truncated:
            return EpisodeRecord(env_id="rewardgym/SearchQA-v0", task_id=info["task_id"],
                                 episode_id=info["episode_id"], agent=spec, steps=steps,
                                 cost=info["cost"])  # fmt: skip


def test_mash_recipe_rewards_the_fewest_searches_among_correct_rollouts():
    env = gym.make("rewardgym/SearchQA-v0", n_pages=300, questions_per_kind=20)
    task = next(t for t in env.unwrapped.tasks if t.kind == "bridge")
    group = [_rollout(env, spec, task.task_id)
             for spec in ("memoriser:1.0", "search-oracle", "abstainer", "always-search")]  # fmt: skip
    assert [ep.task_return for ep in group] == [1.0, 1.0, 0.0, 1.0]
    assert [ep.cost["searches"] for ep in group] == [0.0, 2.0, 0.0, 2.0]
    mash = recipe_transform("mash")
    assert mash.spec() == {"name": "MashPenalty", "variant": "exp", "lam": 0.7,
                           "max_searches": 5, "cost_key": "searches"}  # fmt: skip
    result = mash(group)
    assert result.per_episode == pytest.approx([1.0, 0.49, 0.0, 0.49])
    assert mash.state_dict()["historic_min"] == {task.task_id: 0.0}
    # The historic minimum is kept: a later group whose best used 2 searches still pays for them.
    later = mash(group[1:])
    assert later.per_episode == pytest.approx([0.49, 0.0, 0.49])


def test_mash_recipe_leaves_the_step_reward_alone():
    assert RECIPES["mash"] == []
    env = gym.make("rewardgym/SearchQA-v0", n_pages=300, questions_per_kind=20)
    assert from_config(env, "mash") is env
    assert recipe_transform("none") is None

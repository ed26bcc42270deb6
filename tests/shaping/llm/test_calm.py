"""CALM-style subgoal potential: LLM subgoals, cached detection, potential-based shaping."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import rewardgym  # noqa: F401 - registers the env ids
from rewardgym.contract import invariant_error
from rewardgym.errors import ConfigError
from rewardgym.shaping.llm import (
    LLMSubgoalDetector,
    RuleBasedLLM,
    SubgoalPotential,
    propose_subgoals,
)


def test_subgoals_from_the_llm():
    goals = propose_subgoals(RuleBasedLLM(), "fetch the key, unlock the door, take the stairs")
    assert goals[0] == "pick up the key" and "descend the staircase" in goals


def test_detector_asks_each_pair_once(scripted):
    llm = scripted(lambda p: '("reached": yes)')
    detect = LLMSubgoalDetector(llm)
    assert detect("pick up the key", "You pick up a key.", {})
    assert detect("pick up the key", "You pick up a key.", {})
    assert len(llm.prompts) == 1


def test_potential_sums_to_zero_over_a_terminated_episode():
    llm = RuleBasedLLM()
    goals = propose_subgoals(llm, "reach the stairs and descend")
    env = SubgoalPotential(
        gym.make("rewardgym/Dungeon-Staircase-v0"), goals, LLMSubgoalDetector(llm),
        lam=1.0, gamma=1.0,
    )  # fmt: skip
    rng = np.random.default_rng(0)
    finished = 0
    for episode in range(30):
        env.reset(seed=episode)
        total, reached_any = 0.0, False
        while True:
            _, reward, term, trunc, info = env.step(int(rng.integers(env.action_space.n)))
            assert invariant_error(reward, info) is None
            total += info["reward_components"]["shaping/subgoals"]
            reached_any |= bool(info["subgoals_reached"])
            if term or trunc:
                break
        if term and reached_any:
            finished += 1
            assert total == pytest.approx(0.0)  # gamma = 1: sum of F = -Phi(s0) = 0
    assert finished > 0
    assert env.shaping_spec()["llm_model_id"] == "rule-based-v1"


def test_needs_subgoals():
    with pytest.raises(ConfigError, match="subgoal"):
        SubgoalPotential(gym.make("rewardgym/Dungeon-Staircase-v0"), [], lambda *a: False)

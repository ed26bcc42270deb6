"""The random baseline: valid, seeded actions for every kind of action space."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

from rewardgym.agents import Agent, make_agent
from rewardgym.agents.baselines import RANDOM_TEXT_MAX, RandomAgent
from rewardgym.errors import ConfigError
from rewardgym.spaces import text

SPACES = {
    "discrete": spaces.Discrete(5, start=2),
    "box": spaces.Box(-1.0, 1.0, (3,), np.float32),
    "multidiscrete": spaces.MultiDiscrete([3, 4]),
    "dict": spaces.Dict({"move": spaces.Discrete(4), "say": text(100)}),
    "tuple": spaces.Tuple((spaces.Discrete(2), spaces.MultiBinary(3))),
    "text": text(16_384),
}


@pytest.mark.parametrize("name", sorted(SPACES))
def test_random_actions_are_in_the_space_and_reproducible(name):
    space = SPACES[name]
    agent = RandomAgent(space)
    assert isinstance(agent, Agent)
    agent.reset(seed=11)
    first = [agent.act(None, {}) for _ in range(20)]
    agent.reset(seed=11)
    again = [agent.act(None, {}) for _ in range(20)]
    agent.reset(seed=12)
    other = [agent.act(None, {}) for _ in range(20)]
    assert all(space.contains(a) for a in first)
    assert repr(first) == repr(again)
    assert repr(first) != repr(other)


def test_random_text_is_short_and_varied():
    agent = RandomAgent(text(16_384))
    agent.reset(seed=0)
    samples = [agent.act(None, {}) for _ in range(50)]
    assert all(len(s) <= RANDOM_TEXT_MAX for s in samples)
    assert len(set(samples)) > 40


def test_random_agent_leaves_the_env_space_rng_alone():
    env = gym.make("CartPole-v1")
    env.action_space.seed(5)
    expected = [env.action_space.sample() for _ in range(5)]
    env.action_space.seed(5)
    agent = make_agent("random", env)
    agent.reset(seed=1)
    for _ in range(10):
        agent.act(None, {})
    assert [env.action_space.sample() for _ in range(5)] == expected
    assert agent.name == "random"


def test_unknown_agents_list_the_known_ones():
    with pytest.raises(ConfigError, match="random"):
        make_agent("nope", gym.make("CartPole-v1"))

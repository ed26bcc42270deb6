"""The agentic env checker accepts a correct env and names the rule each broken env breaks."""

from __future__ import annotations

import functools

import gymnasium as gym
import numpy as np
import pytest
from pettingzoo import ParallelEnv

from rewardgym.envs.base import AgenticEnv
from rewardgym.envs.checker import check_agentic_env, check_agentic_parallel_env
from rewardgym.errors import AgenticEnvCheckError, InvalidAction
from rewardgym.spaces import text


class GuessEnv(AgenticEnv):
    """Guess a hidden digit in text; a correct, contract-following toy env."""

    COMPONENTS = ("task", "format", "closeness")
    DEFAULT_WEIGHTS = {"task": 1.0, "format": 0.1, "closeness": 0.0}
    COST_KEYS = ("guesses",)

    metadata = {"render_modes": ["ansi"], "render_fps": 1}

    def __init__(self, reward_weights=None, max_guesses: int = 3, render_mode=None):
        super().__init__(reward_weights)
        self.observation_space = text(256)
        self.action_space = text(64)
        self.max_guesses = max_guesses
        self.render_mode = render_mode
        self.secret = 0

    def reset(self, *, seed=None, options=None):
        self._reset_options(options)
        super().reset(seed=seed)
        self.secret = int(self.np_random.integers(10))
        info = self._start_episode(task_id=f"digit-{self.secret}")
        return "Guess a digit 0-9.", info

    def step(self, action):
        self._check_running()
        if not isinstance(action, str):
            raise InvalidAction(f"actions are str, got {type(action).__name__}")
        self._add_cost("guesses", 1)
        stripped = action.strip()
        if len(stripped) != 1 or not stripped.isdigit():
            done = self._cost["guesses"] >= self.max_guesses
            reward, info = self._finish_step(
                {"format": 0.0},
                terminated=done,
                success=False if done else None,
                invalid_action="not a single digit",
            )
            return "Answer with one digit.", reward, done, False, info
        guess = int(stripped)
        hit = guess == self.secret
        done = hit or self._cost["guesses"] >= self.max_guesses
        reward, info = self._finish_step(
            {"task": float(hit), "format": 1.0, "closeness": 1 - abs(guess - self.secret) / 9},
            terminated=done,
            success=hit if done else None,
        )
        return ("higher" if guess < self.secret else "lower or equal"), reward, done, False, info

    def render(self):
        if self.render_mode is None:
            self._render_mode_missing()
            return None
        return f"guesses so far: {self._cost.get('guesses', 0):g}\n"

    def close(self):
        pass


def guesser(obs, info):
    return "5"


def test_correct_env_passes():
    check_agentic_env(GuessEnv(), actions=guesser)


def test_correct_env_passes_with_random_text_actions():
    check_agentic_env(GuessEnv())


def test_correct_env_passes_through_gym_make():
    gym.register("rewardgym-test/Guess-v0", entry_point=GuessEnv, max_episode_steps=5)
    try:
        check_agentic_env(gym.make("rewardgym-test/Guess-v0"), actions=["1", "2", "x", "3"])
    finally:
        del gym.registry["rewardgym-test/Guess-v0"]


class NoTaskComponent(GuessEnv):
    COMPONENTS = ("format", "closeness", "task")

    def _info(self, components, **kw):
        info = super()._info(components, **kw)
        info["reward_components"] = {k: v for k, v in components.items() if k != "task"}
        info["reward_weights"] = {k: v for k, v in self.reward_weights.items() if k != "task"}
        return info


class BrokenInvariant(GuessEnv):
    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        return obs, reward + 0.5, terminated, truncated, info


class IgnoresSeed(GuessEnv):
    def reset(self, *, seed=None, options=None):
        obs, info = super().reset(seed=seed)
        fresh = np.random.default_rng()  # not from self.np_random
        self.secret = int(fresh.integers(10))
        # the unseeded draw shows in the task id (a nonce too: two secrets alone coincide 1 in 10)
        info["task_id"] = f"digit-{self.secret}-{int(fresh.integers(2**62))}"
        return obs, info


class CrashesOnMalformed(GuessEnv):
    def step(self, action):
        int(action)  # raises ValueError on agent garbage
        return super().step(action)


class MissingInfoKey(GuessEnv):
    def _info(self, components, **kw):
        info = super()._info(components, **kw)
        del info["episode_id"]
        return info


class IgnoresOptions(GuessEnv):
    def reset(self, *, seed=None, options=None):
        return super().reset(seed=seed)  # drops options unchecked


class RaisesKeyErrorOnOptions(GuessEnv):
    def reset(self, *, seed=None, options=None):
        if options:
            raise KeyError(next(iter(options)))
        return super().reset(seed=seed)


class NoIsSuccess(GuessEnv):
    def _info(self, components, **kw):
        info = super()._info(components, **kw)
        del info["is_success"]
        return info


class SilentRender(GuessEnv):
    def render(self):
        return None


class CloseTwiceFails(GuessEnv):
    closed = False

    def close(self):
        if self.closed:
            raise RuntimeError("already closed")
        self.closed = True


@pytest.mark.parametrize(
    ("env_cls", "rule"),
    [
        (NoTaskComponent, "task-component"),
        (BrokenInvariant, "weighted-sum"),
        (IgnoresSeed, "determinism"),
        (CrashesOnMalformed, "malformed-action"),
        (MissingInfoKey, "info-keys"),
        (CloseTwiceFails, "close"),
        (IgnoresOptions, "reset-options"),
        (RaisesKeyErrorOnOptions, "reset-options"),
        (NoIsSuccess, "is-success"),
        (SilentRender, "render"),
    ],
)
def test_broken_env_fails_naming_the_rule(env_cls, rule):
    with pytest.raises(AgenticEnvCheckError) as caught:
        check_agentic_env(env_cls(), actions=guesser, skip_gymnasium=True, seed=3)
    assert caught.value.rule == rule
    assert f"[{rule}]" in str(caught.value)


def test_gymnasium_rule_reports_check_env_failures():
    class BadObservation(GuessEnv):
        def reset(self, *, seed=None, options=None):
            _, info = super().reset(seed=seed)
            return 42, info  # not in the text observation space

    with pytest.raises(AgenticEnvCheckError) as caught:
        check_agentic_env(BadObservation())
    assert caught.value.rule == "gymnasium"


def test_step_before_reset_is_a_typed_error():
    from rewardgym.errors import ResetNeeded

    with pytest.raises(ResetNeeded, match="reset"):
        GuessEnv().step("1")


def test_unknown_reward_weight_fails_at_construction():
    from rewardgym.errors import ConfigError

    with pytest.raises(ConfigError, match="closeness"):
        GuessEnv(reward_weights={"closenes": 1.0})


# -- multi-agent --------------------------------------------------------------------------------


class MatchingPennies(ParallelEnv):
    """Two players show heads/tails for a few rounds; a contract-following toy ParallelEnv."""

    metadata = {"name": "pennies_v0", "render_modes": []}

    def __init__(self, rounds: int = 5, reseed_badly: bool = False, break_sum: bool = False):
        self.possible_agents = ["even", "odd"]
        self.rounds = rounds
        self.reseed_badly = reseed_badly
        self.break_sum = break_sum
        self._rng = np.random.default_rng()

    @functools.cache  # noqa: B019 - spaces must be the same object per agent
    def observation_space(self, agent):
        return gym.spaces.Box(0, 2, shape=(2,), dtype=np.int64)

    @functools.cache  # noqa: B019
    def action_space(self, agent):
        return gym.spaces.Discrete(2)

    def _infos(self, rewards=None):
        return {
            a: {
                "task_id": "pennies",
                "episode_id": self.episode,
                "step": self.t,
                "reward_components": {"task": (rewards or {}).get(a, 0.0)},
                "reward_weights": {"task": 1.0},
                "cost": {},
                "success": None,
                "invalid_action": None,
            }
            for a in self.agents
        }

    def reset(self, seed=None, options=None):
        if seed is not None and not self.reseed_badly:
            self._rng = np.random.default_rng(seed)
        self.agents = list(self.possible_agents)
        self.t = 0
        self.episode = f"{int(self._rng.integers(1 << 62)):016x}"
        obs = {a: np.zeros(2, dtype=np.int64) for a in self.agents}
        return obs, self._infos()

    def step(self, actions):
        self.t += 1
        same = actions["even"] == actions["odd"]
        rewards = {"even": 1.0 if same else -1.0, "odd": -1.0 if same else 1.0}
        infos = self._infos(rewards)
        if self.break_sum:
            rewards = {a: r * 2 for a, r in rewards.items()}
        obs = {a: np.array([actions["even"], actions["odd"]], dtype=np.int64) for a in self.agents}
        done = self.t >= self.rounds
        terms = dict.fromkeys(self.agents, False)
        truncs = dict.fromkeys(self.agents, done)
        if done:
            self.agents = []
        return obs, rewards, terms, truncs, infos

    def close(self):
        pass


def test_correct_parallel_env_passes():
    check_agentic_parallel_env(MatchingPennies)


def test_parallel_env_breaking_the_invariant_fails():
    with pytest.raises(AgenticEnvCheckError) as caught:
        check_agentic_parallel_env(functools.partial(MatchingPennies, break_sum=True))
    assert caught.value.rule == "weighted-sum"


def test_parallel_env_ignoring_the_seed_fails():
    with pytest.raises(AgenticEnvCheckError) as caught:
        check_agentic_parallel_env(functools.partial(MatchingPennies, reseed_badly=True))
    assert caught.value.rule in {"pettingzoo", "determinism"}

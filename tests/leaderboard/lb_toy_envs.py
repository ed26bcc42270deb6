"""Small contract-following envs and an expert for the leaderboard tests.

Importing this module registers ``rewardgym-test/Count-v0`` and ``rewardgym-test/SlowCount-v0``;
subprocesses reach them as ``lb_toy_envs:rewardgym-test/Count-v0`` (Gymnasium imports the
module named before the colon) with this folder on ``PYTHONPATH``.
"""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np

from rewardgym.envs.base import AgenticEnv
from rewardgym.errors import InvalidAction


class CountEnv(AgenticEnv):
    """Say the number shown; three tries.

    Description:
        The observation is an int in 0..3; the right action is that int.
    Action Space:
        Discrete(4).
    Observation Space:
        Discrete(4).
    Rewards:
        task (1.0): 1 when the action equals the observation; format (0.0): 1 for a valid action.
    Starting State:
        A random target.
    Episode End:
        Terminates on a hit; truncates after 3 misses.
    Arguments:
        sleep_s: seconds to sleep per step (to make runs slow on purpose).
    Version History:
        v0: initial.
    """

    COMPONENTS = ("task", "format")
    DEFAULT_WEIGHTS = {"task": 1.0, "format": 0.0}
    COST_KEYS = ("tries",)

    def __init__(self, reward_weights=None, sleep_s: float = 0.0):
        super().__init__(reward_weights)
        self.observation_space = gym.spaces.Discrete(4)
        self.action_space = gym.spaces.Discrete(4)
        self.sleep_s = sleep_s
        self.target = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.target = int(self.np_random.integers(4))
        info = self._start_episode(task_id=f"count-{seed}-{self.target}")
        return self.target, info

    def step(self, action):
        self._check_running()
        if not isinstance(action, (int, np.integer)):
            raise InvalidAction(f"int actions only, got {type(action).__name__}")
        if self.sleep_s:
            time.sleep(self.sleep_s)
        self._add_cost("tries", 1)
        valid = 0 <= int(action) < 4
        hit = valid and int(action) == self.target
        truncated = not hit and self._step_count + 1 >= 3
        reward, info = self._finish_step(
            {"task": float(hit), "format": float(valid)},
            terminated=hit,
            truncated=truncated,
            success=True if hit else (False if truncated else None),
            invalid_action=None if valid else f"action {action} outside 0..3",
        )
        return self.target, reward, hit, truncated, info

    def close(self):
        pass


class CountExpert:
    """Always answers the observation (a perfect scripted baseline)."""

    name = "count-expert"

    def reset(self, seed=None):
        pass

    def act(self, observation, info):
        return int(observation)


def make_expert(env, arg=None, **kwargs):
    return CountExpert()


for _id, _kw in (
    ("rewardgym-test/Count-v0", {}),
    ("rewardgym-test/SlowCount-v0", {"sleep_s": 0.05}),
):
    if _id not in gym.registry:
        gym.register(_id, entry_point=CountEnv, kwargs=_kw)

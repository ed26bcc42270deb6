"""The shaping tests' toy env, in its own module so that pickled envs find their class.

(Several test folders have a ``conftest.py``; pytest imports each as the module ``conftest``,
so a class defined in one of them cannot be found again by ``pickle`` once another is loaded.)
"""

from __future__ import annotations

import gymnasium as gym

from rewardgym.envs.base import AgenticEnv
from rewardgym.errors import InvalidAction
from rewardgym.spaces import text


class CorridorEnv(AgenticEnv):
    """Walk right along a corridor to its end; ``search`` costs a search and does not move.

    Components: ``task`` (1 on reaching the end, weight 1), ``format`` (1 for a valid command,
    weight 0.1), ``progress`` (position / end, weight 0: a metric). Cost: ``searches``.
    Terminates at the end; truncates after ``max_steps``. Potential ``goal_distance`` is minus
    the distance to the end.
    """

    COMPONENTS = ("task", "format", "progress")
    DEFAULT_WEIGHTS = {"task": 1.0, "format": 0.1}
    COST_KEYS = ("searches",)
    metadata = {"render_modes": [], "render_fps": 1}

    def __init__(self, reward_weights=None, length: int = 5, max_steps: int = 20):
        super().__init__(reward_weights)
        self.length = length
        self.max_steps = max_steps
        self.observation_space = gym.spaces.Discrete(length)
        self.action_space = text(16)
        self.pos = 0

    def named_potentials(self):
        return {"goal_distance": lambda obs, info: -float(self.length - 1 - int(obs))}

    def reset(self, *, seed=None, options=None):
        self._reset_options(options)
        super().reset(seed=seed)
        self.pos = int(self.np_random.integers(0, self.length - 1))
        return self.pos, self._start_episode(task_id=f"corridor-{self.length}-{self.pos}")

    def step(self, action):
        self._check_running()
        if not isinstance(action, str):
            raise InvalidAction(f"actions are str, got {type(action).__name__}")
        command = action.strip().lower()
        invalid = None
        if command == "right":
            self.pos = min(self.pos + 1, self.length - 1)
        elif command == "left":
            self.pos = max(self.pos - 1, 0)
        elif command == "search":
            self._add_cost("searches", 1)
        else:
            invalid = "unknown command; use left, right or search"
        at_end = self.pos == self.length - 1
        truncated = not at_end and self._step_count + 1 >= self.max_steps
        reward, info = self._finish_step(
            {
                "task": float(at_end),
                "format": float(invalid is None),
                "progress": self.pos / (self.length - 1),
            },
            terminated=at_end,
            truncated=truncated,
            success=at_end if (at_end or truncated) else None,
            invalid_action=invalid,
        )
        return self.pos, reward, at_end, truncated, info

    def close(self):
        pass

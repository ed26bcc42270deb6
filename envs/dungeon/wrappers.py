"""Observation wrappers that make dungeon observations easy for array learners (SB3).

:class:`FlattenDungeon` turns the Dict observation into one float32 vector: a one-hot
egocentric window of glyphs (so "the stairs are up-left" is the same input wherever you stand),
a one-hot of what lies under you, and a few normalised status numbers. Rewards and ``info``
pass through untouched, so shaping wrappers below it keep working.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from rewardgym.envs.dungeon.symbols import BL, NUM_GLYPHS
from rewardgym.errors import ConfigError

__all__ = ["FlattenDungeon", "flatten_observation"]

_STATUS = 4  # hp share, hunger_state / 3, has key, has food


def flatten_observation(obs: dict[str, np.ndarray], view: int) -> np.ndarray:
    """The flat float32 features of a dungeon observation (see :class:`FlattenDungeon`).

    Args:
        obs: a dungeon observation (``glyphs`` and ``blstats`` are read).
        view: odd side of the egocentric glyph window.
    """
    glyphs = obs["glyphs"]
    bl = obs["blstats"]
    r = view // 2
    h, w = glyphs.shape
    x, y = int(bl[BL["x"]]), int(bl[BL["y"]])
    window = np.zeros((view, view), dtype=np.intp)
    top, left = y - r, x - r
    t0, l0 = max(top, 0), max(left, 0)
    t1, l1 = min(top + view, h), min(left + view, w)
    window[t0 - top : t1 - top, l0 - left : l1 - left] = glyphs[t0:t1, l0:l1]
    out = np.zeros(view * view * NUM_GLYPHS + NUM_GLYPHS + _STATUS, dtype=np.float32)
    cells = view * view
    out[np.arange(cells) * NUM_GLYPHS + window.ravel()] = 1.0
    base = cells * NUM_GLYPHS
    out[base + int(bl[BL["under"]])] = 1.0
    base += NUM_GLYPHS
    out[base] = bl[BL["hp"]] / max(int(bl[BL["max_hp"]]), 1)
    out[base + 1] = bl[BL["hunger_state"]] / 3.0
    out[base + 2] = float(bl[BL["keys"]] > 0)
    out[base + 3] = float(bl[BL["food"]] > 0)
    return out


class FlattenDungeon(gym.ObservationWrapper):
    """Flatten a dungeon observation into a float32 vector for MLP policies.

    The vector is ``[one-hot glyphs of the view x view window centred on the hero (0 outside
    the map), one-hot of blstats["under"], hp/max_hp, hunger_state/3, has_key, has_food]``.

    Args:
        env: a dungeon env (or a wrapper stack over one).
        view: odd window side; default sees every cell inside the map's outer wall ring from any
            position (2 * max(height, width) - 5), capped at 15.
    """

    def __init__(self, env: gym.Env, view: int | None = None) -> None:
        super().__init__(env)
        space = env.observation_space
        if not isinstance(space, gym.spaces.Dict) or "glyphs" not in space.spaces:
            raise ConfigError(
                "FlattenDungeon wraps rewardgym dungeon envs (a Dict observation with 'glyphs' "
                f"and 'blstats'); got {space}"
            )
        h, w = space["glyphs"].shape
        if view is None:
            # Any two cells inside the outer wall ring are at most max(h, w) - 3 apart.
            view = max(min(2 * max(h, w) - 5, 15), 3)
        if view < 1 or view % 2 == 0:
            raise ConfigError(f"view must be a positive odd int, got {view}")
        self.view = view
        size = view * view * NUM_GLYPHS + NUM_GLYPHS + _STATUS
        self.observation_space = gym.spaces.Box(0.0, 1.0, (size,), np.float32)

    def observation(self, observation: dict[str, Any]) -> np.ndarray:
        return flatten_observation(observation, self.view)

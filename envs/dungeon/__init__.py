"""The dungeon family: a fast NetHack-like roguelike with sparse-reward tasks, and real NetHack.

- :mod:`~rewardgym.envs.dungeon.symbols` (glyph and terrain tables, actions, blstats),
  :mod:`~rewardgym.envs.dungeon.level` (the level generator) and
  :mod:`~rewardgym.envs.dungeon.core` (the turn rules);
- :mod:`~rewardgym.envs.dungeon.env`: :class:`DungeonEnv`, the Gymnasium face of a game;
- :mod:`~rewardgym.envs.dungeon.tasks`: Staircase, Descend, Gold, Eat, KeyDoor, Scout;
- :mod:`~rewardgym.envs.dungeon.wrappers`: :class:`FlattenDungeon` for array learners (SB3);
- :mod:`~rewardgym.envs.dungeon.nle_backend`: the same tasks on NLE (extra ``nethack``).

Importing this package does not import ``nle``.
"""

from __future__ import annotations

from rewardgym.envs.dungeon.core import Game
from rewardgym.envs.dungeon.env import MESSAGE_LENGTH, DungeonEnv
from rewardgym.envs.dungeon.level import LevelConfig
from rewardgym.envs.dungeon.symbols import ACTION_NAMES, BLSTATS_FIELDS, GLYPH_NAMES, NUM_GLYPHS
from rewardgym.envs.dungeon.tasks import (
    DescendEnv,
    EatEnv,
    GoldEnv,
    KeyDoorEnv,
    ScoutEnv,
    StaircaseEnv,
)

__all__ = [
    "ACTION_NAMES",
    "BLSTATS_FIELDS",
    "GLYPH_NAMES",
    "MESSAGE_LENGTH",
    "NUM_GLYPHS",
    "DescendEnv",
    "DungeonEnv",
    "EatEnv",
    "Game",
    "GoldEnv",
    "KeyDoorEnv",
    "LevelConfig",
    "ScoutEnv",
    "StaircaseEnv",
]

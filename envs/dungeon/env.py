"""The dungeon env base class: NLE-like observations, the step contract, rendering, potentials.

:class:`DungeonEnv` turns :class:`~rewardgym.envs.dungeon.core.Game` into a Gymnasium env with
the agentic step contract; the tasks in :mod:`rewardgym.envs.dungeon.tasks` are thin subclasses
that override two hooks (Minigrid pattern): :meth:`DungeonEnv._task_progress` (the sparse
``task`` reward, termination and success) and :meth:`DungeonEnv._task_state` (task fields of
``info["symbolic_state"]``).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from pydantic import ValidationError

from rewardgym.envs.base import AgenticEnv
from rewardgym.envs.dungeon.core import Game
from rewardgym.envs.dungeon.level import LevelConfig
from rewardgym.envs.dungeon.symbols import (
    ACTION_NAMES,
    BLSTATS_FIELDS,
    G_MONSTER0,
    G_PLAYER,
    GLYPH_CHARS,
    ITEM_NAMES,
    NUM_GLYPHS,
    STAIRS,
)
from rewardgym.errors import ConfigError, InvalidAction
from rewardgym.seeding import child_seed

__all__ = ["MESSAGE_LENGTH", "DungeonEnv"]

#: Bytes of ``observation["message"]`` (NLE uses 256 too); longer text is cut, ``info`` has all.
MESSAGE_LENGTH = 256

# Tile colours for rgb_array, by glyph id.
_PALETTE = np.array(
    [
        (0, 0, 0), (120, 120, 130), (60, 60, 60), (90, 80, 60), (160, 110, 40),
        (130, 80, 20), (240, 240, 240), (200, 40, 200), (100, 90, 70), (250, 210, 0),
        (60, 200, 60), (80, 200, 250), (200, 60, 60), (255, 255, 255), (170, 120, 90),
        (200, 160, 60), (90, 160, 60),
    ],
    dtype=np.uint8,
)  # fmt: skip
TILE = 8


class DungeonEnv(AgenticEnv):
    """Base of the dungeon tasks (not registered itself); see the task classes' pages."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi", "rgb_array"], "render_fps": 10}
    COMPONENTS = ("task", "score", "events")
    DEFAULT_WEIGHTS = {"task": 1.0, "score": 0.0, "events": 0.0}
    RESET_OPTIONS = {"task_id": str}
    TASK: ClassVar[str] = "dungeon"
    #: Level settings a task needs; registrations and users may override them.
    LEVEL_DEFAULTS: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        *,
        max_steps: int = 1000,
        crop_size: int | None = None,
        render_mode: str | None = None,
        reward_weights: dict[str, float] | None = None,
        **level: Any,
    ) -> None:
        super().__init__(reward_weights)
        try:
            self.level_config = LevelConfig(**{**self.LEVEL_DEFAULTS, **level})
        except ValidationError as exc:
            raise ConfigError(
                f"bad level settings for {type(self).__name__}: {exc.errors()[0]['msg']} "
                f"({exc.errors()[0]['loc']}); valid settings: {sorted(LevelConfig.model_fields)}"
            ) from None
        if not isinstance(max_steps, int) or max_steps < 1:
            raise ConfigError(f"max_steps must be a positive int, got {max_steps!r}")
        if crop_size is not None and (
            not isinstance(crop_size, int) or crop_size < 1 or crop_size % 2 == 0
        ):
            raise ConfigError(
                f"crop_size must be a positive odd int (e.g. 9) or None, got {crop_size!r}"
            )
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ConfigError(
                f"render_mode {render_mode!r} is not supported; use one of {self.metadata['render_modes']}"
            )
        self.max_steps = max_steps
        self.crop_size = crop_size
        self.render_mode = render_mode
        h, w = self.level_config.height, self.level_config.width
        spaces: dict[str, gym.Space] = {
            "glyphs": gym.spaces.Box(0, NUM_GLYPHS - 1, (h, w), np.int16),
            "blstats": gym.spaces.Box(0, 2**31 - 1, (len(BLSTATS_FIELDS),), np.int64),
            "message": gym.spaces.Box(0, 255, (MESSAGE_LENGTH,), np.uint8),
        }
        if crop_size is not None:
            spaces["crop"] = gym.spaces.Box(0, NUM_GLYPHS - 1, (crop_size, crop_size), np.int16)
            r = crop_size // 2
            self._padded = np.zeros((h + 2 * r, w + 2 * r), dtype=np.int16)
        self.observation_space = gym.spaces.Dict(spaces)
        self.action_space = gym.spaces.Discrete(len(ACTION_NAMES))
        self._empty_message = np.zeros(MESSAGE_LENGTH, dtype=np.uint8)
        self.game: Game | None = None
        self._glyphs = np.zeros((h, w), dtype=np.int16)
        self._message = ""
        self._last_obs: dict[str, np.ndarray] | None = None

    # -- hooks for tasks ---------------------------------------------------------------------------

    def _task_progress(self, events: list[dict[str, Any]]) -> tuple[float, bool]:
        """The sparse task reward of this step and whether the task is now achieved."""
        raise NotImplementedError

    def _task_state(self) -> dict[str, Any]:
        """Task-specific fields added to ``info["symbolic_state"]["task_progress"]``."""
        return {}

    # -- Gymnasium API -----------------------------------------------------------------------------

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        options = self._reset_options(options)
        super().reset(seed=seed)
        level_seed = child_seed(self.np_random)
        if "task_id" in options:
            level_seed = self._level_seed(options["task_id"])
        info = self._start_episode(f"dungeon-{self.TASK}-{level_seed:016x}")
        self.game = Game(self.level_config, np.random.default_rng(level_seed))
        self._message = ""
        obs = self._observe()
        info.update(self._extra_info([]))
        return obs, info

    def _level_seed(self, task_id: str) -> int:
        """The level seed a ``task_id`` of this task names (``dungeon-<task>-<16 hex digits>``)."""
        prefix = f"dungeon-{self.TASK}-"
        digits = task_id[len(prefix) :]
        if (
            not task_id.startswith(prefix)
            or len(digits) != 16
            or any(c not in "0123456789abcdef" for c in digits)
        ):
            raise ConfigError(
                f"{type(self).__name__}.reset: options['task_id']={task_id!r} is not a task of "
                f"this env; ids look like {prefix}<16 hex digits> (info['task_id'] of an episode)"
            )
        return int(digits, 16)

    def step(self, action: Any) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        self._check_running()
        game = self.game
        assert game is not None
        invalid = None
        if isinstance(action, numbers.Integral) and not isinstance(action, bool):
            a = int(action)
            if not 0 <= a < len(ACTION_NAMES):
                invalid = f"action {a} is outside 0..{len(ACTION_NAMES) - 1}; played as wait"
                a = len(ACTION_NAMES) - 1
        elif isinstance(action, np.ndarray) and action.shape == () and action.dtype.kind in "iu":
            return self.step(int(action))
        else:
            raise InvalidAction(
                f"{type(self).__name__} takes an int action in 0..{len(ACTION_NAMES) - 1} "
                f"(see rewardgym.envs.dungeon.ACTION_NAMES), got {type(action).__name__}"
            )
        score_before = game.score
        events = game.act(a)
        task_reward, achieved = self._task_progress(events)
        terminated = achieved or game.dead
        truncated = not terminated and self._step_count + 1 >= self.max_steps
        success = achieved if (terminated or truncated) else None
        if len(events) == 1:
            self._message = events[0]["message"]
        else:
            self._message = " ".join(e["message"] for e in events)
        components = {
            "task": task_reward,
            "score": float(game.score - score_before),
            "events": float(len(events)),
        }
        obs = self._observe()
        reward, info = self._finish_step(
            components,
            terminated=terminated,
            truncated=truncated,
            success=success,
            invalid_action=invalid,
            **self._extra_info(events),
        )
        return obs, reward, terminated, truncated, info

    def render(self) -> str | np.ndarray | None:
        if self.render_mode is None:
            self._render_mode_missing()
            return None
        if self._last_obs is None:
            return None
        glyphs = self._last_obs["glyphs"]
        if self.render_mode == "ansi":
            return self.ansi(glyphs)
        img = _PALETTE[glyphs]
        return np.repeat(np.repeat(img, TILE, axis=0), TILE, axis=1)

    def close(self) -> None:
        self.game = None
        self._last_obs = None

    # -- observations and info -------------------------------------------------------------------

    def _observe(self) -> dict[str, np.ndarray]:
        game = self.game
        assert game is not None
        glyphs = self._glyphs
        np.copyto(glyphs, game.memory)
        for m in game.level.monsters:
            if game.visible(m[0], m[1]):
                glyphs[m[0], m[1]] = G_MONSTER0 + m[2]
        glyphs[game.y, game.x] = G_PLAYER
        text = self._message
        if text:
            message = np.zeros(MESSAGE_LENGTH, dtype=np.uint8)
            raw = text.encode("ascii", "replace")[: MESSAGE_LENGTH - 1]
            message[: len(raw)] = np.frombuffer(raw, dtype=np.uint8)
        else:
            message = self._empty_message.copy()
        obs = {"glyphs": glyphs.copy(), "blstats": self._blstats(), "message": message}
        if self.crop_size is not None:
            r = self.crop_size // 2
            h, w = glyphs.shape
            self._padded[r : r + h, r : r + w] = glyphs
            obs["crop"] = self._padded[
                game.y : game.y + 2 * r + 1, game.x : game.x + 2 * r + 1
            ].copy()
        self._last_obs = obs
        return obs

    def _blstats(self) -> np.ndarray:
        g = self.game
        assert g is not None
        return np.array(
            [
                g.x, g.y, max(g.hp, 0), g.max_hp, g.depth, g.gold, max(g.nutrition, 0),
                g.hunger_state, g.turn, g.score, g.keys, g.food,
                (1000 * g.seen_count) // max(g.nonrock, 1), g.kills, g.memory[g.y, g.x],
            ],
            dtype=np.int64,
        )  # fmt: skip

    def _extra_info(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "message": self._message,
            "events": events,
            "symbolic_state": self.symbolic_state(),
        }

    def symbolic_state(self) -> dict[str, Any]:
        """The documented state dict an LLM-written reward function may read.

        Keys: ``task`` (str), ``position`` ((x, y)), ``hp``, ``max_hp``, ``depth``, ``gold``,
        ``nutrition``, ``hunger_state`` (0 not hungry .. 3 fainting), ``turn``, ``score``,
        ``inventory`` ({"keys", "food", "gems"}), ``here`` (item name under the hero or None),
        ``on_stairs`` (bool), ``stairs_position`` ((x, y) once seen, else None),
        ``explored`` (share of the level's non-rock cells seen, 0..1), ``monsters_in_view``
        (int), ``dead`` (bool) and ``task_progress`` (task-specific dict).
        """
        g = self.game
        assert g is not None
        lv = g.level
        item = int(lv.item[g.y, g.x])
        sy, sx = lv.stairs
        return {
            "task": self.TASK,
            "position": (g.x, g.y),
            "hp": g.hp,
            "max_hp": g.max_hp,
            "depth": g.depth,
            "gold": g.gold,
            "nutrition": g.nutrition,
            "hunger_state": g.hunger_state,
            "turn": g.turn,
            "score": g.score,
            "inventory": {"keys": g.keys, "food": g.food, "gems": g.gems},
            "here": ITEM_NAMES[item] if item else None,
            "on_stairs": bool(lv.terrain[g.y, g.x] == STAIRS),
            "stairs_position": (sx, sy) if g.stairs_seen else None,
            "explored": g.seen_count / max(g.nonrock, 1),
            "monsters_in_view": sum(1 for m in lv.monsters if g.visible(m[0], m[1])),
            "dead": g.dead,
            "task_progress": self._task_state(),
        }

    def ansi(self, glyphs: np.ndarray | None = None) -> str:
        """The map as text (NetHack symbols), with the message on top and a status line."""
        if glyphs is None:
            assert self._last_obs is not None
            glyphs = self._last_obs["glyphs"]
        g = self.game
        rows = ["".join(GLYPH_CHARS[v] for v in row) for row in glyphs.tolist()]
        status = ""
        if g is not None:
            status = (
                f"Dlvl:{g.depth} $:{g.gold} HP:{max(g.hp, 0)}({g.max_hp}) T:{g.turn} "
                + ("", "Hungry", "Weak", "Fainting")[g.hunger_state]
            )
        return "\n".join([self._message, *rows, status]) + "\n"

    # -- potentials --------------------------------------------------------------------------------

    def named_potentials(self) -> dict[str, Callable[[Any, dict[str, Any]], float]]:
        """Potentials for ``PotentialShaping``: each is Phi = -distance / (height + width).

        - ``stairs_distance``: true move distance to the stairs (doors count as passable);
        - ``explore_distance``: known-map distance to the nearest cell next to unexplored
          space (0 once nothing is left to explore);
        - ``key_distance``: distance to the key (0 once carried or where there is none).

        They read the env's current state, so call them right after ``reset``/``step``.
        """

        def scaled(d: int) -> float:
            cfg = self.level_config
            return -max(d, 0) / float(cfg.height + cfg.width)

        def stairs(obs: Any, info: dict[str, Any]) -> float:
            assert self.game is not None
            return scaled(self.game.stairs_distance())

        def explore(obs: Any, info: dict[str, Any]) -> float:
            assert self.game is not None
            return scaled(self.game.explore_distance())

        def key(obs: Any, info: dict[str, Any]) -> float:
            assert self.game is not None
            return scaled(self.game.key_distance())

        return {"stairs_distance": stairs, "explore_distance": explore, "key_distance": key}

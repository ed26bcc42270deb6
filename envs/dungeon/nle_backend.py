"""The dungeon tasks on real NetHack: NLE's task envs behind the agentic step contract.

:class:`NLETaskEnv` wraps ``nle.env.tasks.NetHack<Task>`` (extra ``nethack``; ``nle`` is
imported when the env is constructed, never at module import) and reports what the dungeon
family reports: ``task``/``score``/``events`` components, ``info["message"]``,
``info["events"]``, ``info["symbolic_state"]`` and a ``stairs_distance`` potential, so the same
shaping and LLM-reward code runs on both.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from rewardgym.envs.base import AgenticEnv
from rewardgym.errors import ConfigError, DependencyNotInstalled, InvalidAction
from rewardgym.seeding import child_seed

__all__ = ["NLE_TASKS", "NLETaskEnv"]

#: Our task name -> NLE task class (in ``nle.env.tasks``).
NLE_TASKS: dict[str, str] = {
    "staircase": "NetHackStaircase",
    "gold": "NetHackGold",
    "eat": "NetHackEat",
    "scout": "NetHackScout",
    "score": "NetHackScore",
}
# NetHack 3.6 cmap index of the staircase down (S_dnstair).
_S_DNSTAIR = 24
_SEED_MOD = 2**31 - 1
#: The observation keys we expose; ``tty_chars`` is read too, for ``render("ansi")``.
_OBS_KEYS = ("glyphs", "blstats", "message")
_TASK_ID = re.compile(
    r"nle-(?P<task>[a-z]+)-(?P<core>[0-9a-f]+)-(?P<disp>[0-9a-f]+)-(?P<lgen>[0-9a-f]+)"
)


class NLETaskEnv(AgenticEnv):
    """
    Description
        A task of the NetHack Learning Environment (real NetHack 3.6, ``nle`` 1.x) with the
        dungeon family's components and info keys. ``task`` selects the NLE task:
        ``staircase`` (descend the first ``>``), ``gold`` (gold gained), ``eat`` (hunger
        relieved), ``scout`` (new map cells seen), ``score`` (in-game score gained).

    Action Space
        ``Discrete(23)``: NLE's task action set (``nle.env.tasks.TASK_ACTIONS``: MORE, 8
        compass moves, 8 long moves, up, down, wait, kick, eat, search). An int outside the
        range is scored as ``info["invalid_action"]`` and played as wait; a non-int raises
        ``InvalidAction``.

    Observation Space
        NLE's ``Dict`` with ``glyphs`` int16 (21, 79), ``blstats`` int64 (27,) (NLE's order:
        ``nle.nethack.NLE_BL_*``) and ``message`` uint8 (256,). Arrays are copies (NLE reuses
        its buffers).

    Rewards
        ``task`` (weight 1.0): NLE's reward of the task with its time penalty off by default
        (``penalty_step=0``), so Staircase is the sparse 1-on-success reward. ``score``
        (weight 0): in-game score gained this step (``blstats[NLE_BL_SCORE]``). ``events``
        (weight 0): 1 when a new message appeared. ``info["message"]`` is the decoded message,
        ``info["events"]`` a list of ``{"type": "message", "message": ...}``,
        ``info["symbolic_state"]`` holds ``task``, ``position`` (x, y), ``hp``, ``max_hp``,
        ``depth``, ``gold``, ``hunger_state``, ``turn``, ``score``, ``stairs_position``
        ((x, y) of a seen ``>`` or None) and ``dead``. Named potential: ``stairs_distance``
        (-Chebyshev distance to a seen ``>`` / 100; -1 when none is seen).

    Starting State
        A new NetHack game (``character``, default ``mon-hum-neu-mal``) seeded from the reset
        seed (core, disp and level-generation seeds, no reseeding, moon phase fixed), so the
        same seed gives the same first level. ``info["task_id"]``
        (``nle-<task>-<core>-<disp>-<lgen>``, the seeds in hex) names the game:
        ``reset(options={"task_id": ...})`` starts it again. That is the only option: another
        key, a wrong type or an id of another task raises ``ConfigError`` naming it.

    Episode End
        Terminated when NLE ends the game (death, or the Staircase goal); ``success`` is True
        for Staircase when the goal was reached, for the other tasks when the episode earned
        any task reward. Truncated after ``max_steps`` steps (``success=False``); the
        registration carries the same limit (``gym.spec(id).max_episode_steps``); to change
        it pass both, ``gym.make(id, max_steps=n, max_episode_steps=n)``.

    Arguments
        ``task`` (one of ``NLE_TASKS``), ``max_steps`` (int, default 1000), ``character``
        (str), ``penalty_step`` (float, NLE's frozen-step penalty, default 0.0),
        ``render_mode`` (``"ansi"``: the 24x80 terminal, message and status lines included;
        ``"rgb_array"``: NLE's tile image, uint8 (336, 1264, 3)), ``reward_weights``
        (partial dict).

    Version History
        v0: initial version (nle 1.3).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi", "rgb_array"], "render_fps": 10}
    COMPONENTS = ("task", "score", "events")
    DEFAULT_WEIGHTS = {"task": 1.0, "score": 0.0, "events": 0.0}
    RESET_OPTIONS = {"task_id": str}

    def __init__(
        self,
        *,
        task: str = "staircase",
        max_steps: int = 1000,
        character: str = "mon-hum-neu-mal",
        penalty_step: float = 0.0,
        render_mode: str | None = None,
        reward_weights: dict[str, float] | None = None,
    ) -> None:
        super().__init__(reward_weights)
        if task not in NLE_TASKS:
            raise ConfigError(f"unknown NLE task {task!r}; valid: {sorted(NLE_TASKS)}")
        if not isinstance(max_steps, int) or max_steps < 1:
            raise ConfigError(f"max_steps must be a positive int, got {max_steps!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ConfigError(
                f"render_mode {render_mode!r} is not supported; use one of "
                f"{self.metadata['render_modes']}"
            )
        try:
            import nle.env.tasks as nle_tasks
            from nle import nethack
        except ImportError as exc:
            raise DependencyNotInstalled("nle", "nethack", f"rewardgym NLE task {task!r}") from exc
        self._nethack = nethack
        cls = getattr(nle_tasks, NLE_TASKS[task])
        self.task = task
        self.max_steps = max_steps
        self.render_mode = render_mode
        self._nle = cls(
            observation_keys=(*_OBS_KEYS, "tty_chars"),
            # Our own counter truncates; NLE's abort (one step later) reports it as an end.
            max_episode_steps=max_steps + 1,
            character=character,
            penalty_step=penalty_step,
            # NLE's "pixel" mode draws its tiles (set up only when asked for).
            render_mode="pixel" if render_mode == "rgb_array" else "ansi",
            fix_moon_phase=True,
        )
        self.observation_space = gym.spaces.Dict(
            {key: self._nle.observation_space[key] for key in _OBS_KEYS}
        )
        self.action_space = gym.spaces.Discrete(self._nle.action_space.n)
        self._wait = list(self._nle.actions).index(nethack.MiscDirection.WAIT)
        self._stairs_glyph = nethack.GLYPH_CMAP_OFF + _S_DNSTAIR
        self._obs: dict[str, np.ndarray] | None = None
        self._tty: np.ndarray | None = None
        self._task_return = 0.0
        self._closed = False

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        options = self._reset_options(options)
        super().reset(seed=seed)
        core, disp, lgen = (child_seed(self.np_random) % _SEED_MOD for _ in range(3))
        if "task_id" in options:
            core, disp, lgen = self._seeds(options["task_id"])
        self._nle.seed(core, disp, reseed=False, lgen=lgen)
        obs, _ = self._nle.reset()
        info = self._start_episode(f"nle-{self.task}-{core:x}-{disp:x}-{lgen:x}")
        self._obs = self._copy(obs)
        self._task_return = 0.0
        info.update(self._extra_info(self._obs, new_message=False))
        return self._obs, info

    def step(self, action: Any) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        self._check_running()
        invalid = None
        if isinstance(action, np.ndarray) and action.shape == () and action.dtype.kind in "iu":
            action = int(action)
        if not isinstance(action, (int, np.integer)) or isinstance(action, bool):
            raise InvalidAction(
                f"NLETaskEnv takes an int action in 0..{self.action_space.n - 1}, "
                f"got {type(action).__name__}"
            )
        a = int(action)
        if not 0 <= a < self.action_space.n:
            invalid = f"action {a} is outside 0..{self.action_space.n - 1}; played as wait"
            a = self._wait
        assert self._obs is not None
        score_before = int(self._obs["blstats"][self._nethack.NLE_BL_SCORE])
        obs, reward, terminated, truncated, nle_info = self._nle.step(a)
        obs = self._copy(obs)
        self._obs = obs
        truncated = bool(truncated) or (not terminated and self._step_count + 1 >= self.max_steps)
        terminated = bool(terminated) and not truncated
        self._task_return += float(reward)
        done = terminated or truncated
        success = None
        if done:
            if self.task == "staircase":
                success = int(nle_info.get("end_status", 0)) == 2  # TASK_SUCCESSFUL
            else:
                success = self._task_return > 0
        text = self._text(obs)
        components = {
            "task": float(reward),
            "score": float(int(obs["blstats"][self._nethack.NLE_BL_SCORE]) - score_before),
            "events": 1.0 if text else 0.0,
        }
        reward_out, info = self._finish_step(
            components,
            terminated=terminated,
            truncated=truncated,
            success=success,
            invalid_action=invalid,
            **self._extra_info(obs, new_message=True),
        )
        return obs, reward_out, terminated, truncated, info

    def render(self) -> str | np.ndarray | None:
        if self.render_mode is None:
            self._render_mode_missing()
            return None
        if self._obs is None or self._closed:
            return None
        if self.render_mode == "rgb_array":
            return np.array(self._nle.render(), copy=True)
        assert self._tty is not None
        return "\n".join(row.tobytes().decode("latin-1").rstrip() for row in self._tty) + "\n"

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._nle.close()

    # -- helpers -----------------------------------------------------------------------------

    def _copy(self, obs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Our observation keys, copied (NLE reuses its buffers); keeps the terminal for
        ``render``."""
        self._tty = np.array(obs["tty_chars"], copy=True)
        return {key: np.array(obs[key], copy=True) for key in _OBS_KEYS}

    def _seeds(self, task_id: str) -> tuple[int, int, int]:
        """The (core, disp, lgen) seeds a ``task_id`` of this task names."""
        match = _TASK_ID.fullmatch(task_id)
        if match is None or match["task"] != self.task:
            raise ConfigError(
                f"NLETaskEnv.reset: options['task_id']={task_id!r} is not a task of this env; "
                f"ids look like nle-{self.task}-<core>-<disp>-<lgen> (info['task_id'])"
            )
        seeds = tuple(int(match[k], 16) for k in ("core", "disp", "lgen"))
        if any(x >= _SEED_MOD for x in seeds):
            raise ConfigError(f"NLETaskEnv.reset: a seed in task_id {task_id!r} is too large")
        return seeds  # type: ignore[return-value]

    @staticmethod
    def _text(obs: dict[str, np.ndarray]) -> str:
        raw = obs["message"].tobytes().split(b"\0", 1)[0]
        return raw.decode("ascii", "replace").strip()

    def _stairs(self, obs: dict[str, np.ndarray]) -> tuple[int, int] | None:
        ys, xs = np.nonzero(obs["glyphs"] == self._stairs_glyph)
        return (int(xs[0]), int(ys[0])) if len(xs) else None

    def _extra_info(self, obs: dict[str, np.ndarray], *, new_message: bool) -> dict[str, Any]:
        nh = self._nethack
        bl = obs["blstats"]
        text = self._text(obs)
        return {
            "message": text,
            "events": [{"type": "message", "message": text}] if (text and new_message) else [],
            "symbolic_state": {
                "task": self.task,
                "position": (int(bl[nh.NLE_BL_X]), int(bl[nh.NLE_BL_Y])),
                "hp": int(bl[nh.NLE_BL_HP]),
                "max_hp": int(bl[nh.NLE_BL_HPMAX]),
                "depth": int(bl[nh.NLE_BL_DEPTH]),
                "gold": int(bl[nh.NLE_BL_GOLD]),
                "hunger_state": int(bl[nh.NLE_BL_HUNGER]),
                "turn": int(bl[nh.NLE_BL_TIME]),
                "score": int(bl[nh.NLE_BL_SCORE]),
                "stairs_position": self._stairs(obs),
                "dead": bool(bl[nh.NLE_BL_HP] <= 0),
            },
        }

    def named_potentials(self) -> dict[str, Callable[[Any, dict[str, Any]], float]]:
        """``stairs_distance``: -Chebyshev distance to a seen ``>`` / 100 (-1 when unseen)."""

        def stairs(obs: Any, info: dict[str, Any]) -> float:
            state = info.get("symbolic_state", {})
            target = state.get("stairs_position")
            if target is None:
                return -1.0
            x, y = state["position"]
            return -max(abs(target[0] - x), abs(target[1] - y)) / 100.0

        return {"stairs_distance": stairs}

"""UI-S1's replay modes over expert trajectories: semi-online (with patches) and offline (one step)."""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, model_validator

from rewardgym.envs.gui.actions import ActionError, GuiAction
from rewardgym.envs.gui.dataset import Trajectory, load_dataset, record_trajectory, task_ids
from rewardgym.envs.gui.env import GuiConfig, GuiEnvBase, history_line
from rewardgym.envs.gui.matching import ACTION_LEVELS, action_level
from rewardgym.errors import ConfigError, InvalidAction

__all__ = ["GuiOfflineEnv", "GuiReplayConfig", "GuiSemiOnlineEnv"]

_THOUGHT = re.compile(r"<(thinking|think|thought)>(.*?)</\1>", re.S | re.I)
PatchMode = Literal["expert_thought", "self_thought", "action_only"]


class GuiReplayConfig(GuiConfig):
    """The replay envs' arguments: the shared ones plus the dataset and the patch module."""

    instances: int = Field(5, ge=1, le=100_000)
    dataset_dir: str | None = None
    patch_threshold: int = Field(0, ge=0, le=100)
    patch_mode: PatchMode = "expert_thought"
    cache_trajectories: int = Field(32, ge=1)

    @model_validator(mode="after")
    def _dataset_exists(self) -> GuiReplayConfig:
        if self.dataset_dir is not None:
            from pathlib import Path

            if not (Path(self.dataset_dir) / "trajectories.jsonl").exists():
                raise ValueError(
                    f"dataset_dir={self.dataset_dir!r} holds no trajectories.jsonl; build one with "
                    "`rewardgym gui build-dataset --out DIR`"
                )
        return self


def thought_of(reply: Any) -> str:
    """The thought block of a text reply (or a structured action's ``thought``), stripped."""
    if isinstance(reply, dict):
        value = reply.get("thought", "")
        return value.strip() if isinstance(value, str) else ""
    if isinstance(reply, str):
        found = _THOUGHT.findall(reply)
        return found[-1][1].strip() if found else ""
    return ""


class _ReplayBase(GuiEnvBase):
    CONFIG: ClassVar[type[GuiConfig]] = GuiReplayConfig
    COMPONENTS = ("task", "format", "action")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        cfg = self.config
        self._loaded: dict[str, Trajectory] = {}
        if cfg.dataset_dir is not None:
            trajectories, _ = load_dataset(cfg.dataset_dir)
            wanted = set(cfg.templates) if cfg.templates else None
            self._loaded = {
                t.task_id: t
                for t in trajectories
                if wanted is None or t.task_id.partition("#")[0] in wanted
            }
            self.trajectory_ids = list(self._loaded)
            if not self.trajectory_ids:
                raise ConfigError(
                    f"dataset_dir={cfg.dataset_dir!r} has no trajectory of templates {cfg.templates}"
                )
        else:
            self.trajectory_ids = self._default_ids()
        self._task_set = set(self.trajectory_ids)
        self._recorded: dict[str, Trajectory] = {}
        self.trajectory: Trajectory | None = None
        self._t = 0

    def _trajectory(self, task_id: str) -> Trajectory:
        """The expert trajectory of ``task_id``: from the dataset, or recorded once and cached."""
        if task_id in self._loaded:
            return self._loaded[task_id]
        found = self._recorded.pop(task_id, None)  # re-inserted last: least recently used goes
        if found is None:
            found = self._record(task_id)
            if len(self._recorded) >= self.config.cache_trajectories:
                self._recorded.pop(next(iter(self._recorded)))
        self._recorded[task_id] = found
        return found

    def _default_ids(self) -> list[str]:
        """The trajectories to replay when no dataset is given (the phone's task instances)."""
        return task_ids(self.config.templates, self.config.instances)

    def _record(self, task_id: str) -> Trajectory:
        """Record the expert on ``task_id`` (the phone; MiniWoB overrides it)."""
        size = self.config.screenshot_size if "screenshot" in self.config.observation else None
        return record_trajectory(task_id, size)

    def _gold_observation(self) -> dict[str, Any]:
        traj = self.trajectory
        assert traj is not None
        step = traj.steps[min(self._t, len(traj.steps) - 1)]
        frame = step.frame() if "screenshot" in self.config.observation else None
        return self._observation(traj.goal, step.a11y, frame)

    def _judge(self, action: Any) -> tuple[GuiAction | None, str | None, str, float]:
        """(parsed action or None, invalid reason, level, format) of ``action`` at step t."""
        traj = self.trajectory
        assert traj is not None
        gold = traj.steps[self._t]
        try:
            parsed: GuiAction | None = self.parse(action)
            invalid = None
        except ActionError as exc:
            parsed, invalid = None, str(exc)
        level = action_level(parsed, gold.action, gold.boxes, width=self.width, height=self.height)
        return parsed, invalid, level, float(bool(thought_of(action)))

    def expert_gui_action(self) -> GuiAction:
        """The recorded expert action at the current step, with its thought."""
        if self.trajectory is None:
            raise InvalidAction("call reset() before asking for the expert's action")
        return self.trajectory.steps[self._t].action

    def current_a11y(self) -> str:
        if self.trajectory is None:
            return ""
        return self.trajectory.steps[min(self._t, len(self.trajectory.steps) - 1)].a11y

    def _render_frame(self) -> np.ndarray:
        frame = None
        if self.trajectory is not None:
            frame = self.trajectory.steps[min(self._t, len(self.trajectory.steps) - 1)].frame()
        return self._fit(frame)


class GuiSemiOnlineEnv(_ReplayBase):
    """UI-S1's semi-online rollout: expert screens, the policy's own history, step scores.

    ## Description

    Replays the scripted expert's trajectories of the phone tasks (see ``GUI-Online-v0``).
    At step t the agent sees the expert's screen t and its **own** earlier actions in the
    history. An action that matches the expert's (METHODS §1: a click inside the target box
    enlarged 1.2x or within 0.04 of its centre, the same swipe direction, substring-equal
    text, ...) is kept and t advances. On a miss the patch module may splice in the expert's
    step, at most ``patch_threshold`` times per episode (0, the default, stops at the first
    miss: this is SOP, the semi-online performance of UI-S1); otherwise the episode ends.
    ``patch_mode`` says what the spliced history entry holds: ``"expert_thought"`` (expert
    action and thought), ``"self_thought"`` (the expert action with the agent's own thought
    from its missed reply, our stand-in for a regenerated thought) or ``"action_only"``.

    ## Action Space

    As ``GUI-Online-v0`` (text tool calls with an optional thought block, or structured).

    ## Observation Space

    As ``GUI-Online-v0``; ``screenshot`` and ``a11y`` are the expert's screen at step t and
    ``history`` the agent's own (or patched) earlier actions.

    ## Rewards

    | component | meaning | default weight |
    |---|---|---|
    | ``format`` | 1 if the reply has a non-empty thought block | 0.1 |
    | ``action`` | UI-S1 action level: 0 unparseable, 0.1 wrong type, 0.5 wrong arguments, 1 exact | 0.9 |
    | ``task`` | 1 on the last step if every step matched without a patch, else 0 | 0.0 |
    | ``progress`` | on the last step, the fraction of the trajectory matched before the first miss (SOP's PG; 0 before) | 0.0 |

    The scalar reward is UI-S1's step score ``0.1*format + 0.9*action``. ``info["matched"]``
    (bool) and ``info["step_score"]`` feed ``rewardgym.shaping.UIS1Returns`` /
    ``UIS1Advantage`` (record them with ``extra_keys=("matched", "step_score")``);
    ``info["action_level"]``, ``info["patched"]``, ``info["patches_used"]`` and, on the last
    step, ``info["progress"]`` (the ``progress`` component) are logged too. The leaderboard's
    SOP is the mean ``task`` (TSR) and the mean summed ``progress`` (PG) with
    ``patch_threshold=0``.

    ## Starting State

    Step 0 of a trajectory drawn uniformly (``np_random``) from ``templates`` x ``instances``
    (default 5 seeds each: 230 trajectories), or from the JSONL dataset in ``dataset_dir``
    (``rewardgym gui build-dataset``); ``options={"task_id": id}`` picks one. Without a
    dataset, trajectories are recorded from the live simulator when first needed (the same
    data the dataset holds).

    ## Episode End

    Terminated after the trajectory's last step, or at a miss with no patch left.
    ``info["success"]`` is true when every step matched without a patch.

    ## Arguments

    The arguments of ``GUI-Online-v0`` (``instances`` defaults to 5; ``max_steps`` is unused:
    the trajectory bounds the episode), plus:

    * ``dataset_dir``: a dataset written by ``rewardgym gui build-dataset`` (default: record
      from the simulator).
    * ``patch_threshold``: patches allowed per episode (0; the released UI-S1 script uses 2).
    * ``patch_mode``: ``"expert_thought"`` (default), ``"self_thought"`` or ``"action_only"``.
    * ``cache_trajectories``: recorded trajectories kept in memory (32; with 540x1200 frames
      a trajectory holds ~12 MB, and recording one again costs a few renders).

    ## Version History

    * v0: initial release.
    """

    COMPONENTS = ("task", "format", "action", "progress")
    DEFAULT_WEIGHTS = {"task": 0.0, "format": 0.1, "action": 0.9, "progress": 0.0}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        task_id = self._pick_task(self.trajectory_ids, options)
        self.trajectory = self._trajectory(task_id)
        self._t, self._patches, self._first_miss = 0, 0, None
        self._history = []
        info = self._start_episode(task_id)
        info.update(goal=self.trajectory.goal, trajectory_length=len(self.trajectory.steps))
        return self._gold_observation(), info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        self._check_running()
        traj = self.trajectory
        assert traj is not None
        parsed, invalid, level, fmt = self._judge(action)
        gold = traj.steps[self._t]
        matched, patched = level == "exact", False
        t = self._t
        if matched:
            self._history.append(history_line(t + 1, parsed, thought_of(action)))
            self._t += 1
        else:
            if self._first_miss is None:
                self._first_miss = t
            if self._patches < self.config.patch_threshold:
                self._patches += 1
                patched = True
                mode = self.config.patch_mode
                thought = (
                    gold.action.thought
                    if mode == "expert_thought"
                    else thought_of(action)
                    if mode == "self_thought"
                    else ""
                )
                self._history.append(history_line(t + 1, gold.action, thought))
                self._t += 1
        n = len(traj.steps)
        terminated = self._t >= n or (not matched and not patched)
        perfect = terminated and self._first_miss is None and self._t >= n
        progress = 0.0
        if terminated:
            progress = (self._first_miss if self._first_miss is not None else n) / n
        components = {
            "task": float(perfect),
            "format": fmt,
            "action": ACTION_LEVELS[level],
            "progress": progress,
        }
        extra: dict[str, Any] = {
            "matched": matched, "step_score": 0.1 * fmt + 0.9 * ACTION_LEVELS[level], "action_level": level,
            "patched": patched, "patches_used": self._patches, "gold_step": t, "trajectory_length": n,
            "goal": traj.goal,
        }  # fmt: skip
        if terminated:
            extra["progress"] = progress
        reward, info = self._finish_step(
            components, terminated=terminated, success=perfect if terminated else None,
            invalid_action=invalid, **extra,
        )  # fmt: skip
        return self._gold_observation(), reward, terminated, False, info


class GuiOfflineEnv(_ReplayBase):
    """Single-step accuracy: one expert screen with the expert's history; is the action right?

    ## Description

    The offline evaluation UI-S1 compares against: each episode is ONE step of one expert
    trajectory of the phone tasks (see ``GUI-Online-v0``). The agent sees the expert's
    screen t with the expert's own earlier actions as history and answers with one action,
    judged by UI-S1's matching rules (as ``GUI-SemiOnline-v0``). Its mean ``task`` is the
    single-step (action) accuracy.

    ## Action Space

    As ``GUI-Online-v0``.

    ## Observation Space

    As ``GUI-Online-v0``; ``history`` holds the expert's actions (and thoughts) before step t.

    ## Rewards

    | component | meaning | default weight |
    |---|---|---|
    | ``task`` | 1 if the action matches the expert's exactly, else 0 | 1.0 |
    | ``format`` | 1 if the reply has a non-empty thought block | 0.0 |
    | ``action`` | UI-S1 action level (0, 0.1, 0.5, 1) | 0.0 |

    ``info["matched"]``, ``info["step_score"]`` and ``info["action_level"]`` as in
    ``GUI-SemiOnline-v0``.

    ## Starting State

    A (trajectory, step) pair drawn uniformly: a trajectory as in ``GUI-SemiOnline-v0``, then
    one of its steps. The task id is ``"<template>#<seed>@<t>"``; ``options={"task_id": id}``
    picks one.

    ## Episode End

    Terminated after the one step.

    ## Arguments

    As ``GUI-SemiOnline-v0`` (the patch arguments are unused).

    ## Version History

    * v0: initial release.
    """

    DEFAULT_WEIGHTS = {"task": 1.0, "format": 0.0, "action": 0.0}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        wanted = self._reset_options(options).get("task_id")
        if wanted is not None:
            task_id, _, t_text = str(wanted).partition("@")
            self._pick_task(self.trajectory_ids, {"task_id": task_id})
            self.trajectory = self._trajectory(task_id)
            if not t_text.isdigit() or int(t_text) >= len(self.trajectory.steps):
                raise ConfigError(
                    f"options['task_id']={wanted!r}: the step after '@' must be 0..{len(self.trajectory.steps) - 1}"
                )
            self._t = int(t_text)
        else:
            task_id = self._pick_task(self.trajectory_ids, None)
            self.trajectory = self._trajectory(task_id)
            self._t = int(self.np_random.integers(len(self.trajectory.steps)))
        self._history = [
            history_line(i + 1, s.action) for i, s in enumerate(self.trajectory.steps[: self._t])
        ]
        info = self._start_episode(f"{task_id}@{self._t}")
        info.update(goal=self.trajectory.goal)
        return self._gold_observation(), info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        self._check_running()
        _, invalid, level, fmt = self._judge(action)
        matched = level == "exact"
        components = {"task": float(matched), "format": fmt, "action": ACTION_LEVELS[level]}
        reward, info = self._finish_step(
            components, terminated=True, success=matched, invalid_action=invalid, matched=matched,
            step_score=0.1 * fmt + 0.9 * ACTION_LEVELS[level], action_level=level,
        )  # fmt: skip
        return self._gold_observation(), reward, True, False, info

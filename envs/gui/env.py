"""The GUI envs' shared configuration and observations, and ``GuiOnlineEnv`` (the live phone)."""

from __future__ import annotations

import json
from typing import Any, ClassVar, Literal

import numpy as np
from gymnasium import spaces
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rewardgym.envs.base import AgenticEnv
from rewardgym.envs.gui.actions import (
    ACTION_PROMPT,
    ACTION_TYPES,
    BUTTONS,
    DIRECTIONS,
    ActionError,
    GuiAction,
    from_structured,
    parse_action,
    structured_space,
)
from rewardgym.envs.gui.dataset import task_ids
from rewardgym.envs.gui.expert import ExpertStep, expert_step
from rewardgym.envs.gui.phone import Phone
from rewardgym.envs.gui.tasks import TEMPLATES, TaskSpec, make_task, parse_task_id
from rewardgym.envs.gui.widgets import DEVICE_HEIGHT, DEVICE_WIDTH
from rewardgym.errors import ConfigError, InvalidAction
from rewardgym.spaces import text

__all__ = ["GuiConfig", "GuiEnvBase", "GuiOnlineEnv", "screen_elements"]

ObservationMode = Literal["screenshot+a11y", "a11y", "screenshot"]


class GuiConfig(BaseModel):
    """The constructor arguments every GUI env shares (validated at ``gym.make``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    templates: list[str] | None = None
    instances: int = Field(100, ge=1, le=100_000)
    observation: ObservationMode = "screenshot+a11y"
    screenshot_size: tuple[int, int] = (540, 1200)
    action_format: Literal["text", "structured"] = "text"
    max_action_length: int = Field(8192, ge=64)
    max_text_length: int = Field(1000, ge=1)
    max_steps: int = Field(30, ge=1, le=1000)
    max_invalid_actions: int | None = Field(None, ge=1)
    history_steps: int = Field(8, ge=0, le=100)
    reward_weights: dict[str, float] | None = None
    render_mode: Literal["rgb_array", "ansi"] | None = None

    @field_validator("templates")
    @classmethod
    def _known_templates(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            unknown = [t for t in value if t not in TEMPLATES]
            if unknown or not value:
                raise ValueError(
                    f"unknown GUI task templates {unknown}; known: {sorted(TEMPLATES)}"
                )
        return value

    @field_validator("screenshot_size")
    @classmethod
    def _sane_size(cls, value: tuple[int, int]) -> tuple[int, int]:
        w, h = value
        if not (54 <= w <= 2160 and 120 <= h <= 4800):
            raise ValueError(f"screenshot_size {value} must lie between (54, 120) and (2160, 4800)")
        return value


def screen_elements(a11y: str) -> list[dict[str, Any]]:
    """The UI elements of an accessibility text (``UI element i: {...}`` lines) as dicts."""
    elements = []
    for line in a11y.splitlines():
        head, sep, body = line.partition(": ")
        if sep and head.startswith("UI element "):
            elements.append(json.loads(body))
    return elements


def history_line(index: int, action: GuiAction, thought: str | None = None) -> str:
    """One line of the action history an observation shows."""
    thought = action.thought if thought is None else thought
    args = json.dumps(action.arguments(), ensure_ascii=False)
    return f"Step {index}: " + (f"{thought} " if thought else "") + args


class GuiEnvBase(AgenticEnv):
    """What the three GUI modes share: spaces, action parsing, observations, rendering."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array", "ansi"], "render_fps": 2}
    CONFIG: ClassVar[type[GuiConfig]] = GuiConfig
    RESET_OPTIONS: ClassVar[dict[str, type | tuple[type, ...]]] = {"task_id": str}
    #: The screen's size in the pixels actions use.
    SCREEN: ClassVar[tuple[int, int]] = (DEVICE_WIDTH, DEVICE_HEIGHT)
    #: The text-action format, which LLM agents show the model as their instruction.
    ACTION_PROMPT: ClassVar[str] = ACTION_PROMPT

    def __init__(self, **kwargs: Any) -> None:
        try:
            self.config = self.CONFIG(**kwargs)
        except ValidationError as exc:
            raise ConfigError(f"invalid {type(self).__name__} arguments:\n{exc}") from None
        super().__init__(reward_weights=self.config.reward_weights)
        cfg = self.config
        self.render_mode = cfg.render_mode
        self.width, self.height = self.SCREEN
        obs: dict[str, spaces.Space] = {"goal": text(1000)}
        if "a11y" in cfg.observation:
            obs["a11y"] = text(65_536)
        if "screenshot" in cfg.observation:
            w, h = cfg.screenshot_size
            obs["screenshot"] = spaces.Box(0, 255, (h, w, 3), dtype=np.uint8)
        obs["history"] = text(65_536)
        self.observation_space = spaces.Dict(obs)
        if cfg.action_format == "structured":
            self.action_space: spaces.Space = structured_space(
                self.width, self.height, cfg.max_text_length
            )
        else:
            self.action_space = text(cfg.max_action_length)
        self._history: list[str] = []

    # -- actions -------------------------------------------------------------------------------

    def parse(self, action: Any) -> GuiAction:
        """The agent's action as a :class:`GuiAction`.

        Raises:
            ActionError: malformed agent output (reported as ``invalid_action``).
            InvalidAction: an action of the wrong Python type (a caller bug).
        """
        cfg = self.config
        if cfg.action_format == "structured":
            if not isinstance(action, dict):
                raise InvalidAction(
                    f"{type(self).__name__} with action_format='structured' takes dicts, got {type(action).__name__}"
                )
            return from_structured(
                action, width=self.width, height=self.height, max_text=cfg.max_text_length
            )
        if not isinstance(action, str):
            raise InvalidAction(
                f"{type(self).__name__} actions are text (str), got {type(action).__name__}; use action_format='structured' for dicts"
            )
        if len(action) > cfg.max_action_length:
            raise ActionError(
                f"the action is {len(action)} characters; max_action_length is {cfg.max_action_length}"
            )
        return parse_action(
            action, width=self.width, height=self.height, max_text=cfg.max_text_length
        )

    def format_action(self, action: GuiAction) -> Any:
        """``action`` in this env's action format (text with its thought, or a structured dict)."""
        if self.config.action_format == "text":
            return action.to_text()
        return {
            "action_type": ACTION_TYPES.index(action.type),
            "coordinate": np.array([action.x or 0, action.y or 0], dtype=np.int64),
            "direction": DIRECTIONS.index(action.direction) if action.direction else 0,
            "button": BUTTONS.index(action.button) if action.button else 0,
            "text": action.text or "",
            "thought": action.thought,
        }

    def expert_gui_action(self) -> GuiAction:
        """The scripted expert's action now (each mode says where it comes from)."""
        raise NotImplementedError

    def expert_action(self) -> Any:
        """The scripted expert's action now, in this env's action format (with its thought)."""
        return self.format_action(self.expert_gui_action())

    # -- observations --------------------------------------------------------------------------

    def _observation(self, goal: str, a11y: str, frame: np.ndarray | None) -> dict[str, Any]:
        obs: dict[str, Any] = {"goal": goal}
        if "a11y" in self.observation_space.spaces:
            obs["a11y"] = a11y
        if "screenshot" in self.observation_space.spaces:
            obs["screenshot"] = self._fit(frame)
        keep = self._history[-self.config.history_steps :] if self.config.history_steps else []
        obs["history"] = "\n".join(keep)
        return obs

    def _fit(self, frame: np.ndarray | None) -> np.ndarray:
        w, h = self.config.screenshot_size
        if frame is None:
            return np.zeros((h, w, 3), dtype=np.uint8)
        if frame.shape[:2] != (h, w):
            from PIL import Image

            frame = np.asarray(
                Image.fromarray(frame).resize((w, h), Image.BILINEAR), dtype=np.uint8
            )
        return frame

    def current_a11y(self) -> str:
        """The accessibility text of the screen the agent sees now."""
        raise NotImplementedError

    def render(self) -> Any:
        if self.render_mode == "ansi":
            return self.current_a11y()
        if self.render_mode == "rgb_array":
            return self._render_frame()
        self._render_mode_missing()
        return None

    def _render_frame(self) -> np.ndarray:
        raise NotImplementedError

    def _pick_task(self, ids: list[str], options: dict[str, Any] | None) -> str:
        task_id = self._reset_options(options).get("task_id")
        if task_id is None:
            return ids[int(self.np_random.integers(len(ids)))]
        if task_id not in self._task_set:
            raise ConfigError(
                f"options['task_id']={task_id!r} is not a task of this env; e.g. {ids[:3]}"
            )
        return task_id

    # -- live turns (the online phone and MiniWoB) ---------------------------------------------

    def _invalid_turn(self, exc: ActionError) -> tuple[str, bool]:
        """Count an unusable action and note it in the history: ``(reason, episode ends)``
        (it ends after ``max_invalid_actions`` of them, when that is set)."""
        reason = str(exc)
        self._invalid += 1
        self._history.append(f"Step {self._step_count + 1}: (invalid action: {reason})")
        limit = self.config.max_invalid_actions
        return reason, limit is not None and self._invalid >= limit

    def _accepted_turn(self, parsed: GuiAction) -> float:
        """Note a usable action in the history; its ``format`` score (1 with a thought)."""
        self._history.append(history_line(self._step_count + 1, parsed))
        return float(bool(parsed.thought.strip()))


class GuiOnlineEnv(GuiEnvBase):
    """A simulated Android phone; the agent completes a task through taps, swipes and typing.

    ## Description

    A phone with eight apps (Settings, Contacts, Messages, Calendar, Notes, Shop, Files,
    Clock), built from one widget model (buttons, scrolling lists, text fields with an
    on-screen keyboard, toggles, dialogs) in which every widget has a bounding box in device
    pixels (1080x2400). Each episode is one task instance ``"<template>#<seed>"`` of 46
    templates ("Turn on Wi-Fi", "Add a contact: Zoe Lee, 555-0102", "Set an alarm for 07:30 on
    weekdays", "Buy 2 of the cheapest charger", questions such as "What is Ana Lee's phone
    number?"), 2 to 16 expert steps long. The seed draws the phone's content (contacts,
    prices, files ...) and the task's parameters. Success is decided from the apps' data when
    the agent terminates, never from pixels.

    ## Action Space

    ``action_format="text"`` (default): ``PrintableText(max_action_length)`` holding UI-S1's
    tool call, with an optional thought block::

        <thinking>...</thinking>
        <tool_call>
        {"name": "mobile_use", "arguments": {"action": "click", "coordinate": [540, 730]}}
        </tool_call>

    Actions: ``click``/``long_press`` (``coordinate`` [x, y], device pixels), ``swipe``
    (``direction`` of the finger: up shows later list rows; or ``coordinate`` and
    ``coordinate2``), ``type`` (``text``, into the focused field), ``answer`` (``text``),
    ``key`` (``text``: enter, backspace, space ... or one character), ``open`` (``text``: an
    app name), ``system_button`` (``button``: back, home, enter), ``wait``, ``terminate``
    (``status``). ``action_format="structured"``: a ``Dict`` of ``action_type`` (index),
    ``coordinate``, ``direction``, ``button`` and ``text`` (see
    :func:`rewardgym.envs.gui.actions.structured_space`). Off-screen points, unknown types or
    keys or apps, malformed JSON and texts over ``max_text_length`` are invalid actions
    (``info["invalid_action"]`` says why); the episode goes on.

    ## Observation Space

    ``Dict``: ``goal`` (the task in words), ``a11y`` (the accessibility tree, one
    ``UI element i: {"text", "class_name", "resource_id", "bbox", flags}`` line per widget,
    as AndroidWorld writes it), ``screenshot`` (``uint8`` RGB, ``screenshot_size`` (w, h),
    default 540x1200: coordinates in actions stay in device pixels, twice the default
    screenshot's) and ``history`` (the agent's last ``history_steps`` actions with their
    thoughts). ``observation="a11y"`` or ``"screenshot"`` drops the other view.

    ## Rewards

    | component | meaning | default weight |
    |---|---|---|
    | ``task`` | 1 on the terminating step if the task is done (from the apps' state), else 0 | 1.0 |
    | ``format`` | 1 if the action parsed and carried a non-empty thought block | 0.0 |

    ## Starting State

    The home screen of a fresh phone. ``reset(seed)`` draws the task uniformly from
    ``templates`` x ``instances`` seeds with ``np_random``; ``options={"task_id": id}`` picks
    one. ``info["goal"]`` repeats the goal.

    ## Episode End

    Terminated when the agent sends ``terminate`` (``info["success"]`` from the app state) or
    after ``max_invalid_actions`` invalid actions. Truncated after ``max_steps`` steps.

    ## Arguments

    * ``templates``: restrict to these task templates (default all 46).
    * ``instances``: seeds per template (100).
    * ``observation``: ``"screenshot+a11y"`` (default), ``"a11y"`` or ``"screenshot"``.
    * ``screenshot_size``: (width, height) of the screenshot, default (540, 1200).
    * ``action_format``: ``"text"`` (default) or ``"structured"``.
    * ``max_action_length`` (8192), ``max_text_length`` (1000: longest ``type``/``answer`` text).
    * ``max_steps`` (30), ``max_invalid_actions`` (None: never ends on invalid actions).
    * ``history_steps``: earlier actions shown in ``history`` (8).
    * ``reward_weights``: overrides of the default weights.
    * ``render_mode``: ``"rgb_array"`` (the screenshot) or ``"ansi"`` (the a11y text).

    ## Version History

    * v0: initial release (8 apps, 46 templates).
    """

    COMPONENTS = ("task", "format")
    DEFAULT_WEIGHTS = {"task": 1.0, "format": 0.0}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.task_ids = task_ids(self.config.templates, self.config.instances)
        self._task_set = set(self.task_ids)
        self.phone: Phone | None = None
        self.task: TaskSpec | None = None
        self._plan_index = 0
        self._pending: ExpertStep | None = None
        self._invalid = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        task_id = self._pick_task(self.task_ids, options)
        self.phone, self.task = make_task(*parse_task_id(task_id))
        self._plan_index, self._pending, self._invalid = 0, None, 0
        self._history = []
        info = self._start_episode(task_id)
        info.update(goal=self.task.goal, app="Home", effect="")
        return self._live_observation(), info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        self._check_running()
        phone, task = self.phone, self.task
        assert phone is not None and task is not None
        pending, self._pending = self._pending, None
        invalid = effect = None
        terminated = success = False
        components = {"task": 0.0, "format": 0.0}
        try:
            parsed = self.parse(action)
            if parsed.type == "open":
                try:
                    phone.resolve_app(parsed.text or "")
                except KeyError:
                    raise ActionError(
                        f"there is no app named {parsed.text!r:.40}; apps: {', '.join(phone.apps)}"
                    ) from None
        except ActionError as exc:
            invalid, terminated = self._invalid_turn(exc)
        else:
            components["format"] = self._accepted_turn(parsed)
            if pending is not None and pending.advances and parsed.same_as(pending.action):
                self._plan_index = min(self._plan_index + 1, len(task.plan) - 1)
            effect = phone.perform(parsed)
            if parsed.type == "terminate":
                terminated = True
                success = parsed.text != "failure" and task.check(phone)
                components["task"] = float(success)
        truncated = not terminated and self._step_count + 1 >= self.config.max_steps
        done = terminated or truncated
        reward, info = self._finish_step(
            components, terminated=terminated, truncated=truncated,
            success=success if done else None, invalid_action=invalid,
            goal=task.goal, app=phone.current or "Home", effect=effect or "",
        )  # fmt: skip
        return self._live_observation(), reward, terminated, truncated, info

    def expert_gui_action(self) -> GuiAction:
        """The scripted expert's next action for the current screen.

        The expert's plan moves on only when the env then receives exactly this action, so an
        agent that follows it with deviations (``gui-noisy``) is corrected where it can be.
        """
        if self.phone is None or self.task is None:
            raise InvalidAction("call reset() before asking for the expert's action")
        self._pending = expert_step(self.phone, self.task.plan[self._plan_index])
        return self._pending.action

    def current_a11y(self) -> str:
        return self.phone.a11y() if self.phone is not None else ""

    def _render_frame(self) -> np.ndarray:
        w, h = self.config.screenshot_size
        return (
            self.phone.screenshot(w, h) if self.phone is not None else np.zeros((h, w, 3), np.uint8)
        )

    def _live_observation(self) -> dict[str, Any]:
        phone, task = self.phone, self.task
        assert phone is not None and task is not None
        frame = None
        if "screenshot" in self.config.observation:
            frame = phone.screenshot(*self.config.screenshot_size)
        a11y = phone.a11y() if "a11y" in self.config.observation else ""
        return self._observation(task.goal, a11y, frame)

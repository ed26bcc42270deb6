"""MiniWoB++ pages in headless Chromium behind the GUI action schema: online and semi-online."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
from pydantic import Field, field_validator

from rewardgym.envs.gui.actions import ActionError, GuiAction
from rewardgym.envs.gui.browser import AREA, MiniWoBBrowser
from rewardgym.envs.gui.dataset import GoldStep, Trajectory
from rewardgym.envs.gui.env import GuiConfig, GuiEnvBase
from rewardgym.envs.gui.miniwob_tasks import MINIWOB_TASKS, Page, solve
from rewardgym.envs.gui.semionline import GuiReplayConfig, GuiSemiOnlineEnv
from rewardgym.errors import InvalidAction

__all__ = ["MiniWoBConfig", "MiniWoBEnv", "MiniWoBSemiOnlineEnv", "page_text"]

Step = tuple[GuiAction, tuple[int, int, int, int] | None]


def _known_tasks(value: list[str] | None) -> list[str] | None:
    if value is not None:
        unknown = [t for t in value if t not in MINIWOB_TASKS]
        if unknown or not value:
            raise ValueError(
                f"unsupported MiniWoB++ tasks {unknown}; supported: {sorted(MINIWOB_TASKS)}"
            )
    return value


class MiniWoBConfig(GuiConfig):
    """``MiniWoBEnv``'s arguments: the GUI ones (``templates`` unused) plus ``tasks``."""

    tasks: list[str] | None = None
    instances: int = Field(1000, ge=1, le=1_000_000)
    screenshot_size: tuple[int, int] = AREA
    max_steps: int = Field(20, ge=1, le=1000)

    @field_validator("tasks")
    @classmethod
    def _tasks_ok(cls, value: list[str] | None) -> list[str] | None:
        return _known_tasks(value)


class MiniWoBReplayConfig(GuiReplayConfig):
    """``MiniWoBSemiOnlineEnv``'s arguments (``dataset_dir`` unused: trajectories are recorded)."""

    tasks: list[str] | None = None
    instances: int = Field(5, ge=1, le=1_000_000)
    screenshot_size: tuple[int, int] = AREA

    @field_validator("tasks")
    @classmethod
    def _tasks_ok(cls, value: list[str] | None) -> list[str] | None:
        return _known_tasks(value)


def page_text(task: str, utterance: str, elements: list[dict[str, Any]]) -> str:
    """The page as the phone's accessibility text (``UI element i: {...}`` lines)."""
    lines = [f"Current page: MiniWoB++ {task} — {utterance}"]
    lines += [
        f"UI element {i}: {json.dumps(e, ensure_ascii=False)}" for i, e in enumerate(elements)
    ]
    return "\n".join(lines)


def _task_ids(tasks: list[str] | None, instances: int) -> list[str]:
    return [f"{t}#{s}" for t in (tasks or list(MINIWOB_TASKS)) for s in range(instances)]


def _perform(browser: MiniWoBBrowser, action: GuiAction) -> None:
    kind = action.type
    if kind == "click":
        browser.click(action.x, action.y)
    elif kind == "long_press":
        browser.click(action.x, action.y, hold_s=0.5)
    elif kind == "swipe":
        browser.scroll(action.direction or "up")
    elif kind == "type":
        browser.type(action.text or "")
    elif kind == "key":
        browser.key(action.text or "")
    elif kind == "system_button" and action.button == "enter":
        browser.key("enter")


def _unusable(action: GuiAction) -> str | None:
    if action.type == "open":
        return "open(app) has no meaning on a web page: there are no apps"
    if action.type == "system_button" and action.button != "enter":
        return f"system_button {action.button!r} has no meaning on a web page (only 'enter')"
    if action.type == "key" and action.text in ("back", "home"):
        return f"key {action.text!r} has no meaning on a web page"
    return None


class MiniWoBEnv(GuiEnvBase):
    """MiniWoB++ task pages in headless Chromium, driven with the GUI (UI-S1) action schema.

    ## Description

    Real web pages: the ``miniwob`` package's MiniWoB++ HTML tasks, loaded from the local disk
    (``file://``, no server) into the system Chromium through Selenium (no browser download;
    set ``MINIWOB_CHROME_BINARY``/``MINIWOB_CHROMEDRIVER`` to use another build). An episode
    is one seeded instance ``"<task>#<seed>"`` of 16 tasks with scripted solvers
    (click-test, click-test-2, click-button, click-button-sequence, click-link, click-dialog,
    click-dialog-2, click-tab, click-widget, click-checkboxes, click-option, focus-text,
    focus-text-2, enter-text, enter-password, login-user). MiniWoB's own JavaScript decides
    the reward; its 10 s episode clock is raised to an hour so thinking time is not punished.
    Actions are real input events (W3C pointer and key actions).

    ## Action Space

    As ``GUI-Online-v0`` (UI-S1 tool-call text, or ``action_format="structured"``), with
    coordinates in CSS pixels of the 160x210 task area. ``open``, ``system_button``
    back/home are invalid actions here; ``system_button`` enter presses Enter; ``swipe``
    scrolls the page.

    ## Observation Space

    ``Dict``: ``goal`` (MiniWoB's instruction), ``a11y`` (the page's elements in the task area
    as ``UI element i: {"text", "class_name" (the tag), "resource_id" (the DOM id), "bbox",
    flags}`` lines, from MiniWoB's ``core.getDOMInfo``), ``screenshot`` (the task area,
    ``uint8`` RGB, ``screenshot_size``, default 160x210) and ``history``.

    ## Rewards

    | component | meaning | default weight |
    |---|---|---|
    | ``task`` | 1 when the page ends the episode with a positive raw reward, else 0 | 1.0 |
    | ``format`` | 1 if the action parsed and carried a non-empty thought block | 0.0 |

    ## Starting State

    The task page right after MiniWoB's ``startEpisodeReal`` with ``Math.seedrandom(seed)``;
    the task instance is drawn uniformly from ``tasks`` x ``instances`` with ``np_random``
    (``options={"task_id": "click-button#3"}`` picks one).

    ## Episode End

    Terminated when the page ends its episode (MiniWoB's ``WOB_DONE_GLOBAL``) or the agent
    sends ``terminate``; truncated after ``max_steps``. If Chromium dies, ``step`` raises
    ``rewardgym.envs.gui.browser.BrowserError`` and the next ``reset`` starts a new browser.
    ``close()`` leaves no Chromium process behind.

    ## Arguments

    * ``tasks``: restrict to these MiniWoB++ tasks (default all 16).
    * ``instances``: seeds per task (1000).
    * ``observation``, ``action_format``, ``max_action_length``, ``max_text_length``,
      ``history_steps``, ``reward_weights``, ``render_mode``: as ``GUI-Online-v0``.
    * ``screenshot_size``: default (160, 210).
    * ``max_steps`` (20), ``max_invalid_actions`` (None).

    ## Version History

    * v0: initial release (16 tasks).
    """

    SCREEN: ClassVar[tuple[int, int]] = AREA
    CONFIG: ClassVar[type[GuiConfig]] = MiniWoBConfig
    COMPONENTS = ("task", "format")
    DEFAULT_WEIGHTS = {"task": 1.0, "format": 0.0}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.task_ids = _task_ids(self.config.tasks, self.config.instances)
        self._task_set = set(self.task_ids)
        self.browser = MiniWoBBrowser()
        self.task_name = ""
        self.utterance = ""
        self._solver: Iterator[Step] | None = None
        self._pending: Step | None = None
        self._invalid = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        task_id = self._pick_task(self.task_ids, options)
        name, _, task_seed = task_id.partition("#")
        self.browser.load(name, int(task_seed))
        self.task_name, self.utterance = name, self.browser.utterance()
        self._solver = solve(name, Page(self.utterance, self.browser.elements))
        self._pending, self._invalid, self._history = None, 0, []
        info = self._start_episode(task_id)
        info.update(goal=self.utterance)
        return self._page_observation(), info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        self._check_running()
        invalid = None
        terminated = success = False
        components = {"task": 0.0, "format": 0.0}
        try:
            parsed = self.parse(action)
            reason = _unusable(parsed)
            if reason:
                raise ActionError(reason)
        except ActionError as exc:
            invalid, terminated = self._invalid_turn(exc)
        else:
            components["format"] = self._accepted_turn(parsed)
            if self._pending is not None and parsed.same_as(self._pending[0]):
                self._pending = None  # the solver moves on
            if parsed.type != "terminate":
                _perform(self.browser, parsed)
            done, raw = self.browser.status()
            terminated = done or parsed.type == "terminate"
            success = done and raw > 0
            components["task"] = float(success)
        truncated = not terminated and self._step_count + 1 >= self.config.max_steps
        finished = terminated or truncated
        reward, info = self._finish_step(
            components, terminated=terminated, truncated=truncated,
            success=success if finished else None, invalid_action=invalid, goal=self.utterance,
        )  # fmt: skip
        return self._page_observation(), reward, terminated, truncated, info

    def expert_gui_action(self) -> GuiAction:
        """The task's scripted solver's next action (it moves on once the env gets it)."""
        if self._solver is None:
            raise InvalidAction("call reset() before asking for the expert's action")
        if self._pending is None:
            self._pending = next(self._solver, (GuiAction("terminate", text="success"), None))
        return self._pending[0]

    def current_a11y(self) -> str:
        return (
            page_text(self.task_name, self.utterance, self.browser.elements())
            if self.browser.alive
            else ""
        )

    def _render_frame(self) -> np.ndarray:
        return self._fit(self.browser.screenshot() if self.browser.alive else None)

    def _page_observation(self) -> dict[str, Any]:
        frame = self.browser.screenshot() if "screenshot" in self.config.observation else None
        a11y = self.current_a11y() if "a11y" in self.config.observation else ""
        return self._observation(self.utterance, a11y, frame)

    def close(self) -> None:
        self.browser.close()
        super().close()


def record_miniwob(browser: MiniWoBBrowser, task_id: str, screenshots: bool) -> Trajectory:
    """Run ``task_id``'s solver in ``browser`` and record it (until the page ends the episode).

    Raises:
        RuntimeError: if the solver does not succeed (a bug in a solver).
    """
    name, _, seed = task_id.partition("#")
    browser.load(name, int(seed))
    utterance = browser.utterance()
    solver = solve(name, Page(utterance, browser.elements))
    trajectory = Trajectory(task_id, utterance)
    for _ in range(40):
        a11y = page_text(name, utterance, browser.elements())
        frame = browser.screenshot() if screenshots else None
        action, box = next(solver)
        trajectory.steps.append(
            GoldStep(action, [box] if box else [], a11y, frame, size=AREA if screenshots else None)
        )
        if action.type == "terminate":
            break
        _perform(browser, action)
        done, raw = browser.status()
        if done:
            if raw <= 0:
                raise RuntimeError(f"the MiniWoB++ solver failed {task_id} (raw reward {raw})")
            return trajectory
    raise RuntimeError(f"the MiniWoB++ solver did not finish {task_id}")


class MiniWoBSemiOnlineEnv(GuiSemiOnlineEnv):
    """UI-S1's semi-online replay over MiniWoB++ trajectories recorded from the solvers.

    ## Description

    As ``GUI-SemiOnline-v0``, over the MiniWoB++ tasks of ``MiniWoB-v0``: each trajectory is
    recorded once from the task's scripted solver in headless Chromium (screens, page
    elements, actions, target boxes) and then replayed without the browser. Matching uses
    the 160x210 task area for the 0.04 distance rule.

    ## Action Space

    As ``MiniWoB-v0``.

    ## Observation Space

    As ``MiniWoB-v0``; the screen and elements are the solver's at step t, ``history`` the
    agent's own (or patched) actions.

    ## Rewards

    | component | meaning | default weight |
    |---|---|---|
    | ``format`` | 1 if the reply has a non-empty thought block | 0.1 |
    | ``action`` | UI-S1 action level: 0 unparseable, 0.1 wrong type, 0.5 wrong arguments, 1 exact | 0.9 |
    | ``task`` | 1 on the last step if every step matched without a patch, else 0 | 0.0 |
    | ``progress`` | on the last step, the fraction matched before the first miss | 0.0 |

    ## Starting State

    Step 0 of a trajectory drawn uniformly from ``tasks`` x ``instances`` (default 5 seeds).

    ## Episode End

    As ``GUI-SemiOnline-v0``.

    ## Arguments

    ``tasks`` (as ``MiniWoB-v0``), ``instances`` (5), ``patch_threshold``, ``patch_mode``,
    ``cache_trajectories`` and the view arguments of ``GUI-SemiOnline-v0``.

    ## Version History

    * v0: initial release.
    """

    SCREEN: ClassVar[tuple[int, int]] = AREA
    CONFIG: ClassVar[type[GuiConfig]] = MiniWoBReplayConfig

    def __init__(self, **kwargs: Any) -> None:
        self.browser = MiniWoBBrowser()
        super().__init__(**kwargs)

    def _default_ids(self) -> list[str]:
        return _task_ids(self.config.tasks, self.config.instances)

    def _record(self, task_id: str) -> Trajectory:
        return record_miniwob(self.browser, task_id, "screenshot" in self.config.observation)

    def close(self) -> None:
        self.browser.close()
        super().close()

"""GUI agents: the scripted expert and the expert with controlled errors (agents of graded skill).

``gui-expert`` plays the env's scripted expert (``env.unwrapped.expert_gui_action()``: on the
live phone the task's plan resolved against the screen, in the replay modes the recorded
expert step). ``gui-noisy:<spec>`` plays the same expert but makes errors of four kinds at
the given rates, drawn from its own seeded generator:

* ``type``: an action of another type (a tap where a swipe belongs, a wait, a back ...);
* ``element``: a click or long press on another clickable element of the screen;
* ``args``: the right type with wrong arguments (a point far off the target, the opposite
  swipe, another text, app or button);
* ``thought``: the thought block left out (costs only the ``format`` term);
* ``task``: a task-level gap — for this fraction of task instances (chosen by a hash of the
  task id, so the same instances in every mode: online, semi-online, each offline step) the
  agent errs on every step (a wrong element where there is one, else wrong arguments, else
  a wrong type). Its errors cluster by task instead of spreading over steps.

The spec is ``kind=rate`` pairs (``gui-noisy:type=0.05,args=0.1,element=0.1,thought=0.3``) or
one rate for the four step-level kinds (``gui-noisy:0.1``: type, element, args and thought).
``type``, ``element`` and ``args`` are tried in that order on each step, at most one of them
applies.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

import numpy as np

from rewardgym.envs.gui.actions import BUTTONS, DIRECTIONS, GuiAction
from rewardgym.envs.gui.env import screen_elements
from rewardgym.errors import ConfigError

__all__ = [
    "GuiExpertAgent",
    "GuiNoisyAgent",
    "make_gui_expert",
    "make_gui_noisy",
    "parse_noise_spec",
]

NOISE_KINDS = ("type", "element", "args", "thought", "task")
#: The step-level kinds, tried in this order on each step (at most one applies).
_STEP_KINDS = ("type", "element", "args")
_WRONG_TEXTS = ("hello", "ok", "settings", "12:00", "none")
_APPS = ("Settings", "Contacts", "Messages", "Calendar", "Notes", "Shop", "Files", "Clock")


def _unwrapped_gui_env(env: Any) -> Any:
    base = getattr(env, "unwrapped", env)
    if not hasattr(base, "expert_gui_action"):
        raise ConfigError(
            f"{type(base).__name__} has no scripted expert; gui-expert/gui-noisy play the GUI "
            "family's envs (rewardgym/GUI-*-v0, rewardgym/MiniWoB-*-v0)"
        )
    return base


class GuiExpertAgent:
    """The env's scripted expert, in the env's action format."""

    name = "gui-expert"

    def __init__(self, env: Any) -> None:
        self.env = _unwrapped_gui_env(env)

    def reset(self, seed: int | None = None) -> None:
        pass

    def act(self, observation: Any, info: dict[str, Any]) -> Any:
        return self.env.format_action(self.env.expert_gui_action())


def parse_noise_spec(spec: str | None) -> dict[str, float]:
    """``"type=0.1,args=0.2"`` or ``"0.1"`` -> a rate per error kind (missing kinds: 0).

    Raises:
        ConfigError: an unknown kind, or a rate outside [0, 1].
    """
    rates = dict.fromkeys(NOISE_KINDS, 0.0)
    if not spec:
        return rates
    try:
        if "=" not in spec:
            return {
                **rates,
                **dict.fromkeys(("type", "element", "args", "thought"), _rate(float(spec))),
            }
        for part in spec.split(","):
            kind, _, value = part.partition("=")
            kind = kind.strip()
            if kind not in rates:
                raise ConfigError(
                    f"gui-noisy: unknown error kind {kind!r}; kinds: {', '.join(NOISE_KINDS)}"
                )
            rates[kind] = _rate(float(value))
    except ValueError:
        raise ConfigError(
            f"gui-noisy:{spec}: rates must be numbers, e.g. gui-noisy:type=0.1,args=0.2"
        ) from None
    return rates


def _rate(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"gui-noisy: an error rate must lie in [0, 1], got {value}")
    return value


class GuiNoisyAgent:
    """The scripted expert with errors of each kind at controlled rates (see the module doc)."""

    def __init__(self, env: Any, rates: dict[str, float], name: str | None = None) -> None:
        self.env = _unwrapped_gui_env(env)
        self.rates = dict(rates)
        self.name = name or "gui-noisy:" + ",".join(
            f"{k}={v:g}" for k, v in self.rates.items() if v
        )
        self._rng = np.random.default_rng(0)
        self.errors: dict[str, int] = dict.fromkeys(NOISE_KINDS, 0)

    def reset(self, seed: int | None = None) -> None:
        self._rng = np.random.default_rng(seed)
        self.errors = dict.fromkeys(NOISE_KINDS, 0)

    def lost_on(self, task_id: str) -> bool:
        """Whether this agent cannot do ``task_id`` (the ``task`` kind; ``@step`` suffixes of
        offline ids are ignored, so every mode agrees)."""
        if not self.rates["task"]:
            return False
        base = task_id.partition("@")[0]
        digest = hashlib.sha256(f"gui-noisy-task|{base}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 < self.rates["task"]

    def act(self, observation: Any, info: dict[str, Any]) -> Any:
        action = self.env.expert_gui_action()
        if self.lost_on(str(info.get("task_id", ""))):
            for kind in ("element", "args", "type"):
                changed = getattr(self, f"_wrong_{kind}")(action)
                if changed is not None:
                    self.errors["task"] += 1
                    return self.env.format_action(changed)
        for kind in _STEP_KINDS:
            if self.rates[kind] and self._rng.random() < self.rates[kind]:
                changed = getattr(self, f"_wrong_{kind}")(action)
                if changed is not None:
                    action = changed
                    self.errors[kind] += 1
                    break
        if self.rates["thought"] and self._rng.random() < self.rates["thought"]:
            action = replace(action, thought="")
            self.errors["thought"] += 1
        return self.env.format_action(action)

    # -- error kinds ---------------------------------------------------------------------------

    def _pick(self, items: list[Any]) -> Any:
        return items[int(self._rng.integers(len(items)))]

    def _clickables(self) -> list[tuple[int, int, int, int]]:
        elements = screen_elements(self.env.current_a11y())
        return [tuple(e["bbox"]) for e in elements if e.get("clickable")]

    def _wrong_type(self, action: GuiAction) -> GuiAction:
        kinds = [k for k in ("click", "swipe", "wait", "system_button", "type") if k != action.type]
        kind = self._pick(kinds)
        if kind == "click":
            boxes = self._clickables()
            x0, y0, x1, y1 = self._pick(boxes) if boxes else (0, 300, 1080, 2200)
            return GuiAction("click", x=(x0 + x1) // 2, y=(y0 + y1) // 2, thought=action.thought)
        if kind == "swipe":
            return GuiAction(
                "swipe", direction=self._pick(list(DIRECTIONS)), thought=action.thought
            )
        if kind == "system_button":
            return GuiAction("system_button", button="back", thought=action.thought)
        if kind == "type":
            return GuiAction("type", text=self._pick(list(_WRONG_TEXTS)), thought=action.thought)
        return GuiAction("wait", thought=action.thought)

    def _wrong_element(self, action: GuiAction) -> GuiAction | None:
        if action.type not in ("click", "long_press") or action.point is None:
            return None
        others = [
            b
            for b in self._clickables()
            if not (b[0] <= action.x < b[2] and b[1] <= action.y < b[3])
        ]
        if not others:
            return None
        x0, y0, x1, y1 = self._pick(others)
        return replace(action, x=(x0 + x1) // 2, y=(y0 + y1) // 2)

    def _wrong_args(self, action: GuiAction) -> GuiAction | None:
        kind = action.type
        if kind in ("click", "long_press") and action.point is not None:
            width, height = self.env.width, self.env.height
            # 0.15 of the screen height away: outside any widget box enlarged 1.2x and beyond 0.04
            dy = int(0.15 * height) * (1 if action.y < height / 2 else -1)
            return replace(action, x=min(width - 1, max(0, action.x)), y=action.y + dy)
        if kind == "swipe":
            flip = {"up": "down", "down": "up", "left": "right", "right": "left"}
            return replace(action, direction=flip[action.direction or "up"])
        if kind in ("type", "answer"):
            wrong = [t for t in _WRONG_TEXTS if t not in (action.text or "").lower()]
            return replace(action, text=self._pick(wrong))
        if kind == "open":
            return replace(
                action,
                text=self._pick([a for a in _APPS if a.lower() != (action.text or "").lower()]),
            )
        if kind == "system_button":
            return replace(action, button=self._pick([b for b in BUTTONS if b != action.button]))
        if kind == "key":
            return replace(action, text="tab" if action.text != "tab" else "space")
        return None


def make_gui_expert(env: Any, arg: str | None = None, **kwargs: Any) -> GuiExpertAgent:
    """Registry factory for ``"gui-expert"`` (no argument)."""
    return GuiExpertAgent(env)


def make_gui_noisy(env: Any, arg: str | None = None, **kwargs: Any) -> GuiNoisyAgent:
    """Registry factory for ``"gui-noisy:<spec>"`` (see :func:`parse_noise_spec`)."""
    return GuiNoisyAgent(
        env, parse_noise_spec(arg), name=f"gui-noisy:{arg}" if arg else "gui-noisy"
    )

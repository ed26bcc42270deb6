"""UI-S1's action space: the action types, their text (JSON tool-call) and structured forms.

An action is a :class:`GuiAction`. Agents write it either as text, the tool-call form UI-S1's
Qwen2.5-VL policies produce, with an optional thought block::

    <thinking>
    The Wi-Fi switch is on screen; I tap it.
    </thinking>
    <tool_call>
    {"name": "mobile_use", "arguments": {"action": "click", "coordinate": [540, 730]}}
    </tool_call>

(a bare JSON object, with or without the ``{"name", "arguments"}`` wrapper, is accepted too),
or as a dict of the structured space :func:`structured_space`. :func:`parse_action` and
:func:`from_structured` turn either into a :class:`GuiAction` or raise :class:`ActionError`
with the reason, which envs report as ``info["invalid_action"]``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from gymnasium import spaces

from rewardgym.spaces import text

__all__ = [
    "ACTION_PROMPT",
    "ACTION_TYPES",
    "BUTTONS",
    "DIRECTIONS",
    "KEYS",
    "ActionError",
    "GuiAction",
    "from_structured",
    "parse_action",
    "structured_space",
]

ACTION_TYPES = (
    "click", "long_press", "swipe", "type", "answer", "key", "open", "system_button", "wait",
    "terminate",
)  # fmt: skip
DIRECTIONS = ("up", "down", "left", "right")
BUTTONS = ("back", "home", "enter")
#: Named keys ``key`` accepts besides single printable characters.
KEYS = ("enter", "backspace", "del", "delete", "space", "back", "home", "tab")
_POINT_TYPES = ("click", "long_press")
_TEXT_TYPES = ("type", "answer", "key", "open")
_THOUGHT = re.compile(r"<(thinking|think|thought)>(.*?)</\1>", re.S | re.I)
_TOOL_CALL = re.compile(r"<tool_call>(.*?)(?:</tool_call>|\Z)", re.S | re.I)


#: How to answer, for a language-model agent's prompt (the format :func:`parse_action` reads).
ACTION_PROMPT = """Reply with an optional thought and one tool call:
<thinking>
what you see and why you act
</thinking>
<tool_call>
{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [x, y]}}
</tool_call>
Actions: click / long_press {"coordinate": [x, y]} (pixels, as the UI elements' bbox);
swipe {"direction": "up" | "down" | "left" | "right"} (the finger's; up shows what is below);
type {"text"} (into the focused field); answer {"text"}; key {"text": "enter" | "backspace" | ...};
open {"text": app name}; system_button {"button": "back" | "home" | "enter"}; wait;
terminate {"status": "success" | "failure"} when the task is done."""


class ActionError(ValueError):
    """An agent's action could not be used; the message is the reason."""


@dataclass(frozen=True)
class GuiAction:
    """One UI-S1 action. Coordinates are device pixels; ``direction`` is the finger's."""

    type: str
    x: int | None = None
    y: int | None = None
    direction: str | None = None
    text: str | None = None
    button: str | None = None
    thought: str = ""

    @property
    def point(self) -> tuple[int, int] | None:
        return None if self.x is None or self.y is None else (self.x, self.y)

    def arguments(self) -> dict[str, Any]:
        """The tool call's ``arguments`` object."""
        args: dict[str, Any] = {"action": self.type}
        if self.type in _POINT_TYPES:
            args["coordinate"] = [self.x, self.y]
        elif self.type == "swipe":
            args["direction"] = self.direction
            if self.point is not None:
                args["coordinate"] = [self.x, self.y]
        elif self.type in _TEXT_TYPES:
            args["text"] = self.text
        elif self.type == "system_button":
            args["button"] = self.button
        elif self.type == "terminate":
            args["status"] = self.text or "success"
        return args

    def to_text(self, with_thought: bool = True) -> str:
        """The UI-S1 text form (the thought block only when there is a thought)."""
        call = json.dumps({"name": "mobile_use", "arguments": self.arguments()}, ensure_ascii=False)
        head = f"<thinking>\n{self.thought}\n</thinking>\n" if with_thought and self.thought else ""
        return f"{head}<tool_call>\n{call}\n</tool_call>"

    def without_thought(self) -> GuiAction:
        return replace(self, thought="")

    def same_as(self, other: GuiAction) -> bool:
        """Equal up to the thought."""
        return self.without_thought() == other.without_thought()


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ActionError(f"{what} must be a finite number, got {value!r:.40}")
    return round(value)


def _point(value: Any, what: str, width: int, height: int) -> tuple[int, int]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ActionError(f"{what} must be [x, y], got {value!r:.60}")
    x, y = _int(value[0], f"{what}[0]"), _int(value[1], f"{what}[1]")
    if not (0 <= x < width and 0 <= y < height):
        raise ActionError(f"{what} [{x}, {y}] is off the {width}x{height} screen")
    return x, y


def _text(args: dict[str, Any], key: str, kind: str, max_text: int) -> str:
    value = args.get(key)
    if not isinstance(value, str):
        raise ActionError(f"{kind} needs a string {key!r}, got {value!r:.40}")
    if len(value) > max_text:
        raise ActionError(f"{kind} text is {len(value)} characters; the limit is {max_text}")
    return value


def build_action(
    args: dict[str, Any], *, thought: str = "", width: int, height: int, max_text: int
) -> GuiAction:
    """Validate a tool call's ``arguments`` into a :class:`GuiAction`.

    Raises:
        ActionError: unknown action type, missing or malformed argument, point off screen,
            text over ``max_text`` characters.
    """
    kind = args.get("action")
    if kind not in ACTION_TYPES:
        raise ActionError(f"unknown action type {kind!r:.40}; known: {', '.join(ACTION_TYPES)}")
    if kind in _POINT_TYPES:
        x, y = _point(args.get("coordinate"), "coordinate", width, height)
        return GuiAction(kind, x=x, y=y, thought=thought)
    if kind == "swipe":
        direction = args.get("direction")
        start = args.get("coordinate")
        x = y = None
        if start is not None:
            x, y = _point(start, "coordinate", width, height)
        if direction is None and "coordinate2" in args and start is not None:
            x2, y2 = _point(args["coordinate2"], "coordinate2", width, height)
            dx, dy = x2 - x, y2 - y
            if dx == dy == 0:
                raise ActionError("swipe from a point to the same point has no direction")
            direction = (
                ("right" if dx > 0 else "left")
                if abs(dx) > abs(dy)
                else ("down" if dy > 0 else "up")
            )
        if direction not in DIRECTIONS:
            raise ActionError(
                f"swipe needs a direction in {DIRECTIONS} (or coordinate and coordinate2), got {direction!r:.40}"
            )
        return GuiAction("swipe", x=x, y=y, direction=direction, thought=thought)
    if kind in _TEXT_TYPES:
        value = _text(args, "text", kind, max_text)
        if (
            kind == "key"
            and value.lower() not in KEYS
            and not (len(value) == 1 and value.isprintable())
        ):
            raise ActionError(f"unknown key {value!r:.40}; named keys: {', '.join(KEYS)}")
        if kind == "open" and not value.strip():
            raise ActionError("open needs an app name")
        return GuiAction(
            kind, text=value.lower() if kind == "key" and len(value) > 1 else value, thought=thought
        )
    if kind == "system_button":
        button = str(args.get("button", args.get("text", ""))).lower()
        if button not in BUTTONS:
            raise ActionError(f"system_button must be one of {BUTTONS}, got {button!r:.40}")
        return GuiAction("system_button", button=button, thought=thought)
    if kind == "terminate":
        status = args.get("status", "success")
        if status not in ("success", "failure"):
            raise ActionError(
                f"terminate status must be 'success' or 'failure', got {status!r:.40}"
            )
        return GuiAction("terminate", text=status, thought=thought)
    return GuiAction("wait", thought=thought)


def parse_action(reply: str, *, width: int, height: int, max_text: int = 2000) -> GuiAction:
    """Parse UI-S1's text form (see the module docstring).

    Raises:
        ActionError: no tool call, JSON that does not parse, or invalid arguments.
    """
    if not isinstance(reply, str):
        raise ActionError(f"a text action must be a string, got {type(reply).__name__}")
    thoughts = _THOUGHT.findall(reply)
    thought = thoughts[-1][1].strip() if thoughts else ""
    calls = _TOOL_CALL.findall(reply)
    body = calls[-1].strip() if calls else _THOUGHT.sub("", reply).strip()
    if not body:
        raise ActionError("no <tool_call> and no JSON action in the reply")
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ActionError(
            f"the tool call is not valid JSON ({exc.msg} at char {exc.pos})"
        ) from None
    if not isinstance(data, dict):
        raise ActionError(f"the tool call must be a JSON object, got {type(data).__name__}")
    args = data.get("arguments", data) if "name" in data or "arguments" in data else data
    if not isinstance(args, dict):
        raise ActionError("the tool call's 'arguments' must be a JSON object")
    return build_action(args, thought=thought, width=width, height=height, max_text=max_text)


def structured_space(width: int, height: int, max_text: int) -> spaces.Dict:
    """The structured action space: a dict of the action type and every argument's slot.

    Keys: ``action_type`` (index into :data:`ACTION_TYPES`), ``coordinate`` (x, y in device
    pixels), ``direction`` (index into :data:`DIRECTIONS`), ``button`` (index into
    :data:`BUTTONS`), ``text`` (for type/answer/key/open). Only the slots the type uses are read.
    """
    return spaces.Dict({
        "action_type": spaces.Discrete(len(ACTION_TYPES)),
        "coordinate": spaces.Box(low=np.array([0, 0]), high=np.array([width - 1, height - 1]), dtype=np.int64),
        "direction": spaces.Discrete(len(DIRECTIONS)),
        "button": spaces.Discrete(len(BUTTONS)),
        "text": text(max_text),
    })  # fmt: skip


def from_structured(action: Any, *, width: int, height: int, max_text: int) -> GuiAction:
    """A dict of :func:`structured_space` as a :class:`GuiAction` (``thought`` key optional).

    Raises:
        ActionError: a missing key or an index or point out of range.
    """
    if not isinstance(action, dict):
        raise ActionError(f"a structured action must be a dict, got {type(action).__name__}")
    try:
        index = int(action["action_type"])
    except (KeyError, TypeError, ValueError):
        raise ActionError("a structured action needs an integer 'action_type'") from None
    if not 0 <= index < len(ACTION_TYPES):
        raise ActionError(f"action_type {index} is out of range 0..{len(ACTION_TYPES) - 1}")
    kind = ACTION_TYPES[index]
    args: dict[str, Any] = {"action": kind}
    try:
        if kind in _POINT_TYPES:
            args["coordinate"] = [float(v) for v in np.asarray(action["coordinate"]).reshape(2)]
        elif kind == "swipe":
            args["direction"] = DIRECTIONS[int(action["direction"])]
        elif kind in _TEXT_TYPES:
            args["text"] = action["text"]
        elif kind == "system_button":
            args["button"] = BUTTONS[int(action["button"])]
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise ActionError(f"structured {kind} action lacks a valid argument: {exc!r:.60}") from None
    thought = action.get("thought", "")
    return build_action(args, thought=thought if isinstance(thought, str) else "", width=width,
                        height=height, max_text=max_text)  # fmt: skip

"""UI-S1's action matching and step score (METHODS.md §1), as pure functions.

A predicted action is compared with the expert's (the *gold* action, its candidate boxes and
the screen size) and gets a level: ``unparseable`` (0), ``wrong_type`` (0.1), ``wrong_args``
(0.5) or ``exact`` (1). Arguments match when:

* click / long_press: the point lies in a candidate box enlarged 1.2x about its centre, or
  within 0.04 (L2, coordinates normalised by the screen size) of the gold point;
* swipe: the same finger direction (datasets store the *scroll* direction, the other way:
  :func:`finger_direction` flips it when a record is read);
* type / answer / key / open: one text is a case-insensitive substring of the other after
  strip;
* system_button: the same button; wait / terminate: the type alone.

The step score is ``0.1*format + 0.9*action`` with format 1 when a non-empty thought block
was written; the GUI envs report ``format`` and ``action`` as components with weights 0.1 and
0.9, so their scalar reward is the step score.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rewardgym.envs.gui.actions import GuiAction

__all__ = [
    "ACTION_LEVELS",
    "BOX_SCALE",
    "POINT_RADIUS",
    "action_level",
    "finger_direction",
    "point_matches",
    "scroll_direction",
    "step_score",
    "texts_match",
]

ACTION_LEVELS = {"unparseable": 0.0, "wrong_type": 0.1, "wrong_args": 0.5, "exact": 1.0}
BOX_SCALE = 1.2
POINT_RADIUS = 0.04
_FLIP = {"up": "down", "down": "up", "left": "right", "right": "left"}

Bounds = tuple[int, int, int, int] | Sequence[float]


def finger_direction(scroll: str) -> str:
    """The finger's direction for a dataset's scroll direction (scrolling down = finger up)."""
    return _FLIP[scroll]


def scroll_direction(finger: str) -> str:
    """The dataset's scroll direction for a finger swipe."""
    return _FLIP[finger]


def point_matches(
    point: tuple[float, float],
    boxes: Sequence[Bounds],
    target: tuple[float, float] | None,
    width: int,
    height: int,
) -> bool:
    """Whether a click at ``point`` hits: inside a box scaled 1.2x, or within 0.04 of ``target``."""
    x, y = point
    for x0, y0, x1, y1 in boxes:
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        hw, hh = (x1 - x0) / 2 * BOX_SCALE, (y1 - y0) / 2 * BOX_SCALE
        if cx - hw <= x <= cx + hw and cy - hh <= y <= cy + hh:
            return True
    if target is not None:
        return math.hypot((x - target[0]) / width, (y - target[1]) / height) <= POINT_RADIUS
    return False


def texts_match(a: str | None, b: str | None) -> bool:
    """Case-insensitive substring match either way, after strip (both empty also match)."""
    a, b = (a or "").strip().lower(), (b or "").strip().lower()
    if not a or not b:
        return a == b
    return a in b or b in a


def action_level(
    predicted: GuiAction | None,
    gold: GuiAction,
    boxes: Sequence[Bounds] = (),
    *,
    width: int,
    height: int,
) -> str:
    """The UI-S1 level of ``predicted`` against ``gold`` (None = the output did not parse)."""
    if predicted is None:
        return "unparseable"
    if predicted.type != gold.type:
        return "wrong_type"
    kind = gold.type
    if kind in ("click", "long_press"):
        ok = predicted.point is not None and point_matches(
            predicted.point, boxes, gold.point, width, height
        )
    elif kind == "swipe":
        ok = predicted.direction == gold.direction
    elif kind in ("type", "answer", "key", "open"):
        ok = texts_match(predicted.text, gold.text)
    elif kind == "system_button":
        ok = predicted.button == gold.button
    else:  # wait, terminate
        ok = True
    return "exact" if ok else "wrong_args"


def step_score(has_thought: bool, level: str) -> float:
    """``0.1*format + 0.9*action``. ref: (True, exact) 1.0; (True, wrong_args) 0.55; (False, wrong_type) 0.09."""
    return 0.1 * float(bool(has_thought)) + 0.9 * ACTION_LEVELS[level]

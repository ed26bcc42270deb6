"""Scripted experts: a task's plan of intents, resolved against the live screen one step at a time.

A plan is a list of :class:`Intent` s ("open Contacts", "tap the row of Ana Lee", "type
'555-0102' into the phone field", "answer '07:30'", "terminate"). :func:`expert_step` turns the
current intent into one concrete :class:`~rewardgym.envs.gui.actions.GuiAction` by looking at
the phone's screen: a row that is not visible is scrolled to first (swipes), a text field is
tapped before typing into it. It also returns the widget box the action targets (the candidate
box the offline dataset stores) and whether the intent is done once the action runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from rewardgym.envs.gui.actions import GuiAction
from rewardgym.envs.gui.phone import Phone
from rewardgym.envs.gui.widgets import Widget

__all__ = ["ExpertStep", "Intent", "expert_step"]

Bounds = tuple[int, int, int, int]


@dataclass(frozen=True)
class Intent:
    """One step of a plan: ``kind`` is open/tap/long_press/type/button/answer/terminate."""

    kind: str
    target: str = ""
    text: str = ""


@dataclass(frozen=True)
class ExpertStep:
    """The expert's next action, the box it aims at (if any), and whether the intent is done."""

    action: GuiAction
    box: Bounds | None
    advances: bool


def _describe(widget: Widget) -> str:
    return widget.text or widget.hint or widget.rid.rpartition(":")[2]


def _scroll_towards(phone: Phone, rid: str) -> ExpertStep | None:
    screen = phone.screen()
    for view in screen.lists.values():
        index = view.position(rid)
        if index is None:
            continue
        finger = "up" if index >= view.offset + view.visible else "down"
        x0, y0, x1, y1 = view.bounds
        row = view.rows[index]
        thought = f"“{row.text}” is not on screen; I swipe {finger} to scroll the list to it."
        action = GuiAction(
            "swipe", x=(x0 + x1) // 2, y=(y0 + y1) // 2, direction=finger, thought=thought
        )
        return ExpertStep(action, None, False)
    return None


def _lost(target: str) -> ExpertStep:
    # The target is on no visible page: the agent strayed (the expert never does); going back
    # is the cheapest way towards the page the plan expects.
    thought = f"I cannot see {target!r} here; I go back."
    return ExpertStep(GuiAction("system_button", button="back", thought=thought), None, False)


def expert_step(phone: Phone, intent: Intent) -> ExpertStep:
    """The concrete action that carries out ``intent`` on the phone's current screen."""
    screen = phone.screen()
    if intent.kind == "open":
        thought = f"I open the {intent.target} app."
        return ExpertStep(GuiAction("open", text=intent.target, thought=thought), None, True)
    if intent.kind in ("tap", "long_press"):
        widget = screen.find(intent.target)
        if widget is None:
            return _scroll_towards(phone, intent.target) or _lost(intent.target)
        verb = "tap" if intent.kind == "tap" else "long-press"
        kind = "click" if intent.kind == "tap" else "long_press"
        x, y = widget.center
        action = GuiAction(kind, x=x, y=y, thought=f"I {verb} “{_describe(widget)}”.")
        return ExpertStep(action, widget.bounds, True)
    if intent.kind == "type":
        focused = screen.focused_field()
        if focused is not None and focused.rid == intent.target:
            thought = f"I type “{intent.text}” into the {focused.hint or 'text'} field."
            return ExpertStep(
                GuiAction("type", text=intent.text, thought=thought), focused.bounds, True
            )
        widget = screen.find(intent.target)
        if widget is None:
            return _scroll_towards(phone, intent.target) or _lost(intent.target)
        x, y = widget.center
        thought = f"I tap the {widget.hint or 'text'} field to type into it."
        return ExpertStep(GuiAction("click", x=x, y=y, thought=thought), widget.bounds, False)
    if intent.kind == "button":
        thought = f"I press the {intent.target} button."
        return ExpertStep(
            GuiAction("system_button", button=intent.target, thought=thought), None, True
        )
    if intent.kind == "answer":
        thought = f"The answer is on screen: {intent.text}."
        return ExpertStep(GuiAction("answer", text=intent.text, thought=thought), None, True)
    if intent.kind == "terminate":
        thought = "The task is done."
        return ExpertStep(GuiAction("terminate", text="success", thought=thought), None, True)
    raise ValueError(f"unknown intent kind {intent.kind!r}")

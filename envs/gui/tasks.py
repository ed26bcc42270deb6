"""The phone's task templates: seeded goals, their expert plans and their success checks.

A template draws its parameters from the phone's seeded content (a contact that exists, an
alarm that is on, the cheapest charger of this seed's prices), may set up the state it needs
("Wi-Fi is off"), and returns a :class:`TaskSpec`: the goal in words, the expert's plan
(:mod:`rewardgym.envs.gui.expert`) and a check that reads the apps' data. A task instance is
``(template, seed)``; its id is ``"<template>#<seed>"``. :func:`make_task` builds one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from rewardgym.envs.gui.apps_people import CalendarApp, ContactsApp, MessagesApp, ShopApp
from rewardgym.envs.gui.apps_system import ClockApp, FilesApp, NotesApp, SettingsApp
from rewardgym.envs.gui.expert import Intent
from rewardgym.envs.gui.phone import Phone

__all__ = [
    "APP_CLASSES",
    "TEMPLATES",
    "TaskSpec",
    "Template",
    "answer_matches",
    "make_task",
    "parse_task_id",
]

#: The phone's apps in launcher order (Contacts before Messages: threads name contacts).
APP_CLASSES = [
    SettingsApp,
    ContactsApp,
    MessagesApp,
    CalendarApp,
    NotesApp,
    ShopApp,
    FilesApp,
    ClockApp,
]

Check = Callable[[Phone], bool]


@dataclass
class TaskSpec:
    """What one task instance asks, how the expert does it, and how success is decided."""

    goal: str
    plan: list[Intent]
    check: Check
    answer: str | None = None


@dataclass(frozen=True)
class Template:
    name: str
    app: str
    build: Callable[[Phone, np.random.Generator], TaskSpec]


TEMPLATES: dict[str, Template] = {}


def register_template(
    name: str, app: str
) -> Callable[[Callable[..., TaskSpec]], Callable[..., TaskSpec]]:
    def register(fn: Callable[..., TaskSpec]) -> Callable[..., TaskSpec]:
        TEMPLATES[name] = Template(name, app, fn)
        return fn

    return register


def parse_task_id(task_id: str) -> tuple[str, int]:
    """``"<template>#<seed>"`` -> (template, seed). Raises ValueError if malformed or unknown."""
    name, sep, seed = task_id.partition("#")
    if not sep or name not in TEMPLATES or not seed.isdigit():
        raise ValueError(
            f"{task_id!r} is not a GUI task id ('<template>#<seed>', template in {sorted(TEMPLATES)[:3]}...)"
        )
    return name, int(seed)


def make_task(template: str, seed: int) -> tuple[Phone, TaskSpec]:
    """A fresh phone for task ``template#seed`` and the task's spec (deterministic)."""
    rng = np.random.default_rng([seed, sum(map(ord, template))])
    phone = Phone(APP_CLASSES, rng)
    spec = TEMPLATES[template].build(phone, rng)
    phone._changed()
    return phone, spec


def answer_matches(expected: str, given: str | None) -> bool:
    """An answer is right if it equals the expected text, or (for texts of 4+ characters)
    contains it, case-insensitively."""
    if given is None:
        return False
    e, g = expected.strip().lower(), given.strip().lower()
    return g == e or (len(e) >= 4 and e in g)


# -- plan shorthands --------------------------------------------------------------------------


def O(app: str) -> Intent:  # noqa: E743 - reads like the plan it spells
    return Intent("open", app)


def T(rid: str) -> Intent:
    return Intent("tap", rid)


def L(rid: str) -> Intent:
    return Intent("long_press", rid)


def Y(rid: str, text: str) -> Intent:
    return Intent("type", rid, text)


def A(text: str) -> Intent:
    return Intent("answer", "", text)


DONE = Intent("terminate")


def pick(rng: np.random.Generator, items: Any) -> Any:
    items = list(items)
    return items[int(rng.integers(len(items)))]


def answered(expected: str) -> Check:
    return lambda p: answer_matches(expected, p.answer)


# The templates register themselves in TEMPLATES when their modules load.
from rewardgym.envs.gui import templates_people, templates_system  # noqa: E402, F401

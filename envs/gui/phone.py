"""The simulated phone: a launcher, the apps, focus, scrolling and the system buttons.

:class:`Phone` holds every app's state and turns the UI-S1 actions (a tap at a point, a
long press, a swipe, typed text, a key, opening an app, back/home/enter) into state changes by
hit-testing the current :class:`~rewardgym.envs.gui.widgets.Screen`. Apps subclass
:class:`App`: they keep their data and a page stack, and describe their current page to a
:class:`~rewardgym.envs.gui.widgets.ScreenBuilder`. Task success is read from the apps' data,
never from the pixels.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import numpy as np

from rewardgym.envs.gui.actions import GuiAction
from rewardgym.envs.gui.widgets import (
    CONTENT_TOP,
    Screen,
    ScreenBuilder,
    Widget,
    accessibility_text,
    render_screen,
)

__all__ = ["SWIPE_DIRECTIONS", "App", "Phone", "slug"]

#: Finger directions of a swipe. Swiping up moves the content up: the list shows later rows.
SWIPE_DIRECTIONS = ("up", "down", "left", "right")


def slug(text: str) -> str:
    """A resource-id-safe form of a name: lower case, runs of other characters as ``_``."""
    return re.sub(r"[^a-z0-9.]+", "_", text.lower()).strip("_")


class App:
    """One app: its data, a page stack (``[(page, arg), ...]``), drafts of its text fields.

    Subclasses set ``name`` and implement :meth:`build`; pages are plain strings and an
    optional argument (the contact shown, the folder opened).
    """

    name: ClassVar[str] = ""

    def __init__(self, phone: Phone) -> None:
        self.phone = phone
        self.stack: list[tuple[str, Any]] = []
        self.draft: dict[str, str] = {}
        self.dialog: tuple[str, Any] | None = None
        self.message = ""  # a one-line notice on the page (e.g. a validation error)

    @property
    def page(self) -> tuple[str, Any]:
        return self.stack[-1] if self.stack else ("main", None)

    def go(self, page: str, arg: Any = None, **draft: str) -> None:
        """Open ``page`` on top of the stack, with fresh field drafts."""
        self.stack.append((page, arg))
        self.draft = dict(draft)
        self.dialog = None
        self.message = ""
        self.phone.focus = None

    def back(self) -> bool:
        """Go back one level (close a dialog, or pop a page); False at the app's main page."""
        self.phone.focus = None
        self.message = ""
        if self.dialog is not None:
            self.dialog = None
            return True
        if self.stack:
            self.stack.pop()
            self.draft = {}
            return True
        return False

    def close_pages(self) -> None:
        """Back to the main page (used when the app is opened from the launcher)."""
        self.stack, self.draft, self.dialog, self.message = [], {}, None, ""

    def type_into(self, field: str, text: str) -> None:
        """Append ``text`` to the draft of ``field`` (a backspace char deletes one)."""
        value = self.draft.get(field, "")
        for ch in text:
            value = value[:-1] if ch == "\b" else value + ch
        self.draft[field] = value

    def build(self, b: ScreenBuilder) -> None:  # pragma: no cover - every app overrides it
        raise NotImplementedError

    def state(self) -> dict[str, Any]:
        """A JSON-able snapshot of the app's data (for tests and task checks' messages)."""
        return {}


class Phone:
    """A phone with the given apps (classes), seeded content, and the current screen.

    Args:
        app_classes: the apps, in launcher order.
        rng: the generator every app draws its content from.
        clock: the time shown in the status bar.
    """

    def __init__(
        self, app_classes: list[type[App]], rng: np.random.Generator, clock: str = "09:41"
    ):
        self.clock = clock
        self.rng = rng
        self.apps: dict[str, App] = {}
        for cls in app_classes:
            self.apps[cls.name] = cls(self)
        self.current: str | None = None
        self.focus: str | None = None
        self.scroll: dict[tuple[str, str, str], int] = {}
        self.answer: str | None = None
        self._screen: Screen | None = None

    # -- views ---------------------------------------------------------------------------------

    def screen(self) -> Screen:
        """The current screen (rebuilt after every state change)."""
        if self._screen is None:
            self._screen = self._build()
        return self._screen

    def a11y(self) -> str:
        return accessibility_text(self.screen())

    def screenshot(self, width: int, height: int) -> np.ndarray:
        return render_screen(self.screen(), width, height, clock=self.clock)

    def app(self, name: str) -> Any:
        return self.apps[name]

    # -- actions (each returns a short description of what happened) ---------------------------

    def tap(self, x: float, y: float) -> str:
        widget = self.screen().hit(x, y)
        if widget is None:
            return "nothing to tap there"
        return self._activate(widget)

    def long_press(self, x: float, y: float) -> str:
        screen = self.screen()
        widget = screen.hit(x, y, long=True)
        if widget is None or widget.on_long is None:
            target = screen.hit(x, y)
            return self._activate(target) if target is not None else "nothing to press there"
        widget.on_long()
        self._changed()
        return f"long-pressed {widget.rid}"

    def swipe(self, direction: str, x: float | None = None, y: float | None = None) -> str:
        """Swipe the finger ``direction``: up shows later rows of the list under the finger."""
        screen = self.screen()
        lists = [lv for lv in screen.lists.values()]
        if x is not None and y is not None:
            under = [lv for lv in lists if _inside(lv.bounds, x, y)]
            lists = under or lists
        if not lists or direction in ("left", "right"):
            return "nothing scrolled"
        view = lists[0]
        key = (screen.app, self._page_key(), view.rid)
        step = max(1, view.visible - 1)
        before = self.scroll.get(key, 0)
        self.scroll[key] = before + (step if direction == "up" else -step)
        self._changed()
        after = min(max(0, self.scroll[key]), max(0, len(view.rows) - view.visible))
        self.scroll[key] = after
        return "scrolled" if after != before else "already at the end of the list"

    def type_text(self, text: str) -> str:
        target = self.screen().focused_field()
        if target is None:
            return "no text field has focus"
        app, _, field = target.rid.partition(":")
        self.apps[app].type_into(field, text)
        self._changed()
        return f"typed into {target.rid}"

    def key(self, name: str) -> str:
        if name in ("enter", "back", "home"):
            return self.system_button(name)
        if name in ("backspace", "del", "delete"):
            return self.type_text("\b")
        return self.type_text(" " if name == "space" else name)

    def system_button(self, name: str) -> str:
        if name == "home":
            self.current, self.focus = None, None
            self._changed()
            return "went home"
        if name == "back":
            if self.current is None:
                return "already home"
            if self.focus is not None:
                self.focus = None  # back first hides the keyboard, as on Android
            elif not self.apps[self.current].back():
                self.current = None
            self._changed()
            return "went back"
        if name == "enter":
            target = self.screen().focused_field()
            if target is not None and target.on_submit is not None:
                target.on_submit()
                self._changed()
                return f"submitted {target.rid}"
            return "enter had no effect"
        raise ValueError(f"unknown system button {name!r}")

    def open_app(self, name: str) -> str:
        self.current = self.resolve_app(name)
        self.focus = None
        self.apps[self.current].close_pages()
        self._changed()
        return f"opened {self.current}"

    def resolve_app(self, name: str) -> str:
        """The app called ``name`` (case-insensitive). Raises KeyError for an unknown app."""
        for app in self.apps:
            if app.lower() == name.strip().lower():
                return app
        raise KeyError(name)

    def perform(self, action: GuiAction) -> str:
        """Carry out one action; returns what happened (``answer`` records the answer text;
        ``terminate`` and ``wait`` change nothing). Raises KeyError for ``open`` of an unknown
        app."""
        kind = action.type
        if kind == "click":
            return self.tap(action.x, action.y)
        if kind == "long_press":
            return self.long_press(action.x, action.y)
        if kind == "swipe":
            return self.swipe(action.direction or "up", action.x, action.y)
        if kind == "type":
            return self.type_text(action.text or "")
        if kind == "key":
            return self.key(action.text or "")
        if kind == "open":
            return self.open_app(action.text or "")
        if kind == "system_button":
            return self.system_button(action.button or "")
        if kind == "answer":
            self.answer = action.text
            return "answered"
        return "waited" if kind == "wait" else "terminated"

    def switch_to(self, app: str, page: str, arg: Any = None) -> None:
        """Open ``app`` at ``page`` (an in-app link, e.g. Contacts' "Message" button)."""
        self.current = app
        self.apps[app].close_pages()
        self.apps[app].go(page, arg)

    # -- internals -----------------------------------------------------------------------------

    def _activate(self, widget: Widget) -> str:
        if widget.editable:
            self.focus = widget.rid
        elif widget.on_click is not None:
            if widget.kind != "key":
                self.focus = None
            widget.on_click()
        self._changed()
        return f"tapped {widget.rid}"

    def _changed(self) -> None:
        self._screen = None

    def _page_key(self) -> str:
        if self.current is None:
            return "home"
        page, arg = self.apps[self.current].page
        return f"{page}/{arg}" if arg is not None else page

    def _type_char(self, char: str) -> None:
        if char == "\n":
            self.system_button("enter")
        else:
            self.type_text(char)

    def _build(self) -> Screen:
        b = ScreenBuilder(
            self.current or "Home",
            focus=self.focus,
            scroll=self.scroll,
            page=self._page_key(),
            type_char=self._type_char,
            navigate=self.system_button,
        )
        if self.current is None:
            b.title("Home")
            for i, name in enumerate(self.apps):
                col, row = i % 4, i // 4
                x0 = 40 + col * 250
                y0 = CONTENT_TOP + 60 + row * 300
                b.widgets.append(
                    Widget("icon", f"launcher:{name}", name, (x0 + 10, y0, x0 + 240, y0 + 260),
                           clickable=True, on_click=lambda n=name: self.open_app(n))
                )  # fmt: skip
        else:
            app = self.apps[self.current]
            app.build(b)
            if app.message:
                b.text("message", app.message)
        return b.build()


def _inside(bounds: tuple[int, int, int, int], x: float, y: float) -> bool:
    return bounds[0] <= x < bounds[2] and bounds[1] <= y < bounds[3]

"""The phone's widget model: what a screen is made of, how it is laid out, drawn and read.

A screen is a flat list of :class:`Widget` s, each with a bounding box in device pixels
(1080x2400, a Pixel-sized portrait phone). Apps never place widgets by hand: they describe a
page to a :class:`ScreenBuilder` (a title bar, buttons, toggles, text fields, one scrolling
list, a dialog) and the builder stacks them down the content area, clips the list to the
rows that fit, adds the on-screen keyboard when a text field has focus and the navigation
bar, and hides whatever a dialog covers. The same :class:`Screen` is drawn to an RGB array by
:func:`render_screen` and written as an AndroidWorld-like accessibility tree by
:func:`accessibility_text`, so the two views always agree.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "DEVICE_HEIGHT",
    "DEVICE_WIDTH",
    "ListView",
    "Row",
    "Screen",
    "ScreenBuilder",
    "Widget",
    "accessibility_text",
    "render_screen",
]

DEVICE_WIDTH = 1080
DEVICE_HEIGHT = 2400
STATUS_H = 80
TITLE_H = 170
CONTENT_TOP = STATUS_H + TITLE_H
NAV_TOP = 2240
KEYBOARD_TOP = 1500
ROW_H = 170
MARGIN = 40
KEY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")

Bounds = tuple[int, int, int, int]
Callback = Callable[[], None]

#: The Android class name each widget kind is reported as in the accessibility tree.
CLASS_NAMES = {
    "text": "android.widget.TextView",
    "button": "android.widget.Button",
    "toggle": "android.widget.Switch",
    "field": "android.widget.EditText",
    "item": "android.widget.LinearLayout",
    "list": "androidx.recyclerview.widget.RecyclerView",
    "key": "android.inputmethodservice.Keyboard$Key",
    "dialog": "android.app.AlertDialog",
    "icon": "android.widget.ImageButton",
    "nav": "android.widget.ImageButton",
}


@dataclass(eq=False)
class Widget:
    """One element on screen; ``rid`` is its stable resource id (``"<app>:<name>"``)."""

    kind: str
    rid: str
    text: str
    bounds: Bounds
    clickable: bool = False
    long_clickable: bool = False
    checked: bool | None = None
    editable: bool = False
    focused: bool = False
    scrollable: bool = False
    hint: str = ""
    on_click: Callback | None = field(default=None, repr=False)
    on_long: Callback | None = field(default=None, repr=False)
    on_submit: Callback | None = field(default=None, repr=False)

    @property
    def center(self) -> tuple[int, int]:
        x0, y0, x1, y1 = self.bounds
        return (x0 + x1) // 2, (y0 + y1) // 2

    def contains(self, x: float, y: float) -> bool:
        x0, y0, x1, y1 = self.bounds
        return x0 <= x < x1 and y0 <= y < y1


@dataclass
class Row:
    """One row of a scrolling list."""

    rid: str
    text: str
    detail: str = ""
    on_click: Callback | None = None
    on_long: Callback | None = None
    checked: bool | None = None


@dataclass
class ListView:
    """Where one scrolling list stands: the rows that exist and the window that shows."""

    rid: str
    rows: list[Row]
    offset: int
    visible: int
    bounds: Bounds

    def position(self, rid: str) -> int | None:
        """The index of the row ``rid`` in the whole list (None if it has no such row)."""
        for i, row in enumerate(self.rows):
            if row.rid == rid:
                return i
        return None


@dataclass
class Screen:
    """Everything on the display at one moment."""

    app: str
    title: str
    widgets: list[Widget]
    lists: dict[str, ListView]
    keyboard: bool = False
    dialog: bool = False

    def find(self, rid: str) -> Widget | None:
        """The visible widget with resource id ``rid``, if any."""
        for widget in self.widgets:
            if widget.rid == rid:
                return widget
        return None

    def hit(self, x: float, y: float, *, long: bool = False) -> Widget | None:
        """The topmost clickable (long-clickable) widget under the point."""
        for widget in reversed(self.widgets):
            if widget.contains(x, y) and (widget.long_clickable if long else widget.clickable):
                return widget
        return None

    def focused_field(self) -> Widget | None:
        for widget in self.widgets:
            if widget.editable and widget.focused:
                return widget
        return None


class ScreenBuilder:
    """Lays out one page of an app from top to bottom (see the module docstring).

    Args:
        app: the app's name (shown in the tree, and the prefix of resource ids).
        focus: the resource id of the focused text field (or None).
        scroll: the phone's list offsets, by ``(app, page, list rid)``; read and clamped here.
        page: the page key of the app's current page (scroll offsets are kept per page).
        type_char: what a keyboard key press does (given the character).
        navigate: ``(button)`` for the navigation bar's back and home.
    """

    def __init__(
        self,
        app: str,
        *,
        focus: str | None,
        scroll: dict[tuple[str, str, str], int],
        page: str,
        type_char: Callable[[str], None],
        navigate: Callable[[str], None],
    ) -> None:
        self.app = app
        self.focus = focus
        self.scroll = scroll
        self.page = page
        self._type_char = type_char
        self._navigate = navigate
        self.widgets: list[Widget] = []
        self.lists: dict[str, ListView] = {}
        self.title_text = app
        self._y = CONTENT_TOP + 20
        self._header_right = DEVICE_WIDTH - MARGIN
        self._dialog: list[Widget] = []

    # -- page content --------------------------------------------------------------------------

    def title(self, text: str) -> None:
        self.title_text = text
        self.widgets.append(
            Widget("text", f"{self.app}:page_title", text, (MARGIN, STATUS_H, 760, CONTENT_TOP))
        )

    def header_button(self, name: str, text: str, on_click: Callback) -> None:
        """A button in the title bar's right end (e.g. "+", "Save"), always visible."""
        width = max(140, 40 * len(text) + 60)
        x1 = self._header_right
        x0 = x1 - width
        self._header_right = x0 - 20
        self.widgets.append(
            Widget("button", f"{self.app}:{name}", text, (x0, STATUS_H + 25, x1, CONTENT_TOP - 25),
                   clickable=True, on_click=on_click)
        )  # fmt: skip

    def text(self, name: str, text: str, height: int = 110) -> None:
        self._add(Widget("text", f"{self.app}:{name}", text, self._band(height)))

    def button(
        self, name: str, text: str, on_click: Callback, on_long: Callback | None = None
    ) -> None:
        self._add(
            Widget("button", f"{self.app}:{name}", text, self._band(150, inset=True),
                   clickable=True, long_clickable=on_long is not None, on_click=on_click,
                   on_long=on_long)
        )  # fmt: skip

    def buttons(
        self, items: list[tuple[str, str, Callback, bool | None]], height: int = 130
    ) -> None:
        """A row of equal buttons: ``(name, text, on_click, checked)`` (checked=None: plain)."""
        x0, y0, x1, y1 = self._band(height, inset=True)
        width = (x1 - x0) // max(1, len(items))
        for i, (name, text, on_click, checked) in enumerate(items):
            kind = "button" if checked is None else "toggle"
            self._add(
                Widget(kind, f"{self.app}:{name}", text, (x0 + i * width + 6, y0, x0 + (i + 1) * width - 6, y1),
                       clickable=True, checked=checked, on_click=on_click)
            )  # fmt: skip

    def toggle(self, name: str, label: str, value: bool, on_change: Callable[[bool], None]) -> None:
        self._add(
            Widget("toggle", f"{self.app}:{name}", label, self._band(ROW_H), clickable=True,
                   checked=value, on_click=lambda: on_change(not value))
        )  # fmt: skip

    def field(
        self,
        name: str,
        label: str,
        value: str,
        on_submit: Callback | None = None,
        on_clear: Callback | None = None,
    ) -> None:
        """A text field; tapping it focuses it (the keyboard opens), typing appends to it.

        With ``on_clear`` an "×" button (``<name>_clear``) beside it empties it.
        """
        rid = f"{self.app}:{name}"
        self.text(f"{name}_label", label, height=70)
        x0, y0, x1, y1 = self._band(140, inset=True)
        if on_clear is not None:
            self._add(
                Widget("button", f"{rid}_clear", "×", (x1 - 140, y0, x1, y1), clickable=True,
                       on_click=on_clear)
            )  # fmt: skip
            x1 -= 160
        self._add(
            Widget("field", rid, value, (x0, y0, x1, y1), clickable=True, editable=True,
                   focused=self.focus == rid, hint=label, on_submit=on_submit)
        )  # fmt: skip

    def list(self, name: str, rows: list[Row], bottom: int | None = None) -> None:
        """A vertical list filling the rest of the content area; it scrolls by swipes."""
        rid = f"{self.app}:{name}"
        limit = bottom or (KEYBOARD_TOP if self.focus else NAV_TOP)
        top = self._y
        visible = max(1, (limit - top) // ROW_H)
        key = (self.app, self.page, rid)
        offset = min(max(0, self.scroll.get(key, 0)), max(0, len(rows) - visible))
        self.scroll[key] = offset
        bounds = (0, top, DEVICE_WIDTH, top + visible * ROW_H)
        self.lists[rid] = ListView(rid, rows, offset, visible, bounds)
        self.widgets.append(Widget("list", rid, "", bounds, scrollable=len(rows) > visible))
        for i, row in enumerate(rows[offset : offset + visible]):
            y0 = top + i * ROW_H
            label = row.text + (f" · {row.detail}" if row.detail else "")
            self.widgets.append(
                Widget("item" if row.checked is None else "toggle", row.rid, label,
                       (MARGIN, y0 + 8, DEVICE_WIDTH - MARGIN, y0 + ROW_H - 8),
                       clickable=row.on_click is not None, long_clickable=row.on_long is not None,
                       checked=row.checked, on_click=row.on_click, on_long=row.on_long)
            )  # fmt: skip
        self._y = bounds[3] + 10

    def dialog(self, title: str, message: str, buttons: list[tuple[str, str, Callback]]) -> None:
        """A modal dialog: while it shows, only its own widgets can be seen or touched."""
        top = 900 - 40 * max(0, len(buttons) - 2)
        height = 260 + 150 * ((len(buttons) + 1) // 2)
        box = (90, top, DEVICE_WIDTH - 90, top + height)
        widgets = [
            Widget("dialog", f"{self.app}:dialog", title, box),
            Widget("text", f"{self.app}:dialog_message", message, (130, top + 100, 950, top + 200)),
        ]
        per_row = 2
        width = (box[2] - box[0] - 80) // per_row
        for i, (name, text, on_click) in enumerate(buttons):
            col, line = i % per_row, i // per_row
            x0 = box[0] + 40 + col * width
            y0 = top + 230 + line * 150
            widgets.append(
                Widget("button", f"{self.app}:{name}", text, (x0 + 6, y0, x0 + width - 6, y0 + 120),
                       clickable=True, on_click=on_click)
            )  # fmt: skip
        self._dialog = widgets

    # -- assembly ------------------------------------------------------------------------------

    def build(self) -> Screen:
        """The finished screen: page widgets, keyboard, navigation bar (or the dialog alone)."""
        widgets = list(self.widgets)
        keyboard = self.focus is not None and any(w.rid == self.focus for w in widgets)
        if keyboard:
            widgets = [w for w in widgets if w.bounds[1] < KEYBOARD_TOP or w.kind == "list"]
            widgets += self._keyboard()
        if self._dialog:
            widgets = self._dialog
        widgets += self._nav()
        rids = [w.rid for w in widgets]
        if len(set(rids)) != len(rids):
            raise RuntimeError(
                f"duplicate resource ids on one screen: {sorted({r for r in rids if rids.count(r) > 1})}"
            )
        return Screen(self.app, self.title_text, widgets, self.lists, keyboard, bool(self._dialog))

    def _keyboard(self) -> list[Widget]:
        keys: list[Widget] = [
            Widget("list", "keyboard", "", (0, KEYBOARD_TOP, DEVICE_WIDTH, NAV_TOP))
        ]
        key_w, key_h = DEVICE_WIDTH // 10, 170
        for r, letters in enumerate(KEY_ROWS):
            x_start = (DEVICE_WIDTH - key_w * len(letters)) // 2
            y0 = KEYBOARD_TOP + 20 + r * key_h
            for i, ch in enumerate(letters):
                x0 = x_start + i * key_w
                keys.append(
                    self._key(f"key:{ch}", ch, (x0 + 6, y0 + 8, x0 + key_w - 6, y0 + key_h - 8), ch)
                )
        y0 = KEYBOARD_TOP + 20 + 3 * key_h
        for name, label, x0, x1, char in (
            ("key:del", "⌫", 20, 200, "\b"),
            ("key:space", "space", 220, 760, " "),
            ("key:enter", "enter", 780, 1060, "\n"),
        ):
            keys.append(self._key(name, label, (x0, y0 + 8, x1, y0 + key_h - 8), char))
        return keys  # fmt: skip

    def _key(self, rid: str, label: str, bounds: Bounds, char: str) -> Widget:
        return Widget(
            "key", rid, label, bounds, clickable=True, on_click=lambda: self._type_char(char)
        )

    def _nav(self) -> list[Widget]:
        return [
            Widget("nav", "nav:back", "Back", (120, NAV_TOP + 20, 420, DEVICE_HEIGHT - 20),
                   clickable=True, on_click=lambda: self._navigate("back")),
            Widget("nav", "nav:home", "Home", (660, NAV_TOP + 20, 960, DEVICE_HEIGHT - 20),
                   clickable=True, on_click=lambda: self._navigate("home")),
        ]  # fmt: skip

    def _band(self, height: int, inset: bool = False) -> Bounds:
        x0 = MARGIN + (20 if inset else 0)
        bounds = (x0, self._y, DEVICE_WIDTH - x0, self._y + height)
        self._y += height + 16
        return bounds

    def _add(self, widget: Widget) -> None:
        self.widgets.append(widget)


# -- the accessibility tree ---------------------------------------------------------------------


def accessibility_text(screen: Screen) -> str:
    """The screen as an AndroidWorld-like list of UI elements, one JSON object a line.

    Lines read ``UI element <i>: {...}`` with ``text``, ``class_name``, ``resource_id``,
    ``bbox`` ([x0, y0, x1, y1] in device pixels) and the flags that are set (``clickable``,
    ``long_clickable``, ``editable``, ``focused``, ``scrollable``, ``checked``).
    """
    lines = [f"Current app: {screen.app} — {screen.title}"]
    for i, widget in enumerate(screen.widgets):
        element: dict[str, Any] = {
            "text": widget.text,
            "class_name": CLASS_NAMES[widget.kind],
            "resource_id": widget.rid,
            "bbox": list(widget.bounds),
        }
        if widget.hint and widget.editable:
            element["hint"] = widget.hint
        for flag in ("clickable", "long_clickable", "editable", "focused", "scrollable"):
            if getattr(widget, flag):
                element[flag] = True
        if widget.checked is not None:
            element["checked"] = widget.checked
        lines.append(f"UI element {i}: {json.dumps(element, ensure_ascii=False)}")
    return "\n".join(lines)


# -- drawing ------------------------------------------------------------------------------------

_COLORS = {
    "background": (250, 250, 252),
    "status": (32, 33, 36),
    "title": (232, 240, 254),
    "button": (26, 115, 232),
    "button_text": (255, 255, 255),
    "item": (255, 255, 255),
    "item_line": (218, 220, 224),
    "text": (32, 33, 36),
    "muted": (95, 99, 104),
    "field": (241, 243, 244),
    "focus": (26, 115, 232),
    "on": (30, 142, 62),
    "off": (189, 193, 198),
    "keyboard": (225, 227, 230),
    "key": (255, 255, 255),
    "dim": (60, 64, 67),
    "dialog": (255, 255, 255),
    "nav": (241, 243, 244),
}
_FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
)


@functools.lru_cache(maxsize=32)
def _font(size: int) -> Any:
    from PIL import ImageFont

    for path in _FONT_FILES:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


@functools.lru_cache(maxsize=4096)
def _text_mask(text: str, size: int) -> Any:
    """``text`` drawn once as an 8-bit coverage mask (glyph rendering is most of a frame's cost;
    screens repeat their labels, so masks are cached and pasted)."""
    from PIL import Image, ImageDraw

    font = _font(size)
    width = max(1, int(font.getlength(text)) + 2)
    mask = Image.new("L", (width, int(size * 1.3) + 2), 0)
    ImageDraw.Draw(mask).text((0, 0), text, fill=255, font=font)
    return mask


def render_screen(screen: Screen, width: int, height: int, *, clock: str = "12:00") -> np.ndarray:
    """Draw ``screen`` as a ``(height, width, 3)`` uint8 RGB array (PIL, no PNG encoding)."""
    from PIL import Image, ImageDraw

    sx, sy = width / DEVICE_WIDTH, height / DEVICE_HEIGHT
    image = Image.new("RGB", (width, height), _COLORS["background"])
    draw = ImageDraw.Draw(image)
    font = _font(max(6, round(44 * min(sx, sy) * 1.0)))
    small = _font(max(5, round(34 * min(sx, sy))))

    def box(b: Bounds) -> tuple[int, int, int, int]:
        return (round(b[0] * sx), round(b[1] * sy), round(b[2] * sx) - 1, round(b[3] * sy) - 1)

    def label(
        b: Bounds, text: str, fill: tuple[int, int, int], f: Any = font, center: bool = False
    ) -> None:
        x0, y0, x1, y1 = box(b)
        if not text:
            return
        max_chars = max(1, int((x1 - x0) / max(1.0, f.size * 0.55)))
        if len(text) > max_chars:
            text = text[: max_chars - 1] + "…"
        mask = _text_mask(text, f.size)
        x = (x0 + x1 - mask.width) / 2 if center else x0 + 12 * sx
        image.paste(fill, (round(x), round((y0 + y1 - f.size) / 2)), mask)

    draw.rectangle(box((0, 0, DEVICE_WIDTH, STATUS_H)), fill=_COLORS["status"])
    label((0, 0, 400, STATUS_H), clock, (255, 255, 255), small)
    draw.rectangle(box((0, STATUS_H, DEVICE_WIDTH, CONTENT_TOP)), fill=_COLORS["title"])
    if screen.dialog:
        draw.rectangle(box((0, CONTENT_TOP, DEVICE_WIDTH, NAV_TOP)), fill=_COLORS["dim"])
    for widget in screen.widgets:
        b, kind = widget.bounds, widget.kind
        if kind == "list":
            if widget.rid == "keyboard":
                draw.rectangle(box(b), fill=_COLORS["keyboard"])
            continue
        if kind == "text":
            is_title = widget.rid.endswith(":page_title")
            label(
                b,
                widget.text,
                _COLORS["text"] if is_title else _COLORS["muted"],
                font if is_title else small,
            )
        elif kind in ("button", "icon"):
            draw.rounded_rectangle(box(b), radius=max(1, round(24 * sx)), fill=_COLORS["button"])
            label(b, widget.text, _COLORS["button_text"], font, center=True)
        elif kind == "item":
            draw.rectangle(box(b), fill=_COLORS["item"], outline=_COLORS["item_line"])
            label(b, widget.text, _COLORS["text"])
        elif kind == "toggle" and b[2] - b[0] < 600:  # a chip (day of week, tab, sort order)
            fill = _COLORS["on"] if widget.checked else _COLORS["field"]
            draw.rounded_rectangle(
                box(b), radius=max(1, round(30 * sx)), fill=fill, outline=_COLORS["item_line"]
            )
            label(
                b,
                widget.text,
                (255, 255, 255) if widget.checked else _COLORS["text"],
                small,
                center=True,
            )
        elif kind == "toggle":
            draw.rectangle(box(b), fill=_COLORS["item"], outline=_COLORS["item_line"])
            label((b[0], b[1], b[2] - 200, b[3]), widget.text, _COLORS["text"])
            cy = (b[1] + b[3]) // 2
            knob = (b[2] - 190, cy - 35, b[2] - 40, cy + 35)
            draw.rounded_rectangle(box(knob), radius=max(1, round(35 * sy)),
                                   fill=_COLORS["on"] if widget.checked else _COLORS["off"])  # fmt: skip
            kx = knob[2] - 70 if widget.checked else knob[0]
            draw.ellipse(box((kx, cy - 35, kx + 70, cy + 35)), fill=(255, 255, 255))
        elif kind == "field":
            outline = _COLORS["focus"] if widget.focused else _COLORS["item_line"]
            draw.rectangle(
                box(b), fill=_COLORS["field"], outline=outline, width=max(1, round(4 * sx))
            )
            label(
                b, widget.text or widget.hint, _COLORS["text"] if widget.text else _COLORS["muted"]
            )
        elif kind == "key":
            draw.rounded_rectangle(box(b), radius=max(1, round(12 * sx)), fill=_COLORS["key"])
            label(b, widget.text, _COLORS["text"], small, center=True)
        elif kind == "dialog":
            draw.rounded_rectangle(box(b), radius=max(1, round(30 * sx)), fill=_COLORS["dialog"])
            label((b[0], b[1], b[2], b[1] + 100), widget.text, _COLORS["text"])
        elif kind == "nav":
            draw.rectangle(box((0, NAV_TOP, DEVICE_WIDTH, DEVICE_HEIGHT)), fill=_COLORS["nav"])
    for widget in screen.widgets:  # the nav bar's labels go over its background
        if widget.kind == "nav":
            label(
                widget.bounds,
                "◀" if widget.rid == "nav:back" else "●",
                _COLORS["muted"],
                font,
                center=True,
            )
    return np.asarray(image, dtype=np.uint8)

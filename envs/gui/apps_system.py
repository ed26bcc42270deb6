"""The phone's system apps: Settings, Clock, Files and Notes (seeded content, page by page)."""

from __future__ import annotations

import re
from typing import Any

from rewardgym.envs.gui.phone import App, Phone, slug
from rewardgym.envs.gui.widgets import Row, ScreenBuilder

__all__ = ["DAYS", "SETTINGS_TOGGLES", "ClockApp", "FilesApp", "NotesApp", "SettingsApp"]

SETTINGS_TOGGLES = (
    "Wi-Fi", "Bluetooth", "Airplane mode", "Mobile data", "Hotspot", "NFC", "Location",
    "Dark theme", "Do not disturb", "Battery saver", "Auto-rotate",
)  # fmt: skip
FONT_SIZES = ("Small", "Default", "Large")
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def valid_time(text: str) -> str | None:
    """``HH:MM`` (24 h) normalised, or None if ``text`` is not a time."""
    text = text.strip()
    if re.fullmatch(r"\d:[0-5]\d", text):
        text = "0" + text
    return text if _TIME.match(text) else None


class SettingsApp(App):
    """Quick toggles (a list longer than the screen), Display, Sound and About pages."""

    name = "Settings"

    def __init__(self, phone: Phone) -> None:
        super().__init__(phone)
        rng = phone.rng
        self.toggles = {name: bool(rng.random() < 0.5) for name in SETTINGS_TOGGLES}
        self.brightness = int(rng.integers(2, 9)) * 10
        self.font_size = "Default"
        self.volume = int(rng.integers(2, 9))
        self.vibrate = bool(rng.random() < 0.5)
        self.phone_number = f"555-{int(rng.integers(1000, 10000)):04d}"
        self.model = str(rng.choice(["Pixel 7", "Pixel 8", "Pixel 8 Pro", "Pixel Fold"]))

    def set_toggle(self, name: str, value: bool) -> None:
        self.toggles[name] = value

    def build(self, b: ScreenBuilder) -> None:
        page, _ = self.page
        if page == "display":
            b.title("Display")
            b.text("brightness_value", f"Brightness: {self.brightness}%")
            b.buttons([
                ("brightness_down", "−", lambda: self._brightness(-10), None),
                ("brightness_up", "+", lambda: self._brightness(10), None),
            ])  # fmt: skip
            b.text("font_label", "Font size")
            b.buttons([
                (f"font/{size.lower()}", size, lambda s=size: setattr(self, "font_size", s),
                 self.font_size == size) for size in FONT_SIZES
            ])  # fmt: skip
        elif page == "sound":
            b.title("Sound")
            b.text("volume_value", f"Ring volume: {self.volume}")
            b.buttons([
                ("volume_down", "−", lambda: self._volume(-1), None),
                ("volume_up", "+", lambda: self._volume(1), None),
            ])  # fmt: skip
            b.toggle(
                "vibrate", "Vibrate on ring", self.vibrate, lambda v: setattr(self, "vibrate", v)
            )
        elif page == "about":
            b.title("About phone")
            b.text("model", f"Model: {self.model}")
            b.text("android", "Android version: 14")
            b.text("number", f"Phone number: {self.phone_number}")
        else:
            b.title("Settings")
            rows = [
                Row(f"Settings:toggle/{slug(name)}", name, checked=value,
                    on_click=lambda n=name: self.set_toggle(n, not self.toggles[n]))
                for name, value in self.toggles.items()
            ]  # fmt: skip
            for page_name, label in (
                ("display", "Display"),
                ("sound", "Sound"),
                ("about", "About phone"),
            ):
                rows.append(
                    Row(f"Settings:{page_name}", label, on_click=lambda p=page_name: self.go(p))
                )
            b.list("items", rows)

    def _brightness(self, delta: int) -> None:
        self.brightness = min(100, max(0, self.brightness + delta))

    def _volume(self, delta: int) -> None:
        self.volume = min(10, max(0, self.volume + delta))

    def state(self) -> dict[str, Any]:
        return {"toggles": dict(self.toggles), "brightness": self.brightness,
                "font_size": self.font_size, "volume": self.volume, "vibrate": self.vibrate}  # fmt: skip


class ClockApp(App):
    """Alarms (toggle, long press to delete, a form with day chips) and a timer."""

    name = "Clock"

    def __init__(self, phone: Phone) -> None:
        super().__init__(phone)
        rng = phone.rng
        times = sorted(
            {
                f"{int(h):02d}:{int(m) * 15:02d}"
                for h, m in zip(rng.integers(5, 11, 4), rng.integers(0, 4, 4))
            }
        )
        self.alarms: list[dict[str, Any]] = [
            {"time": t, "days": sorted(int(d) for d in rng.choice(7, size=int(rng.integers(0, 4)), replace=False)),
             "enabled": bool(rng.random() < 0.7), "label": ""}
            for t in times
        ]  # fmt: skip
        self.tab = "alarms"
        self.timer_minutes: int | None = None
        self.new_days: set[int] = set()

    def alarm(self, time: str) -> dict[str, Any] | None:
        return next((a for a in self.alarms if a["time"] == time), None)

    def build(self, b: ScreenBuilder) -> None:
        page, _ = self.page
        if page == "new_alarm":
            b.title("New alarm")
            b.header_button("save", "Save", self._save_alarm)
            b.field("time", "Time (HH:MM)", self.draft.get("time", ""))
            b.text("repeat_label", "Repeat")
            b.buttons([
                (f"day/{DAYS[d].lower()}", DAYS[d][:2], lambda d=d: self._toggle_day(d), d in self.new_days)
                for d in range(7)
            ])  # fmt: skip
            b.field("label", "Label", self.draft.get("label", ""))
            return
        b.title("Clock")
        b.buttons([
            ("tab/alarms", "Alarms", lambda: setattr(self, "tab", "alarms"), self.tab == "alarms"),
            ("tab/timer", "Timer", lambda: setattr(self, "tab", "timer"), self.tab == "timer"),
        ])  # fmt: skip
        if self.tab == "timer":
            b.field(
                "minutes", "Minutes", self.draft.get("minutes", ""), on_submit=self._start_timer
            )
            b.button("start", "Start", self._start_timer)
            if self.timer_minutes is not None:
                b.text("timer_state", f"Timer running: {self.timer_minutes} min")
            return
        b.header_button("add", "+", self._new_alarm)
        rows = [
            Row(f"Clock:alarm/{a['time']}", a["time"],
                " ".join(DAYS[d] for d in a["days"]) or "Once", checked=a["enabled"],
                on_click=lambda a=a: a.__setitem__("enabled", not a["enabled"]),
                on_long=lambda a=a: setattr(self, "dialog", ("delete", a["time"])))
            for a in sorted(self.alarms, key=lambda a: a["time"])
        ]  # fmt: skip
        b.list("alarms", rows)
        if self.dialog is not None:
            time = self.dialog[1]
            b.dialog("Delete alarm?", f"The {time} alarm will be removed.", [
                ("dialog_cancel", "Cancel", self._close_dialog),
                ("dialog_delete", "Delete", lambda: self._delete_alarm(time)),
            ])  # fmt: skip

    def _close_dialog(self) -> None:
        self.dialog = None

    def _new_alarm(self) -> None:
        self.new_days = set()
        self.go("new_alarm")

    def _toggle_day(self, day: int) -> None:
        self.new_days ^= {day}

    def _save_alarm(self) -> None:
        time = valid_time(self.draft.get("time", ""))
        if time is None:
            self.message = "Enter the time as HH:MM"
            return
        if self.alarm(time) is not None:
            self.alarms.remove(self.alarm(time))
        self.alarms.append({"time": time, "days": sorted(self.new_days), "enabled": True,
                            "label": self.draft.get("label", "").strip()})  # fmt: skip
        self.back()

    def _delete_alarm(self, time: str) -> None:
        self.alarms = [a for a in self.alarms if a["time"] != time]
        self.dialog = None

    def _start_timer(self) -> None:
        text = self.draft.get("minutes", "").strip()
        if text.isdigit() and 0 < int(text) <= 999:
            self.timer_minutes = int(text)
            self.phone.focus = None
        else:
            self.message = "Enter the minutes as a number"

    def state(self) -> dict[str, Any]:
        return {"alarms": [dict(a) for a in self.alarms], "timer_minutes": self.timer_minutes}


FOLDER_FILES = {
    "Documents": ["budget_2025.xlsx", "cv.pdf", "lease.pdf", "notes.txt", "report_q3.docx",
                  "recipes.pdf", "tax_return.pdf", "thesis_draft.docx"],
    "Downloads": ["app_installer.apk", "boarding_pass.pdf", "invoice_1042.pdf", "map.png",
                  "song.mp3", "ticket.pdf", "wallpaper.jpg"],
    "Pictures": ["beach.jpg", "birthday.jpg", "cat.png", "hiking.jpg", "receipt.jpg",
                 "screenshot_01.png", "sunset.jpg"],
    "Music": ["demo.mp3", "podcast_ep12.mp3", "ringtone.ogg", "voice_memo.m4a"],
}  # fmt: skip


class FilesApp(App):
    """Folders of files; long press a file to delete it or move it to another folder."""

    name = "Files"

    def __init__(self, phone: Phone) -> None:
        super().__init__(phone)
        rng = phone.rng
        self.folders: dict[str, list[str]] = {}
        for folder, names in FOLDER_FILES.items():
            keep = rng.random(len(names)) < 0.75
            self.folders[folder] = sorted(n for n, k in zip(names, keep) if k) or [names[0]]

    def build(self, b: ScreenBuilder) -> None:
        page, arg = self.page
        if page == "new_folder":
            b.title("New folder")
            b.header_button("save", "Save", self._create)
            b.field(
                "folder_name",
                "Folder name",
                self.draft.get("folder_name", ""),
                on_submit=self._create,
            )
            return
        if page == "file":
            b.title(arg[1])
            b.text("location", f"In {arg[0]}")
            return
        if page == "folder":
            folder = arg
            b.title(folder)
            rows = [
                Row(f"Files:file/{slug(name)}", name, on_click=lambda n=name: self.go("file", (folder, n)),
                    on_long=lambda n=name: setattr(self, "dialog", ("file", (folder, n))))
                for name in self.folders.get(folder, [])
            ]  # fmt: skip
            b.list("files", rows)
            if self.dialog is not None:
                kind, (src, name) = self.dialog
                if kind == "file":
                    b.dialog(name, "Choose an action", [
                        ("dialog_delete", "Delete", lambda: self._delete(src, name)),
                        ("dialog_move", "Move", lambda: setattr(self, "dialog", ("move", (src, name)))),
                        ("dialog_cancel", "Cancel", self._close_dialog),
                    ])  # fmt: skip
                else:
                    targets = [f for f in self.folders if f != src]
                    b.dialog(f"Move {name} to", "Choose a folder", [
                        *((f"move/{slug(f)}", f, lambda f=f: self._move(src, name, f)) for f in targets),
                        ("dialog_cancel", "Cancel", self._close_dialog),
                    ])  # fmt: skip
            return
        b.title("Files")
        b.header_button("new_folder", "New folder", lambda: self.go("new_folder"))
        rows = [
            Row(f"Files:folder/{slug(f)}", f, f"{len(files)} files", on_click=lambda f=f: self.go("folder", f))
            for f, files in self.folders.items()
        ]  # fmt: skip
        b.list("folders", rows)

    def _close_dialog(self) -> None:
        self.dialog = None

    def _delete(self, folder: str, name: str) -> None:
        self.folders[folder] = [n for n in self.folders[folder] if n != name]
        self.dialog = None

    def _move(self, src: str, name: str, dst: str) -> None:
        self.folders[src] = [n for n in self.folders[src] if n != name]
        self.folders[dst] = sorted({*self.folders[dst], name})
        self.dialog = None

    def _create(self) -> None:
        name = self.draft.get("folder_name", "").strip()
        if not name or name in self.folders:
            self.message = "Enter a new folder name"
            return
        self.folders[name] = []
        self.back()

    def state(self) -> dict[str, Any]:
        return {"folders": {k: list(v) for k, v in self.folders.items()}}


NOTE_SEEDS = (
    ("Groceries", "milk, eggs, bread"), ("Ideas", "a garden app"), ("Packing", "charger, socks"),
    ("Books", "Dune, Emma"), ("Wifi code", "guest-4417"), ("Gift ideas", "scarf for mum"),
    ("Recipes", "lentil soup"), ("Workout", "3x10 squats"), ("Travel", "Lisbon in May"),
    ("Meeting", "ask about budget"), ("Garden", "water tomatoes"), ("Car", "oil change 40k"),
)  # fmt: skip


class NotesApp(App):
    """Notes with a title and a body: create, edit (append), long press to delete."""

    name = "Notes"

    def __init__(self, phone: Phone) -> None:
        super().__init__(phone)
        rng = phone.rng
        picks = rng.permutation(len(NOTE_SEEDS))[: int(rng.integers(5, 10))]
        self.notes: list[dict[str, str]] = [
            dict(zip(("title", "body"), NOTE_SEEDS[int(i)])) for i in picks
        ]

    def note(self, title: str) -> dict[str, str] | None:
        return next((n for n in self.notes if n["title"] == title), None)

    def build(self, b: ScreenBuilder) -> None:
        page, arg = self.page
        if page == "new":
            b.title("New note")
            b.header_button("save", "Save", self._save_new)
            b.field("title", "Title", self.draft.get("title", ""))
            b.field("body", "Note", self.draft.get("body", ""))
            return
        if page == "note":
            b.title(arg)
            b.header_button("save", "Save", lambda: self._save_body(arg))
            b.field("body", "Note", self.draft.get("body", ""))
            return
        b.title("Notes")
        b.header_button("add", "+", lambda: self.go("new"))
        rows = [
            Row(f"Notes:note/{slug(n['title'])}", n["title"], n["body"][:24],
                on_click=lambda n=n: self.go("note", n["title"], body=n["body"]),
                on_long=lambda n=n: setattr(self, "dialog", ("delete", n["title"])))
            for n in self.notes
        ]  # fmt: skip
        b.list("notes", rows)
        if self.dialog is not None:
            title = self.dialog[1]
            b.dialog("Delete note?", title, [
                ("dialog_cancel", "Cancel", self._close_dialog),
                ("dialog_delete", "Delete", lambda: self._delete(title)),
            ])  # fmt: skip

    def _close_dialog(self) -> None:
        self.dialog = None

    def _save_new(self) -> None:
        title = self.draft.get("title", "").strip()
        if not title:
            self.message = "A note needs a title"
            return
        self.notes.insert(0, {"title": title, "body": self.draft.get("body", "")})
        self.back()

    def _save_body(self, title: str) -> None:
        note = self.note(title)
        if note is not None:
            note["body"] = self.draft.get("body", "")
        self.back()

    def _delete(self, title: str) -> None:
        self.notes = [n for n in self.notes if n["title"] != title]
        self.dialog = None

    def state(self) -> dict[str, Any]:
        return {"notes": [dict(n) for n in self.notes]}

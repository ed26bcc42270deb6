"""Task templates of the system apps: Settings, Notes, Files and Clock (see :mod:`.tasks`)."""

from __future__ import annotations

import numpy as np

from rewardgym.envs.gui.apps_system import DAYS, SETTINGS_TOGGLES
from rewardgym.envs.gui.phone import Phone, slug
from rewardgym.envs.gui.tasks import (
    DONE,
    A,
    Check,
    Intent,
    L,
    O,
    T,
    TaskSpec,
    Y,
    answered,
    pick,
    register_template,
)

# -- Settings ---------------------------------------------------------------------------------


def toggle_rid(name: str) -> str:
    return f"Settings:toggle/{slug(name)}"


@register_template("settings.turn_on", "Settings")
def _settings_on(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    name = pick(rng, SETTINGS_TOGGLES)
    phone.app("Settings").toggles[name] = False
    return TaskSpec(f"Turn on {name}.", [O("Settings"), T(toggle_rid(name)), DONE],
                    lambda p: p.app("Settings").toggles[name])  # fmt: skip


@register_template("settings.turn_off", "Settings")
def _settings_off(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    name = pick(rng, SETTINGS_TOGGLES)
    phone.app("Settings").toggles[name] = True
    return TaskSpec(f"Turn off {name}.", [O("Settings"), T(toggle_rid(name)), DONE],
                    lambda p: not p.app("Settings").toggles[name])  # fmt: skip


@register_template("settings.two_toggles", "Settings")
def _settings_two(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    on, off = (SETTINGS_TOGGLES[int(i)] for i in rng.permutation(len(SETTINGS_TOGGLES))[:2])
    toggles = phone.app("Settings").toggles
    toggles[on], toggles[off] = False, True
    return TaskSpec(
        f"Turn on {on} and turn off {off}.",
        [O("Settings"), T(toggle_rid(on)), T(toggle_rid(off)), DONE],
        lambda p: p.app("Settings").toggles[on] and not p.app("Settings").toggles[off],
    )


@register_template("settings.brightness", "Settings")
def _settings_brightness(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    app = phone.app("Settings")
    target = pick(rng, [v for v in range(0, 101, 10) if 0 < abs(v - app.brightness) <= 50])
    presses = abs(target - app.brightness) // 10
    button = "Settings:brightness_up" if target > app.brightness else "Settings:brightness_down"
    return TaskSpec(f"Set the screen brightness to {target}%.",
                    [O("Settings"), T("Settings:display"), *[T(button)] * presses, DONE],
                    lambda p: p.app("Settings").brightness == target)  # fmt: skip


@register_template("settings.font_size", "Settings")
def _settings_font(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    size = pick(rng, ["Small", "Large"])
    return TaskSpec(f"Make the font size {size.lower()}.",
                    [O("Settings"), T("Settings:display"), T(f"Settings:font/{size.lower()}"), DONE],
                    lambda p: p.app("Settings").font_size == size)  # fmt: skip


@register_template("settings.volume", "Settings")
def _settings_volume(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    app = phone.app("Settings")
    target = pick(rng, [v for v in range(11) if 0 < abs(v - app.volume) <= 4])
    button = "Settings:volume_up" if target > app.volume else "Settings:volume_down"
    return TaskSpec(f"Set the ring volume to {target}.",
                    [O("Settings"), T("Settings:sound"), *[T(button)] * abs(target - app.volume), DONE],
                    lambda p: p.app("Settings").volume == target)  # fmt: skip


@register_template("settings.vibrate", "Settings")
def _settings_vibrate(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    want = not phone.app("Settings").vibrate
    return TaskSpec(f"Turn {'on' if want else 'off'} vibrate on ring.",
                    [O("Settings"), T("Settings:sound"), T("Settings:vibrate"), DONE],
                    lambda p: p.app("Settings").vibrate == want)  # fmt: skip


@register_template("settings.phone_number", "Settings")
def _settings_number(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    number = phone.app("Settings").phone_number
    return TaskSpec("What is this phone's own phone number?",
                    [O("Settings"), T("Settings:about"), A(number), DONE], answered(number), number)  # fmt: skip


# -- Notes ------------------------------------------------------------------------------------

NEW_NOTES = (("Shopping", "apples and rice"), ("Call list", "mum, dentist"), ("Passwords", "ask IT"),
             ("Weekend", "hike on Saturday"), ("Birthday", "order a cake"))  # fmt: skip


def note_rid(title: str) -> str:
    return f"Notes:note/{slug(title)}"


@register_template("notes.create", "Notes")
def _notes_create(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    title, body = pick(rng, NEW_NOTES)
    plan = [
        O("Notes"),
        T("Notes:add"),
        Y("Notes:title", title),
        Y("Notes:body", body),
        T("Notes:save"),
        DONE,
    ]
    return TaskSpec(f"Create a note titled '{title}' that says '{body}'.", plan,
                    lambda p: (p.app("Notes").note(title) or {}).get("body", "").strip() == body)  # fmt: skip


@register_template("notes.delete", "Notes")
def _notes_delete(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    title = pick(rng, phone.app("Notes").notes)["title"]
    return TaskSpec(f"Delete the note '{title}'.",
                    [O("Notes"), L(note_rid(title)), T("Notes:dialog_delete"), DONE],
                    lambda p: p.app("Notes").note(title) is None)  # fmt: skip


@register_template("notes.append", "Notes")
def _notes_append(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    note = pick(rng, phone.app("Notes").notes)
    title, extra = note["title"], pick(rng, ["and tea", "ask Bob", "by Friday", "urgent"])
    want = f"{note['body']} {extra}"
    return TaskSpec(f"Add '{extra}' to the end of the note '{title}'.",
                    [O("Notes"), T(note_rid(title)), Y("Notes:body", f" {extra}"), T("Notes:save"), DONE],
                    lambda p: (p.app("Notes").note(title) or {}).get("body") == want)  # fmt: skip


@register_template("notes.read", "Notes")
def _notes_read(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    note = pick(rng, phone.app("Notes").notes)
    return TaskSpec(f"What does my note '{note['title']}' say?",
                    [O("Notes"), T(note_rid(note["title"])), A(note["body"]), DONE],
                    answered(note["body"]), note["body"])  # fmt: skip


# -- Files ------------------------------------------------------------------------------------


def _some_file(phone: Phone, rng: np.random.Generator) -> tuple[str, str]:
    folders = phone.app("Files").folders
    folder = pick(rng, [f for f, names in folders.items() if names])
    return folder, pick(rng, folders[folder])


@register_template("files.delete", "Files")
def _files_delete(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    folder, name = _some_file(phone, rng)
    plan = [O("Files"), T(f"Files:folder/{slug(folder)}"), L(f"Files:file/{slug(name)}"),
            T("Files:dialog_delete"), DONE]  # fmt: skip
    return TaskSpec(f"Delete {name} from the {folder} folder.", plan,
                    lambda p: name not in p.app("Files").folders[folder])  # fmt: skip


@register_template("files.move", "Files")
def _files_move(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    folder, name = _some_file(phone, rng)
    target = pick(rng, [f for f in phone.app("Files").folders if f != folder])
    plan = [O("Files"), T(f"Files:folder/{slug(folder)}"), L(f"Files:file/{slug(name)}"),
            T("Files:dialog_move"), T(f"Files:move/{slug(target)}"), DONE]  # fmt: skip

    def check(p: Phone) -> bool:
        folders = p.app("Files").folders
        return name in folders[target] and name not in folders[folder]

    return TaskSpec(f"Move {name} from {folder} to {target}.", plan, check)


@register_template("files.new_folder", "Files")
def _files_new(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    name = pick(rng, ["Invoices", "Trips", "Scans", "Work", "Backup"])
    plan = [O("Files"), T("Files:new_folder"), Y("Files:folder_name", name), T("Files:save"), DONE]
    return TaskSpec(
        f"Create a folder named {name} in Files.", plan, lambda p: name in p.app("Files").folders
    )


@register_template("files.count", "Files")
def _files_count(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    folder, _ = _some_file(phone, rng)
    count = str(len(phone.app("Files").folders[folder]))
    return TaskSpec(f"How many files are in the {folder} folder? Answer with a number.",
                    [O("Files"), A(count), DONE], answered(count), count)  # fmt: skip


# -- Clock ------------------------------------------------------------------------------------


def free_time(phone: Phone, rng: np.random.Generator) -> str:
    taken = {a["time"] for a in phone.app("Clock").alarms}
    free = [
        f"{h:02d}:{m:02d}"
        for h in range(5, 12)
        for m in (0, 15, 30, 45)
        if f"{h:02d}:{m:02d}" not in taken
    ]
    return pick(rng, free)


def alarm_is(time: str, days: list[int], label: str = "") -> Check:
    def check(p: Phone) -> bool:
        alarm = p.app("Clock").alarm(time)
        return (
            alarm is not None
            and alarm["enabled"]
            and alarm["days"] == days
            and alarm["label"] == label
        )

    return check


def _day_taps(days: list[int]) -> list[Intent]:
    return [T(f"Clock:day/{DAYS[d].lower()}") for d in days]


@register_template("clock.alarm_once", "Clock")
def _clock_once(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    time = free_time(phone, rng)
    return TaskSpec(f"Set an alarm for {time}.",
                    [O("Clock"), T("Clock:add"), Y("Clock:time", time), T("Clock:save"), DONE],
                    alarm_is(time, []))  # fmt: skip


@register_template("clock.alarm_weekdays", "Clock")
def _clock_weekdays(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    time, days = free_time(phone, rng), [0, 1, 2, 3, 4]
    return TaskSpec(f"Set an alarm for {time} on weekdays.",
                    [O("Clock"), T("Clock:add"), Y("Clock:time", time), *_day_taps(days), T("Clock:save"), DONE],
                    alarm_is(time, days))  # fmt: skip


@register_template("clock.alarm_labeled", "Clock")
def _clock_labeled(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    time, label = free_time(phone, rng), pick(rng, ["Gym", "Pills", "Run", "Call mum"])
    days = sorted(int(d) for d in rng.choice(7, size=2, replace=False))
    names = " and ".join(DAYS[d] for d in days)
    plan = [O("Clock"), T("Clock:add"), Y("Clock:time", time), *_day_taps(days), Y("Clock:label", label),
            T("Clock:save"), DONE]  # fmt: skip
    return TaskSpec(
        f"Set an alarm for {time} on {names} labelled '{label}'.",
        plan,
        alarm_is(time, days, label),
    )


@register_template("clock.alarm_off", "Clock")
def _clock_off(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    alarm = pick(rng, phone.app("Clock").alarms)
    alarm["enabled"] = True
    time = alarm["time"]
    return TaskSpec(f"Turn off the {time} alarm (keep it).", [O("Clock"), T(f"Clock:alarm/{time}"), DONE],
                    lambda p: (p.app("Clock").alarm(time) or {"enabled": True})["enabled"] is False)  # fmt: skip


@register_template("clock.delete_alarm", "Clock")
def _clock_delete(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    time = pick(rng, phone.app("Clock").alarms)["time"]
    return TaskSpec(f"Delete the {time} alarm.",
                    [O("Clock"), L(f"Clock:alarm/{time}"), T("Clock:dialog_delete"), DONE],
                    lambda p: p.app("Clock").alarm(time) is None)  # fmt: skip


@register_template("clock.timer", "Clock")
def _clock_timer(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    minutes = int(pick(rng, [3, 5, 10, 15, 25, 45]))
    plan = [
        O("Clock"),
        T("Clock:tab/timer"),
        Y("Clock:minutes", str(minutes)),
        T("Clock:start"),
        DONE,
    ]
    return TaskSpec(
        f"Start a {minutes}-minute timer.", plan, lambda p: p.app("Clock").timer_minutes == minutes
    )

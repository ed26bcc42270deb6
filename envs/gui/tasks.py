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

from rewardgym.envs.gui.apps_people import (
    LAST_NAMES,
    CalendarApp,
    ContactsApp,
    MessagesApp,
    ShopApp,
    phone_digits,
)
from rewardgym.envs.gui.apps_system import (
    DAYS,
    SETTINGS_TOGGLES,
    ClockApp,
    FilesApp,
    NotesApp,
    SettingsApp,
)
from rewardgym.envs.gui.expert import Intent
from rewardgym.envs.gui.phone import Phone, slug

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


def _template(name: str, app: str) -> Callable[[Callable[..., TaskSpec]], Callable[..., TaskSpec]]:
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


def _pick(rng: np.random.Generator, items: Any) -> Any:
    items = list(items)
    return items[int(rng.integers(len(items)))]


def _answered(expected: str) -> Check:
    return lambda p: answer_matches(expected, p.answer)


# -- Settings ---------------------------------------------------------------------------------


def _toggle(name: str) -> str:
    return f"Settings:toggle/{slug(name)}"


@_template("settings.turn_on", "Settings")
def _settings_on(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    name = _pick(rng, SETTINGS_TOGGLES)
    phone.app("Settings").toggles[name] = False
    return TaskSpec(f"Turn on {name}.", [O("Settings"), T(_toggle(name)), DONE],
                    lambda p: p.app("Settings").toggles[name])  # fmt: skip


@_template("settings.turn_off", "Settings")
def _settings_off(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    name = _pick(rng, SETTINGS_TOGGLES)
    phone.app("Settings").toggles[name] = True
    return TaskSpec(f"Turn off {name}.", [O("Settings"), T(_toggle(name)), DONE],
                    lambda p: not p.app("Settings").toggles[name])  # fmt: skip


@_template("settings.two_toggles", "Settings")
def _settings_two(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    on, off = (SETTINGS_TOGGLES[int(i)] for i in rng.permutation(len(SETTINGS_TOGGLES))[:2])
    toggles = phone.app("Settings").toggles
    toggles[on], toggles[off] = False, True
    return TaskSpec(
        f"Turn on {on} and turn off {off}.",
        [O("Settings"), T(_toggle(on)), T(_toggle(off)), DONE],
        lambda p: p.app("Settings").toggles[on] and not p.app("Settings").toggles[off],
    )


@_template("settings.brightness", "Settings")
def _settings_brightness(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    app = phone.app("Settings")
    target = _pick(rng, [v for v in range(0, 101, 10) if 0 < abs(v - app.brightness) <= 50])
    presses = abs(target - app.brightness) // 10
    button = "Settings:brightness_up" if target > app.brightness else "Settings:brightness_down"
    return TaskSpec(f"Set the screen brightness to {target}%.",
                    [O("Settings"), T("Settings:display"), *[T(button)] * presses, DONE],
                    lambda p: p.app("Settings").brightness == target)  # fmt: skip


@_template("settings.font_size", "Settings")
def _settings_font(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    size = _pick(rng, ["Small", "Large"])
    return TaskSpec(f"Make the font size {size.lower()}.",
                    [O("Settings"), T("Settings:display"), T(f"Settings:font/{size.lower()}"), DONE],
                    lambda p: p.app("Settings").font_size == size)  # fmt: skip


@_template("settings.volume", "Settings")
def _settings_volume(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    app = phone.app("Settings")
    target = _pick(rng, [v for v in range(11) if 0 < abs(v - app.volume) <= 4])
    button = "Settings:volume_up" if target > app.volume else "Settings:volume_down"
    return TaskSpec(f"Set the ring volume to {target}.",
                    [O("Settings"), T("Settings:sound"), *[T(button)] * abs(target - app.volume), DONE],
                    lambda p: p.app("Settings").volume == target)  # fmt: skip


@_template("settings.vibrate", "Settings")
def _settings_vibrate(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    want = not phone.app("Settings").vibrate
    return TaskSpec(f"Turn {'on' if want else 'off'} vibrate on ring.",
                    [O("Settings"), T("Settings:sound"), T("Settings:vibrate"), DONE],
                    lambda p: p.app("Settings").vibrate == want)  # fmt: skip


@_template("settings.phone_number", "Settings")
def _settings_number(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    number = phone.app("Settings").phone_number
    return TaskSpec("What is this phone's own phone number?",
                    [O("Settings"), T("Settings:about"), A(number), DONE], _answered(number), number)  # fmt: skip


# -- Contacts ---------------------------------------------------------------------------------

NEW_FIRST = ("Zoe", "Yara", "Xavi", "Wren", "Uma", "Vik", "Ines", "Theo")


def _contact_rid(name: str) -> str:
    return f"Contacts:contact/{slug(name)}"


def _some_contact(phone: Phone, rng: np.random.Generator, **where: Any) -> dict[str, Any]:
    people = [c for c in phone.app("Contacts").contacts if all(c[k] == v for k, v in where.items())]
    return _pick(rng, people or phone.app("Contacts").contacts)


def _new_number(rng: np.random.Generator) -> str:
    return f"555-{int(rng.integers(1000, 10000)):04d}"


def _has_contact(first: str, last: str, number: str) -> Check:
    def check(p: Phone) -> bool:
        return any(c["first"] == first and c["last"] == last and phone_digits(c["phone"]) == phone_digits(number)
                   for c in p.app("Contacts").contacts)  # fmt: skip

    return check


@_template("contacts.add", "Contacts")
def _contacts_add(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    first, last, number = _pick(rng, NEW_FIRST), _pick(rng, LAST_NAMES), _new_number(rng)
    plan = [O("Contacts"), T("Contacts:add"), Y("Contacts:first", first), Y("Contacts:last", last),
            Y("Contacts:phone", number), T("Contacts:save"), DONE]  # fmt: skip
    return TaskSpec(
        f"Add a contact: {first} {last}, {number}.", plan, _has_contact(first, last, number)
    )


@_template("contacts.add_favorite", "Contacts")
def _contacts_add_fav(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    first, last, number = _pick(rng, NEW_FIRST), _pick(rng, LAST_NAMES), _new_number(rng)
    full = f"{first} {last}"
    plan = [O("Contacts"), T("Contacts:add"), Y("Contacts:first", first), Y("Contacts:last", last),
            Y("Contacts:phone", number), T("Contacts:save"), T(_contact_rid(full)), T("Contacts:favorite"), DONE]  # fmt: skip
    has = _has_contact(first, last, number)

    def check(p: Phone) -> bool:
        c = p.app("Contacts").find(full)
        return has(p) and c is not None and c["favorite"]

    return TaskSpec(f"Add {full} ({number}) to contacts and mark them as a favorite.", plan, check)


@_template("contacts.delete", "Contacts")
def _contacts_delete(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    name = ContactsApp.full(_some_contact(phone, rng))
    plan = [
        O("Contacts"),
        T(_contact_rid(name)),
        T("Contacts:delete"),
        T("Contacts:dialog_delete"),
        DONE,
    ]
    return TaskSpec(
        f"Delete the contact {name}.", plan, lambda p: p.app("Contacts").find(name) is None
    )


@_template("contacts.favorite", "Contacts")
def _contacts_favorite(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    contact = _some_contact(phone, rng, favorite=False)
    contact["favorite"] = False
    name = ContactsApp.full(contact)
    return TaskSpec(f"Mark {name} as a favorite contact.",
                    [O("Contacts"), T(_contact_rid(name)), T("Contacts:favorite"), DONE],
                    lambda p: bool((p.app("Contacts").find(name) or {}).get("favorite")))  # fmt: skip


@_template("contacts.lookup_number", "Contacts")
def _contacts_lookup(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    contact = _some_contact(phone, rng)
    name, number = ContactsApp.full(contact), contact["phone"]
    return TaskSpec(f"What is {name}'s phone number?",
                    [O("Contacts"), T(_contact_rid(name)), A(number), DONE], _answered(number), number)  # fmt: skip


@_template("contacts.edit_number", "Contacts")
def _contacts_edit(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    name = ContactsApp.full(_some_contact(phone, rng))
    number = _new_number(rng)
    plan = [O("Contacts"), T(_contact_rid(name)), T("Contacts:edit"), T("Contacts:phone_clear"),
            Y("Contacts:phone", number), T("Contacts:save"), DONE]  # fmt: skip
    return TaskSpec(f"Change {name}'s phone number to {number}.", plan,
                    lambda p: phone_digits((p.app("Contacts").find(name) or {}).get("phone", "")) == phone_digits(number))  # fmt: skip


# -- Messages ---------------------------------------------------------------------------------

TEXTS = ("running late", "on my way", "see you soon", "call you later", "thanks!",
         "meeting at noon", "good night", "bring the charger")  # fmt: skip


def _sent(name: str, text: str) -> Check:
    def check(p: Phone) -> bool:
        msgs = p.app("Messages").threads.get(name, [])
        return bool(msgs) and msgs[-1][0] and msgs[-1][1].strip().lower() == text.lower()

    return check


def _thread_rid(name: str) -> str:
    return f"Messages:thread/{slug(name)}"


@_template("messages.reply", "Messages")
def _messages_reply(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    name, text = _pick(rng, phone.app("Messages").threads), _pick(rng, TEXTS)
    plan = [
        O("Messages"),
        T(_thread_rid(name)),
        Y("Messages:compose", text),
        T("Messages:send"),
        DONE,
    ]
    return TaskSpec(f"Reply '{text}' to {name} in Messages.", plan, _sent(name, text))


@_template("messages.new", "Messages")
def _messages_new(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    threads = phone.app("Messages").threads
    people = [c for c in phone.app("Contacts").contacts if ContactsApp.full(c) not in threads]
    contact = _pick(rng, people or phone.app("Contacts").contacts)
    name, text = ContactsApp.full(contact), _pick(rng, TEXTS)
    plan = [O("Messages"), T("Messages:new"), Y("Messages:to", name), Y("Messages:body", text),
            T("Messages:send"), DONE]  # fmt: skip
    return TaskSpec(f"Send '{text}' to {name}.", plan, _sent(name, text))


@_template("messages.from_contacts", "Contacts")
def _messages_from_contacts(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    name, text = ContactsApp.full(_some_contact(phone, rng)), _pick(rng, TEXTS)
    plan = [O("Contacts"), T(_contact_rid(name)), T("Contacts:message"), Y("Messages:compose", text),
            T("Messages:send"), DONE]  # fmt: skip
    return TaskSpec(f"Open {name} in Contacts and message them '{text}'.", plan, _sent(name, text))


@_template("messages.delete_thread", "Messages")
def _messages_delete(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    name = _pick(rng, phone.app("Messages").threads)
    plan = [O("Messages"), L(_thread_rid(name)), T("Messages:dialog_delete"), DONE]
    return TaskSpec(f"Delete the conversation with {name}.", plan,
                    lambda p: name not in p.app("Messages").threads)  # fmt: skip


@_template("messages.last_message", "Messages")
def _messages_last(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    threads = phone.app("Messages").threads
    name = _pick(rng, threads)
    text = threads[name][-1][1]
    return TaskSpec(f"What was the last message in the conversation with {name}?",
                    [O("Messages"), T(_thread_rid(name)), A(text), DONE], _answered(text), text)  # fmt: skip


# -- Calendar ---------------------------------------------------------------------------------

NEW_EVENTS = (
    "Vet visit",
    "Car service",
    "Coffee with Lena",
    "Flight to Rome",
    "Tax advisor",
    "Swim class",
)


def _event_rid(title: str) -> str:
    return f"Calendar:event/{slug(title)}"


@_template("calendar.add_event", "Calendar")
def _calendar_add(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    title, day = _pick(rng, NEW_EVENTS), _pick(rng, DAYS)
    time = f"{int(rng.integers(8, 20)):02d}:{_pick(rng, ['00', '15', '30', '45'])}"
    plan = [O("Calendar"), T("Calendar:add"), Y("Calendar:title", title), Y("Calendar:day", day),
            Y("Calendar:time", time), T("Calendar:save"), DONE]  # fmt: skip

    def check(p: Phone) -> bool:
        return {"title": title, "day": day, "time": time} in p.app("Calendar").events

    return TaskSpec(f"Add a calendar event '{title}' on {day} at {time}.", plan, check)


@_template("calendar.delete_event", "Calendar")
def _calendar_delete(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    title = _pick(rng, phone.app("Calendar").events)["title"]
    plan = [
        O("Calendar"),
        T(_event_rid(title)),
        T("Calendar:delete"),
        T("Calendar:dialog_delete"),
        DONE,
    ]
    return TaskSpec(f"Delete the event '{title}' from the calendar.", plan,
                    lambda p: p.app("Calendar").event(title) is None)  # fmt: skip


@_template("calendar.event_time", "Calendar")
def _calendar_time(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    event = _pick(rng, phone.app("Calendar").events)
    return TaskSpec(f"At what time is '{event['title']}'? Answer as HH:MM.",
                    [O("Calendar"), T(_event_rid(event["title"])), A(event["time"]), DONE],
                    _answered(event["time"]), event["time"])  # fmt: skip


@_template("calendar.count_day", "Calendar")
def _calendar_count(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    events = phone.app("Calendar").events
    day = _pick(rng, [e["day"] for e in events])
    count = str(sum(e["day"] == day for e in events))
    return TaskSpec(f"How many events are in my calendar on {day}? Answer with a number.",
                    [O("Calendar"), A(count), DONE], _answered(count), count)  # fmt: skip


# -- Notes ------------------------------------------------------------------------------------

NEW_NOTES = (("Shopping", "apples and rice"), ("Call list", "mum, dentist"), ("Passwords", "ask IT"),
             ("Weekend", "hike on Saturday"), ("Birthday", "order a cake"))  # fmt: skip


def _note_rid(title: str) -> str:
    return f"Notes:note/{slug(title)}"


@_template("notes.create", "Notes")
def _notes_create(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    title, body = _pick(rng, NEW_NOTES)
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


@_template("notes.delete", "Notes")
def _notes_delete(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    title = _pick(rng, phone.app("Notes").notes)["title"]
    return TaskSpec(f"Delete the note '{title}'.",
                    [O("Notes"), L(_note_rid(title)), T("Notes:dialog_delete"), DONE],
                    lambda p: p.app("Notes").note(title) is None)  # fmt: skip


@_template("notes.append", "Notes")
def _notes_append(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    note = _pick(rng, phone.app("Notes").notes)
    title, extra = note["title"], _pick(rng, ["and tea", "ask Bob", "by Friday", "urgent"])
    want = f"{note['body']} {extra}"
    return TaskSpec(f"Add '{extra}' to the end of the note '{title}'.",
                    [O("Notes"), T(_note_rid(title)), Y("Notes:body", f" {extra}"), T("Notes:save"), DONE],
                    lambda p: (p.app("Notes").note(title) or {}).get("body") == want)  # fmt: skip


@_template("notes.read", "Notes")
def _notes_read(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    note = _pick(rng, phone.app("Notes").notes)
    return TaskSpec(f"What does my note '{note['title']}' say?",
                    [O("Notes"), T(_note_rid(note["title"])), A(note["body"]), DONE],
                    _answered(note["body"]), note["body"])  # fmt: skip


# -- Shop -------------------------------------------------------------------------------------


def _product_rid(name: str) -> str:
    return f"Shop:product/{slug(name)}"


def _ordered(name: str, qty: int) -> Check:
    return lambda p: bool(p.app("Shop").orders) and p.app("Shop").orders[-1] == {name: qty}


def _checkout_plan() -> list[Intent]:
    return [
        T("Shop:add_to_cart"),
        T("Shop:cart"),
        T("Shop:checkout"),
        T("Shop:dialog_confirm"),
        DONE,
    ]


@_template("shop.buy_cheapest", "Shop")
def _shop_cheapest(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    shop = phone.app("Shop")
    category = _pick(rng, ["charger", "cable", "case", "headphones", "battery"])
    qty = int(rng.integers(1, 4))
    shown = [p for p in shop.products if category in p["name"].lower() or category in p["category"]]
    cheapest = min(shown, key=lambda p: (p["price"], p["name"]))["name"]
    plan = [O("Shop"), Y("Shop:search", category), T("Shop:sort/price"), T(_product_rid(cheapest)),
            *[T("Shop:qty_up")] * (qty - 1), *_checkout_plan()]  # fmt: skip
    what = f"{qty} of the cheapest {category}" if qty > 1 else f"the cheapest {category}"
    return TaskSpec(f"Buy {what} in the Shop app.", plan, _ordered(cheapest, qty))


@_template("shop.buy_named", "Shop")
def _shop_buy(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    name, qty = _pick(rng, phone.app("Shop").products)["name"], int(rng.integers(1, 4))
    plan = [O("Shop"), T(_product_rid(name)), *[T("Shop:qty_up")] * (qty - 1), *_checkout_plan()]
    return TaskSpec(f"Order {qty} × {name} from the Shop app.", plan, _ordered(name, qty))


@_template("shop.add_to_cart", "Shop")
def _shop_add(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    name = _pick(rng, phone.app("Shop").products)["name"]
    return TaskSpec(f"Put one {name} in the shopping cart (do not check out).",
                    [O("Shop"), T(_product_rid(name)), T("Shop:add_to_cart"), DONE],
                    lambda p: p.app("Shop").cart == {name: 1} and not p.app("Shop").orders)  # fmt: skip


@_template("shop.price", "Shop")
def _shop_price(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    product = _pick(rng, phone.app("Shop").products)
    price = f"{product['price']:.2f}"
    return TaskSpec(f"How much does the {product['name']} cost in the Shop app?",
                    [O("Shop"), T(_product_rid(product["name"])), A(f"${price}"), DONE],
                    _answered(price), price)  # fmt: skip


@_template("shop.remove_from_cart", "Shop")
def _shop_remove(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    shop = phone.app("Shop")
    first, second = (shop.products[int(i)]["name"] for i in rng.permutation(len(shop.products))[:2])
    shop.cart = {first: 1, second: 2}
    return TaskSpec(f"Remove {first} from the shopping cart.",
                    [O("Shop"), T("Shop:cart"), L(f"Shop:cart/{slug(first)}"), T("Shop:dialog_remove"), DONE],
                    lambda p: p.app("Shop").cart == {second: 2})  # fmt: skip


# -- Files ------------------------------------------------------------------------------------


def _some_file(phone: Phone, rng: np.random.Generator) -> tuple[str, str]:
    folders = phone.app("Files").folders
    folder = _pick(rng, [f for f, names in folders.items() if names])
    return folder, _pick(rng, folders[folder])


@_template("files.delete", "Files")
def _files_delete(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    folder, name = _some_file(phone, rng)
    plan = [O("Files"), T(f"Files:folder/{slug(folder)}"), L(f"Files:file/{slug(name)}"),
            T("Files:dialog_delete"), DONE]  # fmt: skip
    return TaskSpec(f"Delete {name} from the {folder} folder.", plan,
                    lambda p: name not in p.app("Files").folders[folder])  # fmt: skip


@_template("files.move", "Files")
def _files_move(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    folder, name = _some_file(phone, rng)
    target = _pick(rng, [f for f in phone.app("Files").folders if f != folder])
    plan = [O("Files"), T(f"Files:folder/{slug(folder)}"), L(f"Files:file/{slug(name)}"),
            T("Files:dialog_move"), T(f"Files:move/{slug(target)}"), DONE]  # fmt: skip

    def check(p: Phone) -> bool:
        folders = p.app("Files").folders
        return name in folders[target] and name not in folders[folder]

    return TaskSpec(f"Move {name} from {folder} to {target}.", plan, check)


@_template("files.new_folder", "Files")
def _files_new(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    name = _pick(rng, ["Invoices", "Trips", "Scans", "Work", "Backup"])
    plan = [O("Files"), T("Files:new_folder"), Y("Files:folder_name", name), T("Files:save"), DONE]
    return TaskSpec(
        f"Create a folder named {name} in Files.", plan, lambda p: name in p.app("Files").folders
    )


@_template("files.count", "Files")
def _files_count(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    folder, _ = _some_file(phone, rng)
    count = str(len(phone.app("Files").folders[folder]))
    return TaskSpec(f"How many files are in the {folder} folder? Answer with a number.",
                    [O("Files"), A(count), DONE], _answered(count), count)  # fmt: skip


# -- Clock ------------------------------------------------------------------------------------


def _free_time(phone: Phone, rng: np.random.Generator) -> str:
    taken = {a["time"] for a in phone.app("Clock").alarms}
    free = [
        f"{h:02d}:{m:02d}"
        for h in range(5, 12)
        for m in (0, 15, 30, 45)
        if f"{h:02d}:{m:02d}" not in taken
    ]
    return _pick(rng, free)


def _alarm_is(time: str, days: list[int], label: str = "") -> Check:
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


@_template("clock.alarm_once", "Clock")
def _clock_once(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    time = _free_time(phone, rng)
    return TaskSpec(f"Set an alarm for {time}.",
                    [O("Clock"), T("Clock:add"), Y("Clock:time", time), T("Clock:save"), DONE],
                    _alarm_is(time, []))  # fmt: skip


@_template("clock.alarm_weekdays", "Clock")
def _clock_weekdays(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    time, days = _free_time(phone, rng), [0, 1, 2, 3, 4]
    return TaskSpec(f"Set an alarm for {time} on weekdays.",
                    [O("Clock"), T("Clock:add"), Y("Clock:time", time), *_day_taps(days), T("Clock:save"), DONE],
                    _alarm_is(time, days))  # fmt: skip


@_template("clock.alarm_labeled", "Clock")
def _clock_labeled(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    time, label = _free_time(phone, rng), _pick(rng, ["Gym", "Pills", "Run", "Call mum"])
    days = sorted(int(d) for d in rng.choice(7, size=2, replace=False))
    names = " and ".join(DAYS[d] for d in days)
    plan = [O("Clock"), T("Clock:add"), Y("Clock:time", time), *_day_taps(days), Y("Clock:label", label),
            T("Clock:save"), DONE]  # fmt: skip
    return TaskSpec(
        f"Set an alarm for {time} on {names} labelled '{label}'.",
        plan,
        _alarm_is(time, days, label),
    )


@_template("clock.alarm_off", "Clock")
def _clock_off(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    alarm = _pick(rng, phone.app("Clock").alarms)
    alarm["enabled"] = True
    time = alarm["time"]
    return TaskSpec(f"Turn off the {time} alarm (keep it).", [O("Clock"), T(f"Clock:alarm/{time}"), DONE],
                    lambda p: (p.app("Clock").alarm(time) or {"enabled": True})["enabled"] is False)  # fmt: skip


@_template("clock.delete_alarm", "Clock")
def _clock_delete(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    time = _pick(rng, phone.app("Clock").alarms)["time"]
    return TaskSpec(f"Delete the {time} alarm.",
                    [O("Clock"), L(f"Clock:alarm/{time}"), T("Clock:dialog_delete"), DONE],
                    lambda p: p.app("Clock").alarm(time) is None)  # fmt: skip


@_template("clock.timer", "Clock")
def _clock_timer(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    minutes = int(_pick(rng, [3, 5, 10, 15, 25, 45]))
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


# -- across apps ------------------------------------------------------------------------------


@_template("cross.share_number", "Contacts")
def _cross_share(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    people = [ContactsApp.full(phone.app("Contacts").contacts[int(i)])
              for i in rng.permutation(len(phone.app("Contacts").contacts))[:2]]  # fmt: skip
    about, to = people
    number = phone.app("Contacts").find(about)["phone"]
    plan = [O("Contacts"), T(_contact_rid(about)), O("Messages"), T("Messages:new"), Y("Messages:to", to),
            Y("Messages:body", number), T("Messages:send"), DONE]  # fmt: skip
    return TaskSpec(f"Send {about}'s phone number to {to} by message.", plan, _sent(to, number))


@_template("cross.event_to_note", "Calendar")
def _cross_event_note(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    event = _pick(rng, phone.app("Calendar").events)
    title, body = event["title"], f"{event['day']} {event['time']}"
    plan = [O("Calendar"), T(_event_rid(title)), O("Notes"), T("Notes:add"), Y("Notes:title", title),
            Y("Notes:body", body), T("Notes:save"), DONE]  # fmt: skip
    return TaskSpec(f"Create a note titled '{title}' whose text is the event's day and time ('Mon 09:00' style).",
                    plan, lambda p: (p.app("Notes").note(title) or {}).get("body", "").strip() == body)  # fmt: skip


@_template("cross.focus_mode", "Settings")
def _cross_focus(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    phone.app("Settings").toggles["Do not disturb"] = False
    time = _free_time(phone, rng)
    plan = [O("Settings"), T(_toggle("Do not disturb")), O("Clock"), T("Clock:add"), Y("Clock:time", time),
            T("Clock:save"), DONE]  # fmt: skip
    alarm = _alarm_is(time, [])
    return TaskSpec(f"Turn on Do not disturb and set an alarm for {time}.", plan,
                    lambda p: p.app("Settings").toggles["Do not disturb"] and alarm(p))  # fmt: skip


@_template("cross.buy_and_tell", "Shop")
def _cross_buy_tell(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    product = _pick(rng, phone.app("Shop").products)["name"]
    to = ContactsApp.full(_some_contact(phone, rng))
    text = "ordered it"
    plan = [O("Shop"), T(_product_rid(product)), *_checkout_plan()[:-1], O("Messages"), T("Messages:new"),
            Y("Messages:to", to), Y("Messages:body", text), T("Messages:send"), DONE]  # fmt: skip
    ordered, sent = _ordered(product, 1), _sent(to, text)
    return TaskSpec(
        f"Order one {product}, then message {to} '{text}'.", plan, lambda p: ordered(p) and sent(p)
    )

"""Task templates of Contacts, Messages, Calendar and Shop, and tasks across apps (see :mod:`.tasks`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from rewardgym.envs.gui.apps_people import LAST_NAMES, ContactsApp, phone_digits
from rewardgym.envs.gui.apps_system import DAYS
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
from rewardgym.envs.gui.templates_system import alarm_is, free_time, toggle_rid

# -- Contacts ---------------------------------------------------------------------------------

NEW_FIRST = ("Zoe", "Yara", "Xavi", "Wren", "Uma", "Vik", "Ines", "Theo")


def _contact_rid(name: str) -> str:
    return f"Contacts:contact/{slug(name)}"


def _some_contact(phone: Phone, rng: np.random.Generator, **where: Any) -> dict[str, Any]:
    people = [c for c in phone.app("Contacts").contacts if all(c[k] == v for k, v in where.items())]
    return pick(rng, people or phone.app("Contacts").contacts)


def _new_number(rng: np.random.Generator) -> str:
    return f"555-{int(rng.integers(1000, 10000)):04d}"


def _has_contact(first: str, last: str, number: str) -> Check:
    def check(p: Phone) -> bool:
        return any(c["first"] == first and c["last"] == last and phone_digits(c["phone"]) == phone_digits(number)
                   for c in p.app("Contacts").contacts)  # fmt: skip

    return check


@register_template("contacts.add", "Contacts")
def _contacts_add(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    first, last, number = pick(rng, NEW_FIRST), pick(rng, LAST_NAMES), _new_number(rng)
    plan = [O("Contacts"), T("Contacts:add"), Y("Contacts:first", first), Y("Contacts:last", last),
            Y("Contacts:phone", number), T("Contacts:save"), DONE]  # fmt: skip
    return TaskSpec(
        f"Add a contact: {first} {last}, {number}.", plan, _has_contact(first, last, number)
    )


@register_template("contacts.add_favorite", "Contacts")
def _contacts_add_fav(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    first, last, number = pick(rng, NEW_FIRST), pick(rng, LAST_NAMES), _new_number(rng)
    full = f"{first} {last}"
    plan = [O("Contacts"), T("Contacts:add"), Y("Contacts:first", first), Y("Contacts:last", last),
            Y("Contacts:phone", number), T("Contacts:save"), T(_contact_rid(full)), T("Contacts:favorite"), DONE]  # fmt: skip
    has = _has_contact(first, last, number)

    def check(p: Phone) -> bool:
        c = p.app("Contacts").find(full)
        return has(p) and c is not None and c["favorite"]

    return TaskSpec(f"Add {full} ({number}) to contacts and mark them as a favorite.", plan, check)


@register_template("contacts.delete", "Contacts")
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


@register_template("contacts.favorite", "Contacts")
def _contacts_favorite(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    contact = _some_contact(phone, rng, favorite=False)
    contact["favorite"] = False
    name = ContactsApp.full(contact)
    return TaskSpec(f"Mark {name} as a favorite contact.",
                    [O("Contacts"), T(_contact_rid(name)), T("Contacts:favorite"), DONE],
                    lambda p: bool((p.app("Contacts").find(name) or {}).get("favorite")))  # fmt: skip


@register_template("contacts.lookup_number", "Contacts")
def _contacts_lookup(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    contact = _some_contact(phone, rng)
    name, number = ContactsApp.full(contact), contact["phone"]
    return TaskSpec(f"What is {name}'s phone number?",
                    [O("Contacts"), T(_contact_rid(name)), A(number), DONE], answered(number), number)  # fmt: skip


@register_template("contacts.edit_number", "Contacts")
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


@register_template("messages.reply", "Messages")
def _messages_reply(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    name, text = pick(rng, phone.app("Messages").threads), pick(rng, TEXTS)
    plan = [
        O("Messages"),
        T(_thread_rid(name)),
        Y("Messages:compose", text),
        T("Messages:send"),
        DONE,
    ]
    return TaskSpec(f"Reply '{text}' to {name} in Messages.", plan, _sent(name, text))


@register_template("messages.new", "Messages")
def _messages_new(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    threads = phone.app("Messages").threads
    people = [c for c in phone.app("Contacts").contacts if ContactsApp.full(c) not in threads]
    contact = pick(rng, people or phone.app("Contacts").contacts)
    name, text = ContactsApp.full(contact), pick(rng, TEXTS)
    plan = [O("Messages"), T("Messages:new"), Y("Messages:to", name), Y("Messages:body", text),
            T("Messages:send"), DONE]  # fmt: skip
    return TaskSpec(f"Send '{text}' to {name}.", plan, _sent(name, text))


@register_template("messages.from_contacts", "Contacts")
def _messages_from_contacts(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    name, text = ContactsApp.full(_some_contact(phone, rng)), pick(rng, TEXTS)
    plan = [O("Contacts"), T(_contact_rid(name)), T("Contacts:message"), Y("Messages:compose", text),
            T("Messages:send"), DONE]  # fmt: skip
    return TaskSpec(f"Open {name} in Contacts and message them '{text}'.", plan, _sent(name, text))


@register_template("messages.delete_thread", "Messages")
def _messages_delete(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    name = pick(rng, phone.app("Messages").threads)
    plan = [O("Messages"), L(_thread_rid(name)), T("Messages:dialog_delete"), DONE]
    return TaskSpec(f"Delete the conversation with {name}.", plan,
                    lambda p: name not in p.app("Messages").threads)  # fmt: skip


@register_template("messages.last_message", "Messages")
def _messages_last(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    threads = phone.app("Messages").threads
    name = pick(rng, threads)
    text = threads[name][-1][1]
    return TaskSpec(f"What was the last message in the conversation with {name}?",
                    [O("Messages"), T(_thread_rid(name)), A(text), DONE], answered(text), text)  # fmt: skip


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


@register_template("calendar.add_event", "Calendar")
def _calendar_add(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    title, day = pick(rng, NEW_EVENTS), pick(rng, DAYS)
    time = f"{int(rng.integers(8, 20)):02d}:{pick(rng, ['00', '15', '30', '45'])}"
    plan = [O("Calendar"), T("Calendar:add"), Y("Calendar:title", title), Y("Calendar:day", day),
            Y("Calendar:time", time), T("Calendar:save"), DONE]  # fmt: skip

    def check(p: Phone) -> bool:
        return {"title": title, "day": day, "time": time} in p.app("Calendar").events

    return TaskSpec(f"Add a calendar event '{title}' on {day} at {time}.", plan, check)


@register_template("calendar.delete_event", "Calendar")
def _calendar_delete(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    title = pick(rng, phone.app("Calendar").events)["title"]
    plan = [
        O("Calendar"),
        T(_event_rid(title)),
        T("Calendar:delete"),
        T("Calendar:dialog_delete"),
        DONE,
    ]
    return TaskSpec(f"Delete the event '{title}' from the calendar.", plan,
                    lambda p: p.app("Calendar").event(title) is None)  # fmt: skip


@register_template("calendar.event_time", "Calendar")
def _calendar_time(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    event = pick(rng, phone.app("Calendar").events)
    return TaskSpec(f"At what time is '{event['title']}'? Answer as HH:MM.",
                    [O("Calendar"), T(_event_rid(event["title"])), A(event["time"]), DONE],
                    answered(event["time"]), event["time"])  # fmt: skip


@register_template("calendar.count_day", "Calendar")
def _calendar_count(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    events = phone.app("Calendar").events
    day = pick(rng, [e["day"] for e in events])
    count = str(sum(e["day"] == day for e in events))
    return TaskSpec(f"How many events are in my calendar on {day}? Answer with a number.",
                    [O("Calendar"), A(count), DONE], answered(count), count)  # fmt: skip


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


@register_template("shop.buy_cheapest", "Shop")
def _shop_cheapest(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    shop = phone.app("Shop")
    category = pick(rng, ["charger", "cable", "case", "headphones", "battery"])
    qty = int(rng.integers(1, 4))
    shown = [p for p in shop.products if category in p["name"].lower() or category in p["category"]]
    cheapest = min(shown, key=lambda p: (p["price"], p["name"]))["name"]
    plan = [O("Shop"), Y("Shop:search", category), T("Shop:sort/price"), T(_product_rid(cheapest)),
            *[T("Shop:qty_up")] * (qty - 1), *_checkout_plan()]  # fmt: skip
    what = f"{qty} of the cheapest {category}" if qty > 1 else f"the cheapest {category}"
    return TaskSpec(f"Buy {what} in the Shop app.", plan, _ordered(cheapest, qty))


@register_template("shop.buy_named", "Shop")
def _shop_buy(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    name, qty = pick(rng, phone.app("Shop").products)["name"], int(rng.integers(1, 4))
    plan = [O("Shop"), T(_product_rid(name)), *[T("Shop:qty_up")] * (qty - 1), *_checkout_plan()]
    return TaskSpec(f"Order {qty} × {name} from the Shop app.", plan, _ordered(name, qty))


@register_template("shop.add_to_cart", "Shop")
def _shop_add(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    name = pick(rng, phone.app("Shop").products)["name"]
    return TaskSpec(f"Put one {name} in the shopping cart (do not check out).",
                    [O("Shop"), T(_product_rid(name)), T("Shop:add_to_cart"), DONE],
                    lambda p: p.app("Shop").cart == {name: 1} and not p.app("Shop").orders)  # fmt: skip


@register_template("shop.price", "Shop")
def _shop_price(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    product = pick(rng, phone.app("Shop").products)
    price = f"{product['price']:.2f}"
    return TaskSpec(f"How much does the {product['name']} cost in the Shop app?",
                    [O("Shop"), T(_product_rid(product["name"])), A(f"${price}"), DONE],
                    answered(price), price)  # fmt: skip


@register_template("shop.remove_from_cart", "Shop")
def _shop_remove(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    shop = phone.app("Shop")
    first, second = (shop.products[int(i)]["name"] for i in rng.permutation(len(shop.products))[:2])
    shop.cart = {first: 1, second: 2}
    return TaskSpec(f"Remove {first} from the shopping cart.",
                    [O("Shop"), T("Shop:cart"), L(f"Shop:cart/{slug(first)}"), T("Shop:dialog_remove"), DONE],
                    lambda p: p.app("Shop").cart == {second: 2})  # fmt: skip


# -- across apps ------------------------------------------------------------------------------


@register_template("cross.share_number", "Contacts")
def _cross_share(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    people = [ContactsApp.full(phone.app("Contacts").contacts[int(i)])
              for i in rng.permutation(len(phone.app("Contacts").contacts))[:2]]  # fmt: skip
    about, to = people
    number = phone.app("Contacts").find(about)["phone"]
    plan = [O("Contacts"), T(_contact_rid(about)), O("Messages"), T("Messages:new"), Y("Messages:to", to),
            Y("Messages:body", number), T("Messages:send"), DONE]  # fmt: skip
    return TaskSpec(f"Send {about}'s phone number to {to} by message.", plan, _sent(to, number))


@register_template("cross.event_to_note", "Calendar")
def _cross_event_note(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    event = pick(rng, phone.app("Calendar").events)
    title, body = event["title"], f"{event['day']} {event['time']}"
    plan = [O("Calendar"), T(_event_rid(title)), O("Notes"), T("Notes:add"), Y("Notes:title", title),
            Y("Notes:body", body), T("Notes:save"), DONE]  # fmt: skip
    return TaskSpec(f"Create a note titled '{title}' whose text is the event's day and time ('Mon 09:00' style).",
                    plan, lambda p: (p.app("Notes").note(title) or {}).get("body", "").strip() == body)  # fmt: skip


@register_template("cross.focus_mode", "Settings")
def _cross_focus(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    phone.app("Settings").toggles["Do not disturb"] = False
    time = free_time(phone, rng)
    plan = [O("Settings"), T(toggle_rid("Do not disturb")), O("Clock"), T("Clock:add"), Y("Clock:time", time),
            T("Clock:save"), DONE]  # fmt: skip
    alarm = alarm_is(time, [])
    return TaskSpec(f"Turn on Do not disturb and set an alarm for {time}.", plan,
                    lambda p: p.app("Settings").toggles["Do not disturb"] and alarm(p))  # fmt: skip


@register_template("cross.buy_and_tell", "Shop")
def _cross_buy_tell(phone: Phone, rng: np.random.Generator) -> TaskSpec:
    product = pick(rng, phone.app("Shop").products)["name"]
    to = ContactsApp.full(_some_contact(phone, rng))
    text = "ordered it"
    plan = [O("Shop"), T(_product_rid(product)), *_checkout_plan()[:-1], O("Messages"), T("Messages:new"),
            Y("Messages:to", to), Y("Messages:body", text), T("Messages:send"), DONE]  # fmt: skip
    ordered, sent = _ordered(product, 1), _sent(to, text)
    return TaskSpec(
        f"Order one {product}, then message {to} '{text}'.", plan, lambda p: ordered(p) and sent(p)
    )

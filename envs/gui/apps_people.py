"""The phone's people-and-things apps: Contacts, Messages, Calendar and Shop."""

from __future__ import annotations

import re
from typing import Any

from rewardgym.envs.gui.apps_system import DAYS, valid_time
from rewardgym.envs.gui.phone import App, Phone, slug
from rewardgym.envs.gui.widgets import KEYBOARD_TOP, NAV_TOP, Row, ScreenBuilder

__all__ = [
    "FIRST_NAMES",
    "LAST_NAMES",
    "PRODUCTS",
    "CalendarApp",
    "ContactsApp",
    "MessagesApp",
    "ShopApp",
]

FIRST_NAMES = (
    "Ana", "Bob", "Chen", "Dara", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jade", "Kofi", "Lena",
    "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tara",
)  # fmt: skip
LAST_NAMES = ("Lee", "Smith", "Garcia", "Okafor", "Novak", "Ito", "Brown", "Khan", "Silva", "Weber")
MESSAGE_SEEDS = (
    "See you at 6?", "Thanks for lunch!", "Call me back please", "The keys are under the mat",
    "Happy birthday!", "Running late", "Did you get the tickets?", "Meeting moved to Friday",
)  # fmt: skip


def phone_digits(text: str) -> str:
    return re.sub(r"\D", "", text)


class ContactsApp(App):
    """A contact list longer than the screen; add, edit the number, favourite, delete."""

    name = "Contacts"

    def __init__(self, phone: Phone) -> None:
        super().__init__(phone)
        rng = phone.rng
        firsts = rng.permutation(len(FIRST_NAMES))[: int(rng.integers(12, 17))]
        self.contacts: list[dict[str, Any]] = [
            {"first": FIRST_NAMES[int(i)], "last": LAST_NAMES[int(rng.integers(len(LAST_NAMES)))],
             "phone": f"555-{int(rng.integers(1000, 10000)):04d}", "favorite": bool(rng.random() < 0.2)}
            for i in firsts
        ]  # fmt: skip

    @staticmethod
    def full(contact: dict[str, Any]) -> str:
        return f"{contact['first']} {contact['last']}".strip()

    def find(self, name: str) -> dict[str, Any] | None:
        """The contact whose full name (or unique first name) is ``name``, case-insensitive."""
        key = name.strip().lower()
        for c in self.contacts:
            if self.full(c).lower() == key:
                return c
        firsts = [c for c in self.contacts if c["first"].lower() == key]
        return firsts[0] if len(firsts) == 1 else None

    def sorted_contacts(self) -> list[dict[str, Any]]:
        return sorted(self.contacts, key=lambda c: self.full(c).lower())

    def build(self, b: ScreenBuilder) -> None:
        page, arg = self.page
        if page == "new":
            b.title("New contact")
            b.header_button("save", "Save", self._save_new)
            for name, label in (("first", "First name"), ("last", "Last name"), ("phone", "Phone")):
                b.field(name, label, self.draft.get(name, ""))
            return
        contact = self.find(arg) if arg else None
        if page == "edit" and contact is not None:
            b.title(f"Edit {arg}")
            b.header_button("save", "Save", lambda: self._save_phone(contact))
            b.field(
                "phone",
                "Phone",
                self.draft.get("phone", ""),
                on_clear=lambda: self.draft.update(phone=""),
            )
            return
        if page == "contact" and contact is not None:
            b.title(arg)
            b.text("phone", f"Phone: {contact['phone']}")
            b.toggle(
                "favorite",
                "Favorite",
                contact["favorite"],
                lambda v: contact.__setitem__("favorite", v),
            )
            b.buttons([
                ("message", "Message", lambda: self.phone.switch_to("Messages", "thread", arg), None),
                ("edit", "Edit", lambda: self.go("edit", arg, phone=contact["phone"]), None),
                ("delete", "Delete", lambda: setattr(self, "dialog", ("delete", arg)), None),
            ])  # fmt: skip
            if self.dialog is not None:
                b.dialog("Delete contact?", arg, [
                    ("dialog_cancel", "Cancel", self._close_dialog),
                    ("dialog_delete", "Delete", lambda: self._delete(contact)),
                ])  # fmt: skip
            return
        b.title("Contacts")
        b.header_button("add", "+", lambda: self.go("new"))
        rows = [
            Row(f"Contacts:contact/{slug(self.full(c))}", self.full(c), "★" if c["favorite"] else "",
                on_click=lambda c=c: self.go("contact", self.full(c)))
            for c in self.sorted_contacts()
        ]  # fmt: skip
        b.list("contacts", rows)

    def _close_dialog(self) -> None:
        self.dialog = None

    def _save_new(self) -> None:
        first, last = self.draft.get("first", "").strip(), self.draft.get("last", "").strip()
        number = self.draft.get("phone", "").strip()
        if not first or len(phone_digits(number)) < 3:
            self.message = "A contact needs a first name and a phone number"
            return
        self.contacts.append({"first": first, "last": last, "phone": number, "favorite": False})
        self.back()

    def _save_phone(self, contact: dict[str, Any]) -> None:
        number = self.draft.get("phone", "").strip()
        if len(phone_digits(number)) < 3:
            self.message = "Enter a phone number"
            return
        contact["phone"] = number
        self.back()

    def _delete(self, contact: dict[str, Any]) -> None:
        self.contacts.remove(contact)
        self.dialog = None
        self.back()

    def state(self) -> dict[str, Any]:
        return {"contacts": [dict(c) for c in self.contacts]}


class MessagesApp(App):
    """Conversations: reply in a thread, start a new one, long press to delete a thread."""

    name = "Messages"

    def __init__(self, phone: Phone) -> None:
        super().__init__(phone)
        rng = phone.rng
        contacts = phone.apps["Contacts"].contacts if "Contacts" in phone.apps else []
        names = [ContactsApp.full(c) for c in contacts]
        picks = rng.permutation(len(names))[: min(len(names), int(rng.integers(4, 8)))]
        self.threads: dict[str, list[tuple[bool, str]]] = {}
        for i in picks:
            count = int(rng.integers(1, 4))
            self.threads[names[int(i)]] = [
                (bool(rng.random() < 0.4), MESSAGE_SEEDS[int(rng.integers(len(MESSAGE_SEEDS)))])
                for _ in range(count)
            ]

    def recipient(self, text: str) -> str:
        """The contact's full name for ``text`` (full or unique first name), else ``text``."""
        contacts = self.phone.apps.get("Contacts")
        contact = contacts.find(text) if contacts is not None else None
        return ContactsApp.full(contact) if contact is not None else text.strip()

    def build(self, b: ScreenBuilder) -> None:
        page, arg = self.page
        if page == "compose":
            b.title("New message")
            b.header_button("send", "Send", self._send_new)
            b.field("to", "To", self.draft.get("to", ""))
            b.field("body", "Message", self.draft.get("body", ""), on_submit=self._send_new)
            return
        if page == "thread":
            b.title(arg)
            b.header_button("send", "Send", lambda: self._send(arg))
            b.field(
                "compose",
                "Type a message",
                self.draft.get("compose", ""),
                on_submit=lambda: self._send(arg),
            )
            rows = [
                Row(f"Messages:msg/{i}", ("You: " if mine else "") + text)
                for i, (mine, text) in enumerate(self.threads.get(arg, []))
            ]
            b.list("messages", rows, bottom=KEYBOARD_TOP if self.phone.focus else NAV_TOP)
            return
        b.title("Messages")
        b.header_button("new", "New", lambda: self.go("compose"))
        rows = [
            Row(f"Messages:thread/{slug(name)}", name, msgs[-1][1] if msgs else "",
                on_click=lambda n=name: self.go("thread", n),
                on_long=lambda n=name: setattr(self, "dialog", ("delete", n)))
            for name, msgs in reversed(self.threads.items())
        ]  # fmt: skip
        b.list("threads", rows)
        if self.dialog is not None:
            name = self.dialog[1]
            b.dialog("Delete conversation?", name, [
                ("dialog_cancel", "Cancel", self._close_dialog),
                ("dialog_delete", "Delete", lambda: self._delete(name)),
            ])  # fmt: skip

    def _close_dialog(self) -> None:
        self.dialog = None

    def _post(self, name: str, text: str) -> None:
        msgs = self.threads.pop(name, [])
        self.threads[name] = [*msgs, (True, text)]  # the thread moves to the top

    def _send(self, name: str) -> None:
        text = self.draft.get("compose", "").strip()
        if text:
            self._post(name, text)
            self.draft["compose"] = ""

    def _send_new(self) -> None:
        to, text = self.draft.get("to", "").strip(), self.draft.get("body", "").strip()
        if not to or not text:
            self.message = "Enter a recipient and a message"
            return
        name = self.recipient(to)
        self._post(name, text)
        self.stack[-1] = ("thread", name)
        self.draft = {}
        self.phone.focus = None

    def _delete(self, name: str) -> None:
        self.threads.pop(name, None)
        self.dialog = None

    def state(self) -> dict[str, Any]:
        return {"threads": {k: [list(m) for m in v] for k, v in self.threads.items()}}


EVENT_TITLES = (
    "Dentist", "Team meeting", "Yoga", "Lunch with Sam", "Project review", "Piano lesson", "Gym",
    "Book club", "Haircut", "Parents call", "Standup", "Dinner party",
)  # fmt: skip


class CalendarApp(App):
    """This week's events: add one (title, day, time), open one, delete it."""

    name = "Calendar"

    def __init__(self, phone: Phone) -> None:
        super().__init__(phone)
        rng = phone.rng
        picks = rng.permutation(len(EVENT_TITLES))[: int(rng.integers(5, 10))]
        self.events: list[dict[str, str]] = [
            {"title": EVENT_TITLES[int(i)], "day": DAYS[int(rng.integers(7))],
             "time": f"{int(rng.integers(8, 20)):02d}:{int(rng.integers(0, 2)) * 30:02d}"}
            for i in picks
        ]  # fmt: skip

    def event(self, title: str) -> dict[str, str] | None:
        return next((e for e in self.events if e["title"] == title), None)

    def sorted_events(self) -> list[dict[str, str]]:
        return sorted(self.events, key=lambda e: (DAYS.index(e["day"]), e["time"], e["title"]))

    def build(self, b: ScreenBuilder) -> None:
        page, arg = self.page
        if page == "new":
            b.title("New event")
            b.header_button("save", "Save", self._save)
            b.field("title", "Title", self.draft.get("title", ""))
            b.field("day", "Day (Mon … Sun)", self.draft.get("day", ""))
            b.field("time", "Time (HH:MM)", self.draft.get("time", ""))
            return
        event = self.event(arg) if arg else None
        if page == "event" and event is not None:
            b.title(arg)
            b.text("when", f"{event['day']} at {event['time']}")
            b.button("delete", "Delete", lambda: setattr(self, "dialog", ("delete", arg)))
            if self.dialog is not None:
                b.dialog("Delete event?", arg, [
                    ("dialog_cancel", "Cancel", self._close_dialog),
                    ("dialog_delete", "Delete", lambda: self._delete(event)),
                ])  # fmt: skip
            return
        b.title("Calendar")
        b.header_button("add", "+", lambda: self.go("new"))
        rows = [
            Row(f"Calendar:event/{slug(e['title'])}", e["title"], f"{e['day']} {e['time']}",
                on_click=lambda e=e: self.go("event", e["title"]))
            for e in self.sorted_events()
        ]  # fmt: skip
        b.list("events", rows)

    def _close_dialog(self) -> None:
        self.dialog = None

    def _save(self) -> None:
        title = self.draft.get("title", "").strip()
        day_text = self.draft.get("day", "").strip().lower()[:3]
        day = next((d for d in DAYS if d.lower() == day_text), None)
        time = valid_time(self.draft.get("time", ""))
        if not title or day is None or time is None:
            self.message = "Enter a title, a day (Mon … Sun) and a time (HH:MM)"
            return
        self.events.append({"title": title, "day": day, "time": time})
        self.back()

    def _delete(self, event: dict[str, str]) -> None:
        self.events.remove(event)
        self.dialog = None
        self.back()

    def state(self) -> dict[str, Any]:
        return {"events": [dict(e) for e in self.events]}


#: (name, category, lowest price, highest price) of the shop's catalogue.
PRODUCTS = (
    ("USB-C Charger 20W", "charger", 12, 25), ("Wireless Charger Pad", "charger", 15, 35),
    ("Car Charger Dual", "charger", 8, 20), ("Fast Charger 65W", "charger", 25, 45),
    ("USB-C Cable 1m", "cable", 5, 12), ("Lightning Cable 2m", "cable", 7, 15),
    ("Braided Cable 3m", "cable", 9, 18), ("Clear Phone Case", "case", 6, 15),
    ("Leather Wallet Case", "case", 18, 40), ("Rugged Case", "case", 14, 30),
    ("Earbuds Lite", "headphones", 20, 45), ("Over-Ear Headphones", "headphones", 45, 120),
    ("Sport Earbuds", "headphones", 25, 60), ("Screen Protector 2-pack", "protector", 5, 12),
    ("Privacy Screen Guard", "protector", 9, 20), ("Power Bank 10000", "battery", 18, 35),
    ("Power Bank 20000", "battery", 28, 50), ("Phone Stand", "stand", 8, 22),
    ("Car Mount", "stand", 10, 25), ("Bluetooth Speaker", "speaker", 25, 70),
)  # fmt: skip


class ShopApp(App):
    """A catalogue with search and sorting, product pages with a quantity, a cart, checkout."""

    name = "Shop"

    def __init__(self, phone: Phone) -> None:
        super().__init__(phone)
        rng = phone.rng
        self.products: list[dict[str, Any]] = [
            {"name": n, "category": c, "price": round(float(rng.integers(lo * 100, hi * 100)) / 100 - 0.01 * (i % 2), 2)}
            for i, (n, c, lo, hi) in enumerate(PRODUCTS)
        ]  # fmt: skip
        self.cart: dict[str, int] = {}
        self.orders: list[dict[str, int]] = []
        self.sort = "name"
        self.qty = 1

    def product(self, name: str) -> dict[str, Any] | None:
        return next((p for p in self.products if p["name"] == name), None)

    def listing(self) -> list[dict[str, Any]]:
        """The products the main page lists: filtered by the search text, sorted."""
        query = self.draft.get("search", "").strip().lower() if not self.stack else ""
        shown = [p for p in self.products if query in p["name"].lower() or query in p["category"]]
        if self.sort == "price":
            return sorted(shown, key=lambda p: (p["price"], p["name"]))
        return sorted(shown, key=lambda p: p["name"])

    def build(self, b: ScreenBuilder) -> None:
        page, arg = self.page
        cart_size = sum(self.cart.values())
        if page == "product":
            product = self.product(arg)
            b.title(arg)
            b.header_button("cart", f"Cart ({cart_size})", lambda: self.go("cart"))
            b.text("price", f"Price: ${product['price']:.2f}")
            b.text("category", f"Category: {product['category']}")
            b.buttons([
                ("qty_down", "−", lambda: setattr(self, "qty", max(1, self.qty - 1)), None),
                ("qty_up", "+", lambda: setattr(self, "qty", min(9, self.qty + 1)), None),
            ])  # fmt: skip
            b.text("qty", f"Quantity: {self.qty}")
            b.button("add_to_cart", "Add to cart", lambda: self._add(arg))
            return
        if page == "cart":
            b.title("Cart")
            total = sum(self.product(n)["price"] * q for n, q in self.cart.items())
            b.text("total", f"Total: ${total:.2f}")
            if self.cart:
                b.button(
                    "checkout", "Checkout", lambda: setattr(self, "dialog", ("checkout", None))
                )
            rows = [
                Row(f"Shop:cart/{slug(n)}", n, f"× {q}",
                    on_long=lambda n=n: setattr(self, "dialog", ("remove", n)))
                for n, q in self.cart.items()
            ]  # fmt: skip
            b.list("cart_items", rows)
            if self.dialog is not None:
                kind, name = self.dialog
                if kind == "checkout":
                    b.dialog("Place order?", f"{cart_size} items, ${total:.2f}", [
                        ("dialog_cancel", "Cancel", self._close_dialog),
                        ("dialog_confirm", "Place order", self._checkout),
                    ])  # fmt: skip
                else:
                    b.dialog("Remove from cart?", name, [
                        ("dialog_cancel", "Cancel", self._close_dialog),
                        ("dialog_remove", "Remove", lambda: self._remove(name)),
                    ])  # fmt: skip
            return
        b.title("Shop")
        b.header_button("cart", f"Cart ({cart_size})", lambda: self.go("cart"))
        b.field("search", "Search products", self.draft.get("search", ""))
        b.buttons([
            ("sort/price", "Price ↑", lambda: setattr(self, "sort", "price"), self.sort == "price"),
            ("sort/name", "Name", lambda: setattr(self, "sort", "name"), self.sort == "name"),
        ])  # fmt: skip
        rows = [
            Row(f"Shop:product/{slug(p['name'])}", p["name"], f"${p['price']:.2f}",
                on_click=lambda p=p: self._open(p["name"]))
            for p in self.listing()
        ]  # fmt: skip
        b.list("products", rows)

    def _open(self, name: str) -> None:
        search = self.draft.get("search", "")
        self.go("product", name)
        self.qty = 1
        self._search = search

    def back(self) -> bool:
        page, _ = self.page
        went = super().back()
        if went and page == "product" and self.dialog is None and not self.stack:
            self.draft["search"] = getattr(self, "_search", "")  # the list keeps its filter
        return went

    def _close_dialog(self) -> None:
        self.dialog = None

    def _add(self, name: str) -> None:
        self.cart[name] = self.cart.get(name, 0) + self.qty
        self.message = f"Added {self.qty} to the cart"

    def _remove(self, name: str) -> None:
        self.cart.pop(name, None)
        self.dialog = None

    def _checkout(self) -> None:
        self.orders.append(dict(self.cart))
        self.cart = {}
        self.dialog = None
        self.message = "Order placed"

    def state(self) -> dict[str, Any]:
        return {"cart": dict(self.cart), "orders": [dict(o) for o in self.orders]}

"""The MiniWoB++ tasks rewardgym supports and their scripted solvers.

A solver reads the task's instruction and the page's elements (``MiniWoBBrowser.elements``,
fetched afresh before every step) and yields one ``(GuiAction, target box)`` at a time, in the
phone's action schema: clicks at an element's centre (CSS pixels of the 160x210 task area),
``type`` into the focused field. The env moves a solver on only when the agent performed the
action it proposed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from rewardgym.envs.gui.actions import GuiAction

__all__ = ["MINIWOB_TASKS", "Page", "solve"]

Box = tuple[int, int, int, int]
Step = tuple[GuiAction, Box | None]


class Page:
    """What a solver can look at: the instruction and the live elements."""

    def __init__(self, utterance: str, elements: Callable[[], list[dict[str, Any]]]) -> None:
        self.utterance = utterance
        self._elements = elements

    def elements(self) -> list[dict[str, Any]]:
        return self._elements()


def _quoted(text: str) -> list[str]:
    return re.findall(r'"([^"]*)"', text)


def _norm(text: str) -> str:
    return re.sub(r"[^\w#]+", " ", text).strip().lower()


def _click(element: dict[str, Any], thought: str, page: Page | None = None) -> Step:
    """A click on ``element``: its centre, or (when ``page`` shows a later clickable element
    over the centre, as click-test-2's overlapping buttons do) the nearest uncovered point."""
    x0, y0, x1, y1 = (int(v) for v in element["bbox"])
    point = ((x0 + x1) // 2, (y0 + y1) // 2)
    if page is not None:
        elements = page.elements()
        later = elements[
            next((i for i, e in enumerate(elements) if e["bbox"] == element["bbox"]), -1) + 1 :
        ]
        covers = [e["bbox"] for e in later if e.get("clickable")]

        def free(x: int, y: int) -> bool:
            return not any(a <= x < c and b <= y < d for a, b, c, d in covers)

        if not free(*point):
            spots = [
                (x, y) for x in range(x0 + 1, x1 - 1) for y in range(y0 + 1, y1 - 1) if free(x, y)
            ]
            if spots:
                point = min(spots, key=lambda p: (p[0] - point[0]) ** 2 + (p[1] - point[1]) ** 2)
    return GuiAction("click", x=point[0], y=point[1], thought=thought), (x0, y0, x1, y1)


def _first(page: Page, predicate: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
    for element in page.elements():
        if predicate(element):
            return element
    raise LookupError(f"no {what} on the page")


def _tag(*tags: str) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e["class_name"] in tags


def _text_is(text: str, *tags: str) -> Callable[[dict[str, Any]], bool]:
    return lambda e: (not tags or e["class_name"] in tags) and _norm(e["text"]) == _norm(text)


def _type_into(
    page: Page, predicate: Callable[[dict[str, Any]], bool], text: str, what: str
) -> Iterator[Step]:
    yield _click(_first(page, predicate, what), f"I click the {what} to type into it.")
    field = _first(page, predicate, what)
    box = tuple(int(v) for v in field["bbox"])
    yield GuiAction("type", text=text, thought=f"I type “{text}”."), box  # type: ignore[misc]


def _submit(page: Page, label: str = "Submit") -> Step:
    return _click(_first(page, _text_is(label, "BUTTON"), f"{label} button"), f"I press {label}.")


def _labelled_input(page: Page, label: str, tag: str) -> dict[str, Any]:
    """The checkbox/radio whose label text is ``label`` (the input precedes its text)."""
    last = None
    for element in page.elements():
        if element["class_name"] == tag:
            last = element
        elif (
            last is not None
            and element["class_name"] == "t"
            and _norm(element["text"]) == _norm(label)
        ):
            return last
    raise LookupError(f"no {tag} labelled {label!r}")


def _click_test(page: Page) -> Iterator[Step]:
    yield _click(_first(page, _tag("BUTTON"), "button"), "There is one button; I click it.")


def _click_test_2(page: Page) -> Iterator[Step]:
    name = page.utterance.split("button", 1)[1].strip(" .")
    yield _click(
        _first(page, _text_is(name, "BUTTON"), f"button {name}"), f"I click button {name}.", page
    )


def _click_button(page: Page) -> Iterator[Step]:
    name = _quoted(page.utterance)[0]
    yield _click(
        _first(page, _text_is(name, "BUTTON"), f"button {name!r}"), f"I click the “{name}” button."
    )


def _click_button_sequence(page: Page) -> Iterator[Step]:
    for name in ("ONE", "TWO"):
        yield _click(
            _first(page, _text_is(name, "BUTTON"), f"button {name}"),
            f"I click button {name}.",
            page,
        )


def _click_link(page: Page) -> Iterator[Step]:
    name = _quoted(page.utterance)[0]
    links = [e for e in page.elements() if "alink" in e.get("classes", "")]
    # MiniWoB tells "Eget" from "eget": an exact match first, then one up to case and punctuation
    exact = [e for e in links if e["text"].strip() == name.strip()]
    loose = [e for e in links if _norm(e["text"]) == _norm(name)]
    if not exact + loose:
        raise LookupError(f"no link {name!r} on the page")
    link = (exact or loose)[0]
    yield _click(link, f"I click the link “{name}”.")


def _close_button(e: dict[str, Any]) -> bool:
    return "ui-dialog-titlebar-close" in e.get("classes", "")


def _click_dialog(page: Page) -> Iterator[Step]:
    yield _click(
        _first(page, _close_button, "dialog close button"), "I close the dialog with its x."
    )


def _click_dialog_2(page: Page) -> Iterator[Step]:
    name = _quoted(page.utterance)[0]
    if name.lower() == "x":
        yield _click(
            _first(page, _close_button, "dialog close button"), "The x button closes the dialog."
        )
    else:
        yield _click(
            _first(page, _text_is(name, "BUTTON"), f"button {name!r}"), f"I click “{name}”."
        )


def _focus_text(page: Page) -> Iterator[Step]:
    yield _click(_first(page, _tag("INPUT_text"), "text box"), "I click into the text box.")


def _focus_text_2(page: Page) -> Iterator[Step]:
    index = int(re.search(r"(\d+)", page.utterance).group(1)) - 1
    boxes = [e for e in page.elements() if e["class_name"] == "INPUT_text"]
    yield _click(boxes[index], f"I click into text box number {index + 1}.")


def _enter_text(page: Page) -> Iterator[Step]:
    text = _quoted(page.utterance)[0]
    yield from _type_into(page, _tag("INPUT_text"), text, "text field")
    yield _submit(page)


def _enter_password(page: Page) -> Iterator[Step]:
    text = _quoted(page.utterance)[0]
    yield from _type_into(page, lambda e: e["resource_id"] == "password", text, "password field")
    yield from _type_into(page, lambda e: e["resource_id"] == "verify", text, "verify field")
    yield _submit(page)


def _login_user(page: Page) -> Iterator[Step]:
    user, password = _quoted(page.utterance)[:2]
    yield from _type_into(page, lambda e: e["resource_id"] == "username", user, "username field")
    yield from _type_into(
        page, lambda e: e["resource_id"] == "password", password, "password field"
    )
    yield _submit(page, "Login")


def _click_checkboxes(page: Page) -> Iterator[Step]:
    listed = page.utterance.removeprefix("Select ").split(" and click Submit")[0]
    names = (
        [] if listed.strip() == "nothing" else [n.strip() for n in listed.split(",") if n.strip()]
    )
    for name in names:
        yield _click(_labelled_input(page, name, "INPUT_checkbox"), f"I tick {name}.")
    yield _submit(page)


def _click_option(page: Page) -> Iterator[Step]:
    name = page.utterance.removeprefix("Select ").split(" and click Submit")[0].strip()
    yield _click(_labelled_input(page, name, "INPUT_radio"), f"I choose {name}.")
    yield _submit(page)


def _click_tab(page: Page) -> Iterator[Step]:
    number = re.search(r"#(\d+)", page.utterance).group(1)
    yield _click(
        _first(page, _text_is(f"Tab #{number}", "A"), f"tab {number}"), f"I open tab #{number}."
    )


_WIDGETS = {"button": ("BUTTON",), "text": ("INPUT_text",), "checkbox": ("INPUT_checkbox",),
            "radio": ("INPUT_radio",), "textarea": ("TEXTAREA",)}  # fmt: skip


def _click_widget(page: Page) -> Iterator[Step]:
    kind = _quoted(page.utterance)[0]
    yield _click(
        _first(page, _tag(*_WIDGETS[kind]), f"{kind} widget"), f"I click the {kind} widget."
    )


#: Task name -> solver. The names are MiniWoB++'s page names.
MINIWOB_TASKS: dict[str, Callable[[Page], Iterator[Step]]] = {
    "click-test": _click_test,
    "click-test-2": _click_test_2,
    "click-button": _click_button,
    "click-button-sequence": _click_button_sequence,
    "click-link": _click_link,
    "click-dialog": _click_dialog,
    "click-dialog-2": _click_dialog_2,
    "click-tab": _click_tab,
    "click-widget": _click_widget,
    "click-checkboxes": _click_checkboxes,
    "click-option": _click_option,
    "focus-text": _focus_text,
    "focus-text-2": _focus_text_2,
    "enter-text": _enter_text,
    "enter-password": _enter_password,
    "login-user": _login_user,
}


def solve(task: str, page: Page) -> Iterator[Step]:
    """The solver of ``task`` on ``page``, ending with ``terminate`` if the page has not ended."""
    yield from MINIWOB_TASKS[task](page)
    yield GuiAction("terminate", text="success", thought="The task is done."), None

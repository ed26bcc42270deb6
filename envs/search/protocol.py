"""The MASH action protocol: parse one agent turn into a move, or say why it is not one.

A turn is text with an optional ``<think>...</think>`` and one action tag:

* ``<search>query</search>``: search the corpus (costs a search);
* ``<open>page id</open>``: read a whole page (costs an open);
* ``<answer>text</answer>``: answer and end the episode ("I don't know" abstains);
* ``<abstain/>`` (or ``<abstain></abstain>``): decline to answer and end the episode.

The same moves come as OpenAI-style tool calls: a dict ``{"name": "search", "arguments":
{"query": "..."}}`` (``arguments`` may be a JSON string, and the dict may be wrapped as
``{"type": "function", "function": {...}}`` or ``{"tool_calls": [...]}``, as in a chat
completion's message), that dict as JSON text, or a call written as text,
``search("query")``/``answer(text)``. A chat message without tool calls is parsed by its
``content``.

The first complete action tag is the move (a model sampled with ``</search>`` as a stop string
never writes a second one); a turn that holds anything but whitespace besides one optional
think block and that tag is *not well formed* (the ``format`` component is 0) but still acts.
What cannot be acted on (no tag, an unclosed or nested tag, an empty query, bytes that are not
UTF-8) is an :class:`Invalid` with the reason. Parsing is one linear scan: a megabyte of text
costs milliseconds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from rewardgym.envs.search.answers import is_abstention

__all__ = ["Invalid", "Move", "parse_action"]

MoveKind = Literal["search", "open", "answer", "abstain"]

_TAG = re.compile(r"<\s*(/?)\s*(think|search|open|answer|abstain)\s*(/?)\s*>", re.IGNORECASE)
_CALL = re.compile(r"\A\s*(search|open|answer|abstain)\s*\((.*)\)\s*\Z", re.IGNORECASE | re.S)
#: The argument name of each tool (OpenAI tool-call schema).
TOOL_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "search": ("query", "q"),
    "open": ("page_id", "id", "page"),
    "answer": ("text", "answer"),
    "abstain": (),
}


class Move(NamedTuple):
    """One parsed move: its kind, its argument, and whether the turn was well formed.

    Immutable (a named tuple: a quarter of a frozen dataclass's construction cost, paid on
    every step)."""

    kind: MoveKind
    argument: str = ""
    well_formed: bool = True
    via: Literal["tag", "tool_call"] = "tag"


@dataclass(frozen=True)
class Invalid:
    """A turn that cannot be acted on, and why."""

    reason: str


def _move(kind: str, argument: str, *, well_formed: bool, via: Any) -> Move | Invalid:
    kind = kind.lower()
    argument = argument.strip()
    if kind == "answer" and is_abstention(argument):
        return Move("abstain", argument, well_formed, via)
    if kind in ("search", "open", "answer") and not argument:
        return Invalid(f"empty <{kind}>: put the {'query' if kind == 'search' else kind} inside")
    return Move(kind, argument, well_formed, via)  # type: ignore[arg-type]


def _parse_tags(text: str) -> Move | Invalid:
    tags = list(_TAG.finditer(text))
    if not tags:
        return Invalid(
            "no action tag: end the turn with <search>query</search>, <answer>text</answer> "
            "or <abstain/>"
        )
    outside: list[str] = []  # text outside think/action, to judge the format
    pos = 0
    i = 0
    saw_think = False
    while i < len(tags):
        tag = tags[i]
        closing, name, selfclosing = tag[1] == "/", tag[2].lower(), tag[3] == "/"
        outside.append(text[pos : tag.start()])
        if closing:
            return Invalid(f"</{name}> closes a tag that was never opened")
        if name == "abstain" and selfclosing:
            rest = text[tag.end() :]
            outside.append(rest)
            ok = not "".join(outside).strip() and not _TAG.search(rest)
            return Move("abstain", "", ok)
        # Find the matching close; any other tag in between is nesting.
        if i + 1 >= len(tags):
            return Invalid(f"unclosed <{name}> tag: close it with </{name}>")
        nxt = tags[i + 1]
        if nxt[2].lower() != name or nxt[1] != "/":
            return Invalid(f"<{nxt[1]}{nxt[2].lower()}> inside <{name}>: tags may not be nested")
        body = text[tag.end() : nxt.start()]
        pos = nxt.end()
        i += 2
        if name == "think":
            saw_think_before = saw_think
            saw_think = True
            if saw_think_before:
                outside.append("<think>")  # a second think block is not the protocol
            continue
        rest = text[pos:]
        outside.append(rest)
        ok = not "".join(outside).strip() and not _TAG.search(rest)
        return _move(name, body, well_formed=ok, via="tag")
    return Invalid("only <think> and no action: end with <search>, <answer> or <abstain/>")


def _tool_call(call: Mapping[str, Any]) -> Move | Invalid:
    plain_message = not any(key in call for key in ("tool_calls", "function", "name"))
    if plain_message and isinstance(call.get("content"), str):
        return parse_action(call["content"])  # a chat message whose text holds the tags
    if "tool_calls" in call:
        calls = call["tool_calls"]
        if not isinstance(calls, list) or not calls:
            return Invalid("tool_calls must be a non-empty list")
        first = _tool_call(calls[0]) if isinstance(calls[0], Mapping) else Invalid("bad call")
        if isinstance(first, Move) and len(calls) > 1:
            return Move(first.kind, first.argument, False, "tool_call")
        return first
    if "function" in call and isinstance(call["function"], Mapping):
        call = call["function"]
    name = call.get("name")
    if not isinstance(name, str) or name.lower() not in TOOL_ARGUMENTS:
        return Invalid(f"unknown tool {name!r}; tools: {sorted(TOOL_ARGUMENTS)}")
    name = name.lower()
    arguments = call.get("arguments", {})
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError as exc:
            return Invalid(f"{name}: arguments are not valid JSON ({exc.msg})")
    if isinstance(arguments, str):
        value = arguments
    elif isinstance(arguments, Mapping):
        keys = TOOL_ARGUMENTS[name]
        found = [arguments[k] for k in keys if k in arguments]
        if keys and not found:
            return Invalid(f"{name}: missing argument {keys[0]!r}")
        value = found[0] if found else ""
        if not isinstance(value, str):
            return Invalid(f"{name}: argument {keys[0]!r} must be a string")
    else:
        return Invalid(f"{name}: arguments must be an object")
    return _move(name, value, well_formed=True, via="tool_call")


def _parse_call_text(match: re.Match[str]) -> Move | Invalid:
    name, raw = match[1].lower(), match[2].strip()
    if raw[:1] in "\"'" and raw[-1:] == raw[:1] and len(raw) >= 2:
        try:
            raw = json.loads(raw) if raw[0] == '"' else raw[1:-1]
        except json.JSONDecodeError:
            raw = raw[1:-1]
    elif raw[:1] == "{":
        return _tool_call({"name": name, "arguments": raw})
    return _move(name, raw, well_formed=True, via="tool_call")


#: ``(name, opening tag, closing tag)`` of the actions :func:`_bare_tag` recognises.
_BARE_TAGS = tuple((name, f"<{name}>", f"</{name}>") for name in ("search", "answer", "open"))


def _bare_tag(text: str) -> Move | Invalid | None:
    """The common turn ``<search>q</search>`` (one lower-case tag and nothing else) without the
    regex scan; None for anything else."""
    if text[:1] != "<" or text.count("<") != 2:
        return None
    if text.startswith("<search>") and text.endswith("</search>"):  # the most common turn
        query = text[8:-9].strip()
        return Move("search", query) if query else _move("search", "", well_formed=True, via="tag")
    for name, opening, closing in _BARE_TAGS:
        if text.startswith(opening) and text.endswith(closing):
            return _move(name, text[len(opening) : -len(closing)], well_formed=True, via="tag")
    return None


def parse_action(action: Any) -> Move | Invalid:
    """Parse one agent turn (text, UTF-8 bytes, or a tool-call dict) into a move.

    Never raises on agent output: anything unusable comes back as :class:`Invalid`.

    Raises:
        TypeError: only for an action that no agent could produce (not text, bytes or dict).
    """
    if isinstance(action, str):
        if action[:1] == "<" and action.isascii():  # a bare tag: no JSON, no surrogates
            if action.startswith("<search>") and action.endswith("</search>"):  # most turns
                query = action[8:-9].strip()
                if query and "<" not in query:
                    return Move("search", query)
            fast = _bare_tag(action.strip())
            if fast is not None:
                return fast
        # the common case first: text skips the bytes and (slow, ABC) Mapping checks
    elif isinstance(action, (bytes, bytearray)):
        try:
            action = bytes(action).decode("utf-8")
        except UnicodeDecodeError as exc:
            return Invalid(f"the action is not valid UTF-8 ({exc.reason} at byte {exc.start})")
    elif isinstance(action, Mapping):
        return _tool_call(action)
    else:
        raise TypeError(
            f"search actions are text, UTF-8 bytes or a tool-call dict, got {type(action).__name__}"
        )
    try:
        action.encode("utf-8")
    except UnicodeEncodeError as exc:
        return Invalid(f"the action is not valid UTF-8 text ({exc.reason} at index {exc.start})")
    stripped = action.strip()
    if stripped.startswith("{") and stripped.endswith("}") and '"name"' in stripped[:4096]:
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError:
            data = None
        if isinstance(data, Mapping):
            return _tool_call(data)
    fast = _bare_tag(stripped)
    if fast is not None:
        return fast
    if "<" not in action:
        call = _CALL.match(action) if len(action) < 65_536 else None
        if call is not None:
            return _parse_call_text(call)
    return _parse_tags(action)

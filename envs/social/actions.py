"""The action space of the social deduction game and the checks of agent input.

An action is a dict ``{"action": int, "message": str, "survey": float32 (n,)}``; only the field
the current phase needs is read (the others are ignored), and a bare ``int``, ``str`` or vector
stands for the dict with just that field. :class:`SocialActionSpace` is a ``Dict`` space whose
``sample(mask)`` also takes the observation's flat ``action_mask`` (PettingZoo's convention),
applied to the discrete head.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from gymnasium import spaces

from rewardgym.spaces import text

__all__ = ["SocialActionSpace", "clean_message", "read_index", "split_action"]

ACTION_FIELDS = frozenset(("action", "message", "survey"))


class SocialActionSpace(spaces.Dict):
    """``Dict(action=Discrete(k), message=Text, survey=Box(0, 1, (n,)))``.

    ``sample(mask)`` accepts a flat int8 mask over ``action`` (the observation's
    ``action_mask``) as well as a dict of per-field masks.
    """

    def __init__(self, num_actions: int, num_players: int, max_message_chars: int) -> None:
        super().__init__(
            {
                "action": spaces.Discrete(num_actions),
                "message": text(max_message_chars),
                "survey": spaces.Box(0.0, 1.0, (num_players,), np.float32),
            }
        )

    def sample(self, mask: Any = None, probability: Any = None) -> dict[str, Any]:
        if isinstance(mask, np.ndarray):
            mask = {"action": mask, "message": None, "survey": None}
        if mask is None:
            mask = {}
        return {
            key: (space.sample(mask=mask.get(key)) if mask.get(key) is not None else space.sample())
            for key, space in self.spaces.items()
        }


def split_action(action: Any) -> tuple[dict[str, Any], str | None]:
    """The fields of an agent's action, or the reason it has none we can read.

    A dict keeps its ``action``/``message``/``survey`` keys; an int is the discrete head, a
    ``str``/``bytes`` the message, a list or array the survey.
    """
    if isinstance(action, dict):
        if ACTION_FIELDS.issuperset(action):
            return action, None
        unknown = sorted(str(k) for k in action if k not in ACTION_FIELDS)
        if unknown:
            return {k: v for k, v in action.items() if k in ("action", "message", "survey")}, (
                f"unknown action fields {unknown} ignored (use action, message, survey)"
            )
        return action, None
    if action is None:
        return {}, None
    if isinstance(action, (numbers.Integral, np.integer)) and not isinstance(action, bool):
        return {"action": int(action)}, None
    if isinstance(action, np.ndarray) and action.shape == () and action.dtype.kind in "iu":
        return {"action": int(action)}, None
    if isinstance(action, (str, bytes)):
        return {"message": action}, None
    if isinstance(action, (list, tuple, np.ndarray)):
        return {"survey": action}, None
    return {}, f"cannot read an action of type {type(action).__name__}"


def clean_message(value: Any, max_chars: int) -> tuple[str, str | None]:
    """The message as it will be said, and why it had to be changed (None if it did not).

    Non-text and non-UTF-8 input is dropped (the speaker says nothing); text over
    ``max_chars`` is cut; characters that are not printable (other than newline and tab) are
    replaced by spaces.
    """
    if isinstance(value, (bytes, bytearray)):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError as exc:
            return "", f"message is not valid UTF-8 ({exc.reason} at byte {exc.start}); dropped"
    if not isinstance(value, str):
        return "", f"message must be text, got {type(value).__name__}; dropped"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return "", f"message is not valid UTF-8 ({exc.reason}); dropped"
    reasons = []
    if len(value) > max_chars:
        reasons.append(f"message has {len(value)} characters, limit {max_chars}; cut")
        value = value[:max_chars]
    if not value.isprintable():
        cleaned = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in value)
        if cleaned != value:
            reasons.append("non-printable characters replaced by spaces")
            value = cleaned
    return value, "; ".join(reasons) or None


def read_index(value: Any) -> int | None:
    """``value`` as a discrete action index, or None if it is not an integer."""
    if type(value) is int:
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, (numbers.Integral, np.integer)):
        return int(value)
    if isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "iu":
        return int(value)
    return None

"""Reward math of the social deduction game (METHODS.md §4), as pure functions.

* :func:`imposter_mass` — how much of one survey's probability sits on the true imposters;
* :func:`crew_belief` — ``P``: the summed crew belief in the true imposters;
* :func:`speaking_reward` — the speaker's ``Delta`` from the crew beliefs before and after
  a message (``+Delta`` for a crewmate speaker, ``-Delta`` for an imposter);
* :func:`validate_survey` — the env's check of a survey vector.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "DEFAULT_WEIGHTS",
    "REWARD_COMPONENTS",
    "crew_belief",
    "imposter_mass",
    "speaking_reward",
    "validate_survey",
]

#: The per-agent reward components, in the order ``info["reward_components"]`` lists them.
REWARD_COMPONENTS = ("win", "task", "discussion", "held_out")
#: The paper's weights: ``1.0*win + 0.2*task + 1.0*discussion``; ``held_out`` is logged only.
DEFAULT_WEIGHTS = {"win": 1.0, "task": 0.2, "discussion": 1.0, "held_out": 0.0}

_FLOAT64 = np.dtype(np.float64)


def imposter_mass(belief: np.ndarray, imposters: Iterable[int]) -> float:
    """The probability ``belief`` puts on the true imposters (summed over them, in order)."""
    mass = 0.0
    for i in imposters:
        mass += float(belief[i])
    return mass


def crew_belief(beliefs: Iterable[np.ndarray], imposters: Sequence[int]) -> float:
    """``P``: the crew's beliefs in the true imposters, summed over crewmates (in order)."""
    total = 0.0
    for b in beliefs:
        total += imposter_mass(b, imposters)
    return total


def speaking_reward(before: float, after: float, speaker_is_imposter: bool) -> float:
    """The speaker's reward for one message: ``Delta = after - before``, negated for imposters.

    Args:
        before: ``P`` from the survey before the message.
        after: ``P`` from the survey after it.
        speaker_is_imposter: whether the speaker is an imposter.
    """
    delta = after - before
    return -delta if speaker_is_imposter else delta


def validate_survey(value: Any, n: int, tolerance: float) -> tuple[np.ndarray | None, str | None]:
    """Check a survey: ``n`` finite, non-negative probabilities summing to one.

    Returns:
        ``(belief, None)`` with the belief as float64 (renormalised within the tolerance), or
        ``(None, reason)`` saying what is wrong.
    """
    if type(value) is np.ndarray and value.shape == (n,):  # the common cases first
        if n < 8 and value.dtype is _FLOAT64:
            # numpy adds fewer than 8 float64 in order: a Python loop gives the same float
            values = value.tolist()
            total = 0.0
            for x in values:
                total += x  # NaN/inf make the sum non-finite
            if abs(total - 1.0) <= tolerance and min(values) >= 0:
                return (value.copy() if total == 1.0 else value / total), None  # x / 1.0 == x
        elif value.dtype.kind == "f":
            total = float(value.sum())
            if abs(total - 1.0) <= tolerance and value.min() >= 0:
                if value.dtype != np.float64:
                    value = value.astype(np.float64)
                return value / total, None  # a new array either way
    if value is None:
        return None, "no survey was given"
    try:
        belief = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None, f"survey is not a vector of numbers ({type(value).__name__})"
    if belief.shape != (n,):
        return None, f"survey has shape {belief.shape}, expected ({n},): one entry per player"
    if not np.all(np.isfinite(belief)):
        return None, "survey contains NaN or infinity"
    if np.any(belief < 0):
        return None, "survey contains negative probabilities"
    total = float(belief.sum())
    if not math.isfinite(total) or abs(total - 1.0) > tolerance:
        return None, f"survey sums to {total:.6g}, not 1 (tolerance {tolerance:g})"
    return belief / total, None

"""The Agent protocol every baseline, expert, LLM agent and trained policy follows.

An agent is anything with ``reset(seed)`` and ``act(observation, info) -> action``
(ARCHITECTURE.md §6). Agents that spend money or tokens report it through ``usage()``, which the
bench runner adds to the episode's ``cost``.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = ["Agent"]


@runtime_checkable
class Agent(Protocol):
    """A policy the bench runner and trainers can drive through the step API.

    Attributes:
        name: a short, stable name used in results (e.g. ``"random"``, ``"code-oracle"``).
    """

    name: str

    def reset(self, seed: int | None = None) -> None:
        """Start a new episode; ``seed`` makes a stochastic agent reproducible."""
        ...

    def act(self, observation: Any, info: dict[str, Any]) -> Any:
        """Return the action for ``observation`` (malformed output is the env's to score)."""
        ...

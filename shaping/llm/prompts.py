"""Prompt templates of the LLM-derived rewards and the parsers of their answers.

A :class:`PromptTemplate` turns a text (a game message, a pair of messages, an answer to
judge) into the prompt an LLM labels; :func:`prompt_hash` keys the label cache and the
provenance records. The wording is ours; the protocol follows ONI (METHODS §5): the
annotator asks whether one message is *helpful* for progress, the ranking model asks which
of two messages is; each answer ends with a short, machine-readable verdict.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from rewardgym.errors import ConfigError

__all__ = [
    "HELPFULNESS_PROMPTS",
    "PAIRWISE_PROMPTS",
    "PromptTemplate",
    "content_hash",
    "parse_helpful",
    "parse_preference",
    "prompt_hash",
]

_SYSTEM_NETHACK = (
    "You judge play in NetHack-like roguelike games, honestly and briefly. The player wants to "
    "go deeper into the dungeon, stay alive, and collect what helps with that."
)


@dataclass(frozen=True)
class PromptTemplate:
    """A prompt with ``{message}`` (or ``{first}``/``{second}``) slots.

    Attributes:
        name: the template's name, recorded in ``shaping_spec()``.
        text: the template; the slot values are inserted verbatim.
        kind: ``"helpful"`` (one message, answer yes/no) or ``"pairwise"`` (two messages,
            answer 1, 2 or none).
    """

    name: str
    text: str
    kind: str = "helpful"

    def __post_init__(self) -> None:
        slots = ("{first}", "{second}") if self.kind == "pairwise" else ("{message}",)
        if self.kind not in ("helpful", "pairwise"):
            raise ConfigError(
                f"PromptTemplate.kind must be 'helpful' or 'pairwise', got {self.kind!r}"
            )
        missing = [s for s in slots if s not in self.text]
        if missing:
            raise ConfigError(f"prompt template {self.name!r} lacks the slot(s) {missing}")

    def render(self, message: str, second: str | None = None) -> str:
        """The prompt for ``message`` (and ``second`` for a pairwise template)."""
        if self.kind == "pairwise":
            return self.text.replace("{first}", message).replace("{second}", second or "")
        return self.text.replace("{message}", message)

    @property
    def hash(self) -> str:
        """The template's own hash (provenance of a whole reward model)."""
        return prompt_hash(self.text)


def prompt_hash(prompt: str) -> str:
    """SHA-256 (hex, 16 chars) of a rendered prompt: the label cache key with the model id."""
    return hashlib.sha256(prompt.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def content_hash(text: str) -> str:
    """SHA-256 (hex, 16 chars) of a text: the annotator's dedup key."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


HELPFULNESS_PROMPTS: dict[str, PromptTemplate] = {
    "nethack": PromptTemplate(
        "nethack-helpful-v1",
        _SYSTEM_NETHACK
        + "\n\nBelow is one message the game printed during play. Using what you know about "
        "NetHack, think about what the message says about the player's progress: does it show "
        "the player getting closer to the goal, finding useful items or passages, or learning "
        "something that helps? Messages that are empty, routine or report a failure are not "
        "helpful.\n\nMessage: <<{message}>>\n\nGive a one-sentence reason, then finish with "
        '("helpful": yes) or ("helpful": no).',
    ),
    "generic": PromptTemplate(
        "generic-helpful-v1",
        "An agent is working on a task in a text environment. Below is one message the "
        "environment showed it.\n\nMessage: <<{message}>>\n\nDoes this message show progress "
        'towards finishing the task? Finish with ("helpful": yes) or ("helpful": no).',
    ),
}
HELPFULNESS_PROMPTS["dungeon"] = HELPFULNESS_PROMPTS["nethack"]

PAIRWISE_PROMPTS: dict[str, PromptTemplate] = {
    "nethack": PromptTemplate(
        "nethack-pairwise-v1",
        _SYSTEM_NETHACK + "\n\nBelow are two messages the game printed (either may be empty).\n\n"
        "Message 1: <<{first}>>\nMessage 2: <<{second}>>\n\nWhich one shows more progress "
        'towards the goal? Compare them briefly, then finish with ("best": 1), ("best": 2) '
        'or ("best": none).',
        kind="pairwise",
    ),
}
PAIRWISE_PROMPTS["dungeon"] = PAIRWISE_PROMPTS["nethack"]
PAIRWISE_PROMPTS["generic"] = PAIRWISE_PROMPTS["nethack"]

_HELPFUL_RE = re.compile(r"\"?helpful\"?\s*[:=]\s*\"?(yes|no|true|false)\b", re.IGNORECASE)
_BEST_RE = re.compile(r"\"?best\"?\s*[:=]\s*\"?(1|2|none|tie)\b", re.IGNORECASE)


def parse_helpful(answer: str) -> float | None:
    """1.0 / 0.0 from the last ``("helpful": yes|no)`` verdict in ``answer``; None if absent."""
    found = _HELPFUL_RE.findall(answer)
    if not found:
        return None
    return 1.0 if found[-1].lower() in ("yes", "true") else 0.0


def parse_preference(answer: str) -> float | None:
    """ONI's ranking label from the last ``("best": ...)`` verdict: 1.0 when the first message
    is preferred, 0.0 the second, 0.5 a tie; None if there is no verdict."""
    found = _BEST_RE.findall(answer)
    if not found:
        return None
    verdict = found[-1].lower()
    return {"1": 1.0, "2": 0.0}.get(verdict, 0.5)

"""``LetterSetEnv``: write text using only a given set of letters (a toy text env for trainers)."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rewardgym.envs.base import AgenticEnv
from rewardgym.errors import ConfigError, InvalidAction
from rewardgym.spaces import text

__all__ = ["LETTER_TASKS", "LetterSetConfig", "LetterSetEnv", "letter_score"]

#: The task bank: task id -> the letters a reply may use.
LETTER_TASKS: dict[str, str] = {
    "vowels": "aeiou",
    "abc": "abc",
    "digits": "0123456789",
    "xyz": "xyz",
    "nesw": "nesw",
    "binary": "01",
    "hex": "0123456789abcdef",
    "stairs": "<>",
}


def letter_score(reply: str, allowed: str, min_chars: int) -> float:
    """The fraction of ``reply``'s non-space characters that are in ``allowed``, scaled down
    when the reply has fewer than ``min_chars`` of them (so an empty reply scores 0)."""
    chars = [c for c in reply if not c.isspace()]
    if not chars:
        return 0.0
    good = sum(c in allowed for c in chars)
    return good / len(chars) * min(1.0, len(chars) / min_chars)


class LetterSetConfig(BaseModel):
    """The constructor arguments of :class:`LetterSetEnv` (validated at ``gym.make``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task_ids: list[str] | None = None
    turns: int = Field(1, ge=1, le=32)
    min_chars: int = Field(4, ge=1, le=1024)
    max_action_length: int = Field(4096, ge=1)
    reward_weights: dict[str, float] | None = None

    @field_validator("task_ids")
    @classmethod
    def _known(cls, ids: list[str] | None) -> list[str] | None:
        if ids is not None:
            unknown = sorted(set(ids) - set(LETTER_TASKS))
            if unknown or not ids:
                raise ValueError(f"unknown task ids {unknown}; valid: {sorted(LETTER_TASKS)}")
        return ids


class LetterSetEnv(AgenticEnv):
    """Reply with text made only of the letters the prompt names.

    ## Description

    A toy text env with a dense, fully specified reward, so that a trainer's learning test can
    show improvement in minutes on a CPU with a tiny randomly initialised model. Each task names
    a set of letters (``vowels`` = ``aeiou``, ``digits``, ``binary``, ...); the agent replies
    with free text; the reward is the fraction of the reply's non-space characters that are in
    the set. With ``turns > 1`` the episode is multi-turn: every reply is scored and the next
    observation repeats the instruction with the previous score.

    ## Action Space

    ``PrintableText(max_action_length)``: any printable text. A non-``str`` action raises
    :class:`~rewardgym.errors.InvalidAction`; an over-long reply is scored as an invalid action
    (``task`` 0, ``format`` 0).

    ## Observation Space

    ``PrintableText``: the instruction, e.g. ``"Reply using only these letters: a e i o u"``,
    and from the second turn on the previous reply's score.

    ## Rewards

    | component | default weight | meaning |
    |---|---|---|
    | ``task`` | 1.0 / turns | fraction of non-space characters in the set (scaled down below ``min_chars`` of them) |
    | ``format`` | 0.0 | 1 if the reply was a usable string within the length limit |

    The per-turn ``task`` weight is ``1 / turns`` so that an episode's return lies in [0, 1].

    ## Starting State

    A task drawn uniformly from ``task_ids`` (all of :data:`LETTER_TASKS` by default) with the
    env's ``np_random``; ``reset(options={"task_id": ...})`` picks one.

    ## Episode End

    Terminates after ``turns`` replies. ``success`` is true when every reply scored 1.

    ## Arguments

    ``render_mode`` (None or ``"ansi"``: the last observation), ``task_ids`` (subset of
    :data:`LETTER_TASKS`), ``turns`` (1), ``min_chars`` (4),
    ``max_action_length`` (4096), ``reward_weights``.

    ## Version History

    * v0: initial version.
    """

    COMPONENTS: ClassVar[tuple[str, ...]] = ("task", "format")
    RESET_OPTIONS: ClassVar[dict[str, type | tuple[type, ...]]] = {"task_id": str}
    DEFAULT_WEIGHTS: ClassVar[dict[str, float]] = {"task": 1.0, "format": 0.0}
    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, render_mode: str | None = None, **kwargs: Any) -> None:
        try:
            self.config = LetterSetConfig(**kwargs)
        except ValidationError as exc:
            raise ConfigError(f"LetterSetEnv: {exc}") from None
        cfg = self.config
        weights = {"task": 1.0 / cfg.turns, **(cfg.reward_weights or {})}
        super().__init__(weights)
        if render_mode not in (None, "ansi"):
            raise ConfigError(f"render_mode must be None or 'ansi', got {render_mode!r}")
        self.render_mode = render_mode
        self.task_ids = list(cfg.task_ids or LETTER_TASKS)
        self.action_space = text(cfg.max_action_length)
        self.observation_space = text(256)
        self._allowed = ""
        self._turn = 0
        self._all_perfect = True
        self._last = ""

    def _prompt(self, previous: float | None) -> str:
        letters = " ".join(self._allowed)
        head = f"Reply using only these letters: {letters}"
        return head if previous is None else f"{head}\nYour last reply scored {previous:.2f}."

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        task_id = self._reset_options(options).get("task_id")
        if task_id is None:
            task_id = self.task_ids[int(self.np_random.integers(len(self.task_ids)))]
        elif task_id not in LETTER_TASKS:
            raise ConfigError(f"unknown task_id {task_id!r}; valid: {sorted(LETTER_TASKS)}")
        self._allowed = LETTER_TASKS[task_id]
        self._turn = 0
        self._all_perfect = True
        self._last = self._prompt(None)
        return self._last, self._start_episode(task_id)

    def step(self, action: Any) -> tuple[str, float, bool, bool, dict[str, Any]]:
        self._check_running()
        if not isinstance(action, str):
            raise InvalidAction(f"LetterSetEnv expects a str action, got {type(action).__name__}")
        self._turn += 1
        invalid = None
        if len(action) > self.config.max_action_length:
            invalid = f"reply longer than max_action_length={self.config.max_action_length}"
            score, fmt = 0.0, 0.0
        else:
            score, fmt = letter_score(action, self._allowed, self.config.min_chars), 1.0
        self._all_perfect &= score >= 1.0
        done = self._turn >= self.config.turns
        reward, info = self._finish_step(
            {"task": score, "format": fmt},
            terminated=done,
            success=self._all_perfect if done else None,
            invalid_action=invalid,
        )
        self._last = self._prompt(score)
        return self._last, reward, done, False, info

    def render(self) -> str | None:
        if self.render_mode is None:
            self._render_mode_missing()
            return None
        return self._last

"""The social deduction game's settings (pydantic, validated once) and its action layout.

:class:`SocialConfig` holds every rule parameter; :class:`ActionLayout` maps the one discrete
action head (gameplay choices and votes) to indices, so that the env's ``action_mask`` and the
agents agree on what index ``k`` means for a given number of players.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rewardgym.errors import ConfigError

__all__ = [
    "COLOURS",
    "GAMEPLAY",
    "MOVES",
    "PHASES",
    "SPEAK",
    "SURVEY",
    "VOTE",
    "ActionLayout",
    "SocialConfig",
    "make_config",
]

#: Display names of the seats in the natural-language view (seat i is ``COLOURS[i]``).
COLOURS = ("Red", "Blue", "Green", "Pink", "Orange", "Yellow", "Black", "White", "Purple", "Cyan")
#: Movement directions in action order, as (name, dx, dy); north is y - 1.
MOVES = (("north", 0, -1), ("south", 0, 1), ("west", -1, 0), ("east", 1, 0))
#: The phases of the game, in the order of the observation's ``phase`` one-hot.
PHASES = ("gameplay", "survey", "speak", "vote")
#: The phases as indices into :data:`PHASES` (what ``SocialGame.phase`` holds).
GAMEPLAY, SURVEY, SPEAK, VOTE = range(len(PHASES))


class SocialConfig(BaseModel):
    """Rules of one social deduction game (the defaults are the paper's, with 5 players).

    Durations are in gameplay ticks (one env step of the gameplay phase is one tick).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    num_players: int = Field(5, ge=4, le=10, description="seats at the table")
    num_imposters: int = Field(1, ge=1, le=2, description="imposters among them")
    width: int = Field(3, ge=1, le=6, description="columns of the grid of rooms")
    height: int = Field(2, ge=1, le=6, description="rows of the grid of rooms")
    num_tasks: int = Field(5, ge=1, le=20, description="tasks per crewmate")
    task_time: int = Field(5, ge=1, le=50, description="ticks one task takes")
    move_time: int = Field(5, ge=1, le=50, description="ticks a move to a neighbour takes")
    kill_cooldown: int = Field(20, ge=0, le=500, description="ticks between two kills")
    meeting_interval: int = Field(
        40, ge=0, le=10_000, description="a meeting is called every this many ticks (0 = never)"
    )
    messages_per_player: int = Field(
        2, ge=0, le=10, description="discussion length: messages each living player sends"
    )
    max_steps: int = Field(2000, ge=1, description="env steps before the game is truncated")
    max_message_chars: int = Field(1000, ge=1, le=100_000, description="longest message")
    max_text_chars: int = Field(
        8192, ge=256, le=1_000_000, description="tail of the transcript in the text view"
    )
    survey_tolerance: float = Field(
        1e-3, gt=0, lt=0.5, description="|sum(survey) - 1| accepted as summing to one"
    )

    @model_validator(mode="after")
    def _playable(self) -> SocialConfig:
        if 2 * self.num_imposters >= self.num_players:
            raise ValueError(
                f"num_imposters={self.num_imposters} would win at once with "
                f"num_players={self.num_players}; imposters must be fewer than the crew"
            )
        return self

    @property
    def num_rooms(self) -> int:
        return self.width * self.height

    @property
    def start_room(self) -> int:
        """Everyone starts (and returns after each meeting) in the middle of the top row."""
        return (self.width - 1) // 2


def make_config(**kwargs: Any) -> SocialConfig:
    """Validate ``kwargs`` into a :class:`SocialConfig`.

    Raises:
        ConfigError: naming the first bad field and the valid fields.
    """
    try:
        return SocialConfig(**kwargs)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "config"
        raise ConfigError(
            f"bad social deduction setting {where!r}: {first['msg']}; "
            f"valid settings: {sorted(SocialConfig.model_fields)}"
        ) from None


class ActionLayout:
    """Indices of the discrete action head for ``n`` players.

    ``0`` none (nothing to choose this phase, or keep going while busy), ``1`` wait, ``2..5``
    move north/south/west/east, ``6`` do a task, then ``n`` kill targets (``kill + j``), ``n``
    report targets (``report + j``), ``n`` vote targets (``vote + j``) and one skip vote.
    """

    NONE = 0
    WAIT = 1
    MOVE = 2
    TASK = 6
    KILL = 7

    __slots__ = ("n", "report", "size", "skip", "vote")

    def __init__(self, n: int) -> None:
        self.n = n
        self.report = self.KILL + n
        self.vote = self.KILL + 2 * n
        self.skip = self.KILL + 3 * n
        self.size = self.skip + 1

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ActionLayout) and other.n == self.n

    def __hash__(self) -> int:
        return hash(self.n)

    def name(self, index: int) -> str:
        """A readable name of action ``index`` (e.g. ``"kill player_2"``)."""
        if index == self.NONE:
            return "none"
        if index == self.WAIT:
            return "wait"
        if self.MOVE <= index < self.TASK:
            return f"go {MOVES[index - self.MOVE][0]}"
        if index == self.TASK:
            return "do task"
        if self.KILL <= index < self.report:
            return f"kill player_{index - self.KILL}"
        if self.report <= index < self.vote:
            return f"report body of player_{index - self.report}"
        if self.vote <= index < self.skip:
            return f"vote player_{index - self.vote}"
        if index == self.skip:
            return "vote skip"
        return f"unknown action {index}"

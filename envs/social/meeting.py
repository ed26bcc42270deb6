"""The meeting of the social deduction game: surveys, messages and the vote.

A discussion starts on a report or an emergency meeting. Every living seat answers a survey
("who is the imposter?") before the first message and after each message, the living seats
speak in a shuffled order, then everyone votes; the game goes back to gameplay unless a side
has won. :class:`MeetingPhase` holds these rules as the part of
:class:`~rewardgym.envs.social.game.SocialGame` that it inherits; :class:`SurveyRecord` is one
survey answer with the truth (the listening signal).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rewardgym.envs.social.config import GAMEPLAY, SPEAK, SURVEY, VOTE
from rewardgym.envs.social.rewards import crew_belief, imposter_mass, speaking_reward

__all__ = ["MeetingPhase", "SurveyRecord"]


@dataclass(frozen=True)
class SurveyRecord:
    """One seat's answer to one survey: the listening signal (privileged; see the env docs).

    Attributes:
        discussion: 0-based index of the discussion in the game.
        index: 0 for the survey before the first message, m after message m.
        seat: the surveyed seat.
        is_imposter: whether that seat is an imposter.
        belief: the seat's probability vector over seats (as used by the env).
        imposters: the true imposter seats.
        valid: False where the seat's survey was invalid and the uniform fallback was used.
    """

    discussion: int
    index: int
    seat: int
    is_imposter: bool
    belief: np.ndarray
    imposters: tuple[int, ...]
    valid: bool


class MeetingPhase:
    """The discussion and the vote of :class:`~rewardgym.envs.social.game.SocialGame`.

    A mixin: it works on the state that ``SocialGame`` sets up (seats, roles, the transcript,
    the reward components) and uses its ``_tell``, ``_tell_all``, ``_check_win`` and
    ``_describe_rooms``. ``SocialGame.play_tick`` calls :meth:`_start_discussion`; the env then
    calls :meth:`answer_survey`, :meth:`speak` and :meth:`vote` as the phase asks.
    """

    # -- discussion --------------------------------------------------------------------------

    def _start_discussion(self) -> None:
        self.discussion += 1
        self.body_room[:] = -1
        self.bodies = 0
        self.version += 1
        self.busy[:] = 0
        self.activity = [None] * self.n
        self.working_on[:] = -1
        living = [int(s) for s in self.alive.nonzero()[0]]
        order = [living[i] for i in self.rng.permutation(len(living))]
        self.speakers = order * self.cfg.messages_per_player
        self.message = 0
        self.speaker = -1
        self._prior_p = None
        self._prior_observer = None
        self.phase = SURVEY
        self._tell_all(
            f"Living players: {', '.join(self.names[s] for s in living)}. Each will speak "
            f"{self.cfg.messages_per_player} times in this order: "
            f"{', '.join(self.names[s] for s in order)}; then everyone votes."
        )

    def surveyed(self) -> list[int]:
        """The seats that answer the current survey (every living seat)."""
        return self.alive.nonzero()[0].tolist()

    def fallback_belief(self, seat: int) -> np.ndarray:
        """The belief used for an invalid survey: uniform over the other living seats."""
        others = self.alive.copy()
        others[seat] = False
        return others / others.sum()

    def answer_survey(self, beliefs: dict[int, np.ndarray | None]) -> None:
        """Record each surveyed seat's belief (None = invalid: the fallback is used) and pay
        the survey's rewards; then move on to the next speaker or the vote."""
        crew_beliefs = []
        surveyed, imposter = self.surveyed(), self.is_imposter.tolist()
        discussion, index, imposters = self.discussion, self.message, self.imposters
        for s in surveyed:
            b = beliefs.get(s)
            valid = b is not None
            if b is None:
                b = self.fallback_belief(s)
            self.surveys.append(
                SurveyRecord(discussion, index, s, imposter[s], b, imposters, valid)
            )
            if not imposter[s]:
                crew_beliefs.append(b)
        p = crew_belief(crew_beliefs, imposters)
        self.paid = True  # the belief bonus or the speaker's reward (often 0.0)
        if self._prior_p is None:  # first survey of the discussion: the belief bonus
            task, bonus = self.components["task"], p - 1.0
            for s in surveyed:  # +bonus to each living crewmate, -bonus to each imposter
                if imposter[s]:
                    task[s] -= bonus
                else:
                    task[s] += bonus
        elif self.speaker >= 0:
            self.components["discussion"][self.speaker] += speaking_reward(
                self._prior_p, p, imposter[self.speaker]
            )
        self._prior_p = p
        if self.observer is not None:
            o = imposter_mass(
                np.asarray(self.observer(list(self.public_log), self.alive.copy()), float),
                self.imposters,
            )
            if self._prior_observer is not None and self.speaker >= 0:
                self.components["held_out"][self.speaker] += speaking_reward(
                    self._prior_observer, o, bool(self.is_imposter[self.speaker])
                )
            self._prior_observer = o
        if self.message < len(self.speakers):
            self.speaker = self.speakers[self.message]
            self.phase = SPEAK
            self._tell(self.speaker, "It is your turn to speak.")
        else:
            self.speaker = -1
            self.phase = VOTE
            self._tell_all("The vote begins: vote for a living player to eject, or skip.")

    def speak(self, message: str) -> None:
        """The current speaker says ``message`` (already checked and cleaned by the env).

        The transcript shows it on one line (line breaks become spaces), so that a message can
        never pass for a line of the game's own narration.
        """
        s = self.speaker
        said = " ".join(message.splitlines()) if "\n" in message or "\r" in message else message
        self._tell(s, f'You said: "{said}"')
        self.public_log.append(f'[{self.tick}] {self.names[s]}: "{said}"')
        heard = f'[{self.tick}] {self.names[s]} said: "{said}"'  # what _tell writes, once
        for seat, lines in enumerate(self.lines):
            if seat != s:
                lines.append(heard)
        self.message += 1
        self.phase = SURVEY

    # -- vote --------------------------------------------------------------------------------

    def vote(self, votes: dict[int, int]) -> int:
        """Resolve the vote (``votes[seat]`` = target seat or -1 for skip; missing = skip).

        Plurality ejects; a tie for the most votes, or skip holding the most, ejects nobody.
        Crewmates who voted for an imposter earn +1 ``task``. Returns the ejected seat or -1.
        """
        voters = self.surveyed()
        tally: dict[int, int] = {}
        for s in voters:
            target = votes.get(s, -1)
            tally[target] = tally.get(target, 0) + 1
            if target >= 0 and self.is_imposter[target] and not self.is_imposter[s]:
                self.components["task"][s] += 1.0
                self.paid = True
        top = max(tally.values())
        leaders = [t for t, k in tally.items() if k == top]
        ejected = leaders[0] if len(leaders) == 1 and leaders[0] >= 0 else -1
        counts = ", ".join(
            f"{'skip' if t < 0 else self.names[t]}: {k}" for t, k in sorted(tally.items())
        )
        if ejected >= 0:
            self.alive[ejected] = False
            self.ejected.append(ejected)
            self.version += 1
            self._tell_all(f"Votes: {counts}. {self.names[ejected]} is ejected.")
        else:
            self._tell_all(f"Votes: {counts}. Nobody is ejected.")
        if not self._check_win():
            self._back_to_gameplay()
        return ejected

    def _back_to_gameplay(self) -> None:
        self.phase = GAMEPLAY
        self.speaker = -1
        self.room[:] = self.cfg.start_room
        self.moves += 1
        self.cooldown[self.is_imposter] = self.cfg.kill_cooldown
        self._last_view = [None] * self.n
        self._describe_key = None
        self._describe_rooms()

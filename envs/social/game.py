"""The rules of the social deduction game, independent of any RL API.

:class:`SocialGame` holds one game's state and advances it by one phase step at a time, from
decisions the env has already validated (seat-indexed lists). It keeps, per seat, the reward
components earned in the current step and the lines of that seat's transcript (what the seat
saw and heard, nothing else). The env (:mod:`rewardgym.envs.social.env`) turns agent actions
into decisions and the state into observations.

Phases: ``gameplay`` (one tick per step) -> on a report or every ``meeting_interval`` ticks a
discussion: ``survey`` -> (``speak`` -> ``survey``) x messages -> ``vote`` -> ``gameplay``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from rewardgym.envs.social.config import (
    COLOURS,
    GAMEPLAY,
    MOVES,
    SPEAK,
    SURVEY,
    VOTE,
    ActionLayout,
    SocialConfig,
)
from rewardgym.envs.social.meeting import MeetingPhase, SurveyRecord
from rewardgym.envs.social.rewards import REWARD_COMPONENTS

__all__ = ["HeldOutObserver", "SocialGame", "SurveyRecord"]

#: A held-out observer: ``(public transcript lines, alive mask) -> belief over seats``.
HeldOutObserver = Callable[[Sequence[str], np.ndarray], np.ndarray]

#: entries a per-game cache of recurring states may hold; one that fills up starts again empty
#: (bounds the memory of very long games)
CACHE_LIMIT = 4096


class SocialGame(MeetingPhase):
    """One game: seats, roles, rooms, tasks, bodies, discussions and votes.

    The gameplay rules live here; the discussion and the vote in
    :class:`~rewardgym.envs.social.meeting.MeetingPhase`.

    Args:
        config: the rules.
        rng: the generator for every draw of this game (seats of the imposters, tasks,
            speaking order).
        observer: an optional held-out observer for the ``held_out`` reward channel.
    """

    def __init__(
        self,
        config: SocialConfig,
        rng: np.random.Generator,
        observer: HeldOutObserver | None = None,
    ) -> None:
        self.cfg = c = config
        self.rng = rng
        self.observer = observer
        self.layout = ActionLayout(c.num_players)
        n = self.n = c.num_players
        self.names = [f"{COLOURS[i]} (player_{i})" for i in range(n)]
        imposters = rng.choice(n, size=c.num_imposters, replace=False)
        self.imposters: tuple[int, ...] = tuple(sorted(int(i) for i in imposters))
        self.is_imposter = np.zeros(n, dtype=bool)
        self.is_imposter[list(self.imposters)] = True
        self.alive = np.ones(n, dtype=bool)
        self.room = np.full(n, c.start_room, dtype=np.int64)
        self.busy = np.zeros(n, dtype=np.int64)
        self.activity: list[str | None] = [None] * n
        self.working_on = np.full(n, -1, dtype=np.int64)
        self.task_room = rng.integers(0, c.num_rooms, size=(n, c.num_tasks))
        self.task_done = np.zeros((n, c.num_tasks), dtype=bool)
        self.task_room[self.is_imposter] = -1
        self.task_done[self.is_imposter] = True
        self.cooldown = np.where(self.is_imposter, c.kill_cooldown, 0).astype(np.int64)
        self.body_room = np.full(n, -1, dtype=np.int64)  # unreported bodies
        self.witnessed = np.zeros((n, n), dtype=bool)  # witnessed[w, killer]
        self.kills = 0
        self.ejected: list[int] = []
        self.tick = 0
        self.phase = GAMEPLAY
        self.winner: str | None = None
        self.win_reason = ""
        self.discussion = -1
        self.speakers: list[int] = []
        self.message = 0  # messages sent in this discussion
        self.speaker = -1
        self._prior_p: float | None = None
        self._prior_observer: float | None = None
        self.surveys: list[SurveyRecord] = []
        self.public_log: list[str] = []
        self.lines: list[list[str]] = [[] for _ in range(n)]
        self._last_view: list[tuple | None] = [None] * n
        #: this step's reward components, one row per component (REWARD_COMPONENTS order)
        self.component_table = np.zeros((len(REWARD_COMPONENTS), n))
        self.components = dict(zip(REWARD_COMPONENTS, self.component_table))
        #: whether anything was written to component_table since the env last cleared it
        self.paid = False
        #: _move_table[room, k]: whether move k (MOVES order) stays on the grid from room.
        xs, ys = np.arange(c.num_rooms) % c.width, np.arange(c.num_rooms) // c.width
        self._move_table = np.stack([ys > 0, ys < c.height - 1, xs > 0, xs < c.width - 1], axis=1)
        #: _idle_rows[room]: the mask row of an idle seat there before tasks, kills and reports
        self._idle_rows = np.zeros((c.num_rooms, self.layout.size), dtype=np.int8)
        self._idle_rows[:, self.layout.WAIT] = 1
        self._idle_rows[:, self.layout.MOVE : self.layout.TASK] = self._move_table
        #: _mask_table[2 * room + has_task]: an idle seat's mask row before kills and reports;
        #: the last row: "none" only (any seat that is not idle)
        table = np.repeat(self._idle_rows, 2, axis=0)
        table[1::2, self.layout.TASK] = 1
        none_row = np.zeros((1, self.layout.size), dtype=np.int8)
        none_row[0, self.layout.NONE] = 1
        self._mask_table = np.concatenate([table, none_row])
        self._none_index = 2 * c.num_rooms
        self.bodies = 0  # unreported bodies lying around
        self._changed = False  # a kill or a finished task since the last win check
        #: bumped whenever alive, bodies, tasks or sightings of kills change (observation cache)
        self.version = 0
        #: bumped whenever a seat changes room (observation cache)
        self.moves = 0
        self._masks_key: tuple | None = None
        self._describe_key: tuple | None = None
        self._idle_state = b""
        self._idle_cache: tuple = ()  # (idle seats, ready), see _idle_ready
        self._idle_seen: dict[bytes, tuple] = {}  # the same by the state they were made from
        self._open_version = -1
        #: (seat, room, seats there, bodies there, its open tasks there, its cooldown if an
        #: imposter else -1) -> the sentence of what it sees (views recur as seats walk)
        self._sentences: dict[tuple, str] = {}
        self._open_by_room: list[dict[int, list[int]]] = []  # see _open_tasks
        self._none_masks = np.zeros((n, self.layout.size), dtype=np.int8)
        self._none_masks[:, self.layout.NONE] = 1
        self._none_masks.flags.writeable = False
        self._none_pair = self._with_rows(self._none_masks)
        self._mask_pair = self._none_pair  # the masks of the last mask_rows() and their rows
        #: gameplay masks by (_mask_table rows, flat indices of the kills and reports allowed)
        self._seen_masks: dict[tuple, tuple[np.ndarray, list[np.ndarray]]] = {}
        self._intro()
        self._describe_rooms()

    # -- text --------------------------------------------------------------------------------

    def _tell(self, seat: int, text: str) -> None:
        self.lines[seat].append(f"[{self.tick}] {text}")

    def _tell_all(self, text: str, *, public: bool = True) -> None:
        line = f"[{self.tick}] {text}"
        for lines in self.lines:
            lines.append(line)
        if public:
            self.public_log.append(line)

    def room_name(self, room: int) -> str:
        return f"({room % self.cfg.width},{room // self.cfg.width})"

    def _intro(self) -> None:
        c = self.cfg
        self._tell_all(
            f"You are playing a social deduction game on a {c.width}x{c.height} grid of rooms. "
            f"Players: {', '.join(self.names)}. {c.num_imposters} of them "
            f"{'is an Imposter' if c.num_imposters == 1 else 'are Imposters'}, the rest are "
            "Crewmates. Crewmates win by finishing all their tasks or ejecting every Imposter; "
            "Imposters win when they are at least as many as the living Crewmates."
        )
        for seat in range(self.n):
            self._tell(seat, f"You are {self.names[seat]}.")
            if self.is_imposter[seat]:
                mates = ", ".join(self.names[i] for i in self.imposters)
                self._tell(
                    seat,
                    f"You are an Imposter (imposters: {mates}). Kill Crewmates when alone with "
                    f"them (cooldown {c.kill_cooldown} ticks) and avoid being ejected.",
                )
            else:
                tasks = ", ".join(
                    f"task {t} in room {self.room_name(int(r))}"
                    for t, r in enumerate(self.task_room[seat])
                )
                self._tell(seat, f"You are a Crewmate. Your tasks: {tasks}.")

    def _describe_rooms(self) -> None:
        """Tell each idle living seat what it sees, when that changed.

        What a seat sees is summed up in a cheap key (room, who is there, bodies there, how
        many of its tasks are open there, whether it can kill); the sentence is only built when
        the key changed.
        """
        idle, ready = self._idle_ready()
        key = (self.version, self.moves, idle, ready)
        if key == self._describe_key:  # no view can have changed
            return
        self._describe_key = key
        if not idle:
            return
        rooms, alive = self.room.tolist(), self.alive.tolist()
        here: dict[int, tuple[int, ...]] = {}  # room -> the living seats in it
        for j, r in enumerate(rooms):
            if alive[j]:
                here[r] = (*here[r], j) if r in here else (j,)
        bodies: dict[int, tuple[int, ...]] = {}  # room -> the unreported bodies in it
        if self.bodies:
            for j, r in enumerate(self.body_room.tolist()):
                if r >= 0:
                    bodies[r] = (*bodies[r], j) if r in bodies else (j,)
        open_by_room = self._open_tasks()
        imposter = self.is_imposter.tolist()
        last = self._last_view
        for seat in idle:
            r = rooms[seat]
            tasks = open_by_room[seat].get(r, ())
            view = (r, here[r], bodies.get(r, ()), len(tasks), imposter[seat] and ready[seat])
            if view != last[seat]:
                last[seat] = view
                cd = int(self.cooldown[seat]) if imposter[seat] else -1  # said to imposters
                said = (seat, r, view[1], view[2], tuple(tasks), cd)  # all the sentence says
                sentence = self._sentences.get(said)
                if sentence is None:
                    if len(self._sentences) >= CACHE_LIMIT:
                        self._sentences.clear()
                    sentence = self._sentences[said] = self._sentence(seat, r, *said[2:5])
                self._tell(seat, sentence)

    def _open_tasks(self) -> list[dict[int, list[int]]]:
        """Per seat: room -> its unfinished tasks there (ascending); cached per ``version``."""
        if self._open_version != self.version:
            self._open_version = self.version
            self._open_by_room = []
            for rooms, done in zip(self.task_room.tolist(), self.task_done.tolist()):
                by_room: dict[int, list[int]] = {}
                for t, (r, d) in enumerate(zip(rooms, done)):
                    if not d:
                        by_room.setdefault(r, []).append(t)
                self._open_by_room.append(by_room)
        return self._open_by_room

    def view_text(self, seat: int) -> str:
        """What ``seat`` sees in its room, as a sentence."""
        r = int(self.room[seat])
        here = tuple((self.alive & (self.room == r)).nonzero()[0].tolist())
        bodies = tuple((self.body_room == r).nonzero()[0].tolist()) if self.bodies else ()
        return self._sentence(seat, r, here, bodies, self._open_tasks()[seat].get(r, []))

    def _sentence(
        self,
        seat: int,
        r: int,
        here: Sequence[int],
        bodies: Sequence[int],
        open_tasks: Sequence[int],
    ) -> str:
        """The sentence of :meth:`view_text` from ``seat``'s room ``r``, the living seats
        there (``seat`` included), the bodies there and its unfinished tasks there."""
        names = self.names
        others = [names[j] for j in here if j != seat]
        parts = [f"You are in room {self.room_name(r)}."]
        parts.append(f"You see {', '.join(others)}." if others else "You are alone.")
        if bodies:
            dead = ", ".join(names[j] for j in bodies)
            parts.append(f"You see the dead body of {dead}!")
        if self.is_imposter[seat]:
            cd = int(self.cooldown[seat])
            parts.append(f"You can kill in {cd} ticks." if cd else "You can kill now.")
        else:
            tasks = list(open_tasks)
            parts.append(f"Your tasks here: {tasks}." if tasks else "No task of yours here.")
        return " ".join(parts)

    # -- queries -----------------------------------------------------------------------------

    def visible(self, seat: int) -> np.ndarray:
        """Living seats in ``seat``'s room (itself included)."""
        return (self.alive & (self.room == self.room[seat])).nonzero()[0]

    def open_tasks(self, seat: int) -> list[int]:
        return [int(t) for t in (~self.task_done[seat]).nonzero()[0]]

    def living_crew(self) -> int:
        return int(np.sum(self.alive & ~self.is_imposter))

    def living_imposters(self) -> int:
        return int(np.sum(self.alive & self.is_imposter))

    def mask(self, seat: int) -> np.ndarray:
        """The discrete actions ``seat`` may take now (int8, 1 = allowed)."""
        return self.masks()[seat]

    def masks(self) -> np.ndarray:
        """Every seat's action mask, one row per seat (int8 (n, k), 1 = allowed; read-only).

        Cached: recomputed only when the phase, a death, body or task (``version``), a move,
        who is idle or which imposter may kill changed.
        """
        return self.mask_rows()[0]

    def mask_rows(self) -> tuple[np.ndarray, list[np.ndarray]]:
        """:meth:`masks` and its rows, one read-only row per seat."""
        if self.winner is not None or self.phase in (SURVEY, SPEAK):
            return self._none_pair
        idle, ready = self._idle_ready()
        key = (self.phase, self.version, self.moves, idle, ready)
        if key != self._masks_key:
            self._masks_key = key
            self._mask_pair = self._compute_masks(idle, ready)
        return self._mask_pair

    def _idle_ready(self) -> tuple[tuple[int, ...], tuple[bool, ...]]:
        """``(idle, ready)``: the living seats with no walk or task under way, and per seat
        whether it has no kill cooldown. Shared by the room descriptions and the masks of one
        tick: recomputed only when ``alive``, ``busy`` or ``cooldown`` changed."""
        state = self.alive.tobytes() + self.busy.tobytes() + self.cooldown.tobytes()
        if state != self._idle_state:
            self._idle_state = state
            cached = self._idle_seen.get(state)  # timers run through the same states again
            if cached is None:
                if len(self._idle_seen) >= CACHE_LIMIT:
                    self._idle_seen.clear()
                busy = self.busy.tolist()
                idle = [s for s, a in enumerate(self.alive.tolist()) if a and not busy[s]]
                ready = [c == 0 for c in self.cooldown.tolist()]
                cached = self._idle_seen[state] = (tuple(idle), tuple(ready))
            self._idle_cache = cached
        return self._idle_cache

    def _compute_masks(
        self, idle: tuple[int, ...], ready: tuple[bool, ...]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        lay, n = self.layout, self.n
        alive = self.alive
        if self.phase == VOTE:
            m = np.zeros((n, lay.size), dtype=np.int8)
            m[:, lay.vote : lay.skip] = alive
            m[np.arange(n), lay.vote + np.arange(n)] = 0
            m[:, lay.skip] = 1
            m[~alive] = 0
            m[~alive, lay.NONE] = 1
            return self._with_rows(m)
        # an idle seat: wait, the moves of its room, its task, kills and reports; any other
        # seat (walking, working or dead): only "none"
        if not idle:
            return self._none_pair
        rooms = self.room.tolist()
        open_by_room = self._open_tasks()
        rows = [self._none_index] * n
        for s in idle:
            rows[s] = 2 * rooms[s] + (rooms[s] in open_by_room[s])
        # kills: each idle imposter with no cooldown may kill the living crew in its room;
        # reports: each idle seat may report the bodies in its room
        imposter = self.is_imposter.tolist()
        allowed: list[int] = []  # flat indices into the (n, size) mask
        living = self.alive.tolist()
        for s in idle:
            if imposter[s] and ready[s]:
                allowed += [
                    s * lay.size + lay.KILL + j
                    for j, r in enumerate(rooms)
                    if r == rooms[s] and living[j] and not imposter[j]
                ]
        if self.bodies:
            body_room = self.body_room.tolist()
            for s in idle:
                allowed += [
                    s * lay.size + lay.report + j for j, r in enumerate(body_room) if r == rooms[s]
                ]
        key = (tuple(rows), tuple(allowed))
        pair = self._seen_masks.get(key)  # the same masks recur as seats walk
        if pair is None:
            if len(self._seen_masks) >= CACHE_LIMIT:
                self._seen_masks.clear()
            m = self._mask_table[rows]  # a new array
            m.flat[allowed] = 1
            pair = self._seen_masks[key] = self._with_rows(m)
        return pair

    def _with_rows(self, masks: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        masks.flags.writeable = False
        return masks, [masks[s] for s in range(self.n)]

    # -- gameplay ----------------------------------------------------------------------------

    def play_tick(self, choices: Sequence[int]) -> None:
        """One gameplay tick from each seat's (allowed) action index; dead seats' are ignored.

        Order within a tick: kills, then reports (of bodies present before this tick), then
        moves, tasks and waits, then timers; then win checks and meeting triggers.
        """
        lay, cfg = self.layout, self.cfg
        acting = self.alive.nonzero()[0].tolist()
        # kills, reports and votes, in seat order (most ticks have none)
        kill = lay.KILL
        special = [s for s in acting if choices[s] >= kill] if max(choices) >= kill else []
        # Kills first: a victim's own action this tick does not happen.
        for s in special:
            a = choices[s]
            if kill <= a < lay.report:
                self._kill(s, a - kill)
        reporter, body = -1, -1
        for s in special:
            a = choices[s]
            if lay.report <= a < lay.vote and self.alive[s]:
                reporter, body = s, a - lay.report
                break
        alive, activity, busy = self.alive.tolist(), self.activity, self.busy
        wait, task = lay.WAIT, lay.TASK
        waited = False
        for s in acting:
            a = choices[s]
            if a <= wait or not alive[s]:
                if a == wait:
                    activity[s] = "wait"
                    waited = True
                continue
            if a < task:
                name, dx, dy = MOVES[a - lay.MOVE]
                self.room[s] += dx + dy * cfg.width
                self.moves += 1
                activity[s], busy[s] = "walk", cfg.move_time
                self._tell(s, f"You walk {name}.")
            elif a == task:
                here = (~self.task_done[s] & (self.task_room[s] == self.room[s])).nonzero()[0]
                t = int(here[0])
                self.working_on[s] = t
                activity[s], busy[s] = "task", cfg.task_time
                self._tell(s, f"You start task {t}.")
        # timers as Python scalars (a handful of seats: cheaper than masked array ops)
        for s, left in enumerate(busy.tolist()):
            if left > 0 and alive[s]:
                busy[s] = left - 1
                if left == 1:
                    self._finish_activity(s)
        if waited:  # a wait lasts this one tick
            for s in acting:
                if activity[s] == "wait":
                    activity[s] = None
        cooldown = self.cooldown
        for s in self.imposters:  # only imposters have a kill cooldown
            if cooldown[s] > 0:
                cooldown[s] -= 1
        self.tick += 1
        if self._changed and self._check_win():
            return
        self._changed = False
        if reporter >= 0:
            self._tell_all(
                f"{self.names[reporter]} reported the dead body of {self.names[body]} in "
                f"room {self.room_name(int(self.room[reporter]))}. A discussion begins."
            )
            self._start_discussion()
        elif cfg.meeting_interval and self.tick % cfg.meeting_interval == 0:
            self._tell_all(f"Tick {self.tick}: an emergency meeting begins.")
            self._start_discussion()
        else:
            self._describe_rooms()

    def _kill(self, killer: int, victim: int) -> None:
        if not self.alive[victim] or self.cooldown[killer]:
            return  # another imposter got there first, or this one already killed this tick
        r = int(self.room[killer])
        self.alive[victim] = False
        self.busy[victim] = 0
        self.body_room[victim] = r
        self.bodies += 1
        self._changed = True
        self.version += 1
        self.cooldown[killer] = self.cfg.kill_cooldown
        self.kills += 1
        self.components["task"][killer] += 1.0
        self.paid = True
        self._tell(killer, f"You killed {self.names[victim]}.")
        self._tell(victim, f"{self.names[killer]} killed you. You are dead.")
        for w in (self.alive & (self.room == r)).nonzero()[0]:
            if w != killer:
                self.witnessed[w, killer] = True
                self._tell(int(w), f"You see {self.names[killer]} kill {self.names[victim]} here!")

    def _finish_activity(self, s: int) -> None:
        if self.activity[s] == "task":
            t = int(self.working_on[s])
            self.task_done[s, t] = True
            self._changed = True
            self.version += 1
            self.components["task"][s] += 1.0
            self.paid = True
            self._tell(s, f"You finished task {t}.")
        self.activity[s] = None
        self.working_on[s] = -1

    # -- win conditions ----------------------------------------------------------------------

    def _check_win(self) -> bool:
        imposters = int(np.count_nonzero(self.alive & self.is_imposter))
        if imposters == 0:
            return self._end("crew", "all imposters were ejected")
        crew = self.alive & ~self.is_imposter
        if imposters >= int(np.count_nonzero(crew)):
            return self._end("imposters", "imposters are at least as many as the crew")
        if self.task_done[crew].all():
            return self._end("crew", "every living crewmate finished their tasks")
        return False

    def _end(self, winner: str, reason: str) -> bool:
        self.winner, self.win_reason = winner, reason
        won = ~self.is_imposter if winner == "crew" else self.is_imposter
        self.components["win"][won] += 1.0
        self.paid = True
        names = ", ".join(self.names[i] for i in self.imposters)
        self._tell_all(f"Game over: {winner} win ({reason}). The imposters were {names}.")
        return True

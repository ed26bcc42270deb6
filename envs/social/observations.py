"""What the agents of the social deduction env see: the observation spaces, the observations
of every step and the infos at reset.

:class:`ObservationBuilder` is the part of :class:`~rewardgym.envs.social.env.SocialDeductionEnv`
that turns its :class:`~rewardgym.envs.social.game.SocialGame` into observations (the env
inherits it). What each field means is on the env's doc page (Observation Space).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from rewardgym.envs.social.config import GAMEPLAY, PHASES
from rewardgym.envs.social.game import CACHE_LIMIT
from rewardgym.spaces import text

__all__ = ["ObservationBuilder"]

_ONE_HOT_PHASE = [np.eye(len(PHASES), dtype=np.int8)[i] for i in range(len(PHASES))]
_ROLE = (np.array([1, 0], np.int8), np.array([0, 1], np.int8))
for _a in (*_ONE_HOT_PHASE, *_ROLE):
    _a.flags.writeable = False
_STATUS_MAX = 2**31 - 1


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


class ObservationBuilder:
    """The observations and reset infos of :class:`~rewardgym.envs.social.env.SocialDeductionEnv`.

    A mixin: it reads the env's ``config``, ``possible_agents``, ``agents``, ``game``,
    ``reward_weights`` and its episode bookkeeping (``_games``, ``_roles``, ``_task_id``,
    ``_episode_id``, ``_steps``); the env calls :meth:`_init_observations` once in its
    ``__init__``.
    """

    def _init_observations(self, layout_size: int) -> None:
        """The observation spaces, and the per-seat rows and caches of :meth:`_observe`, empty."""
        c = self.config
        n = c.num_players
        r = c.num_rooms
        self._observation_spaces = {
            a: spaces.Dict(
                {
                    "action_mask": spaces.Box(0, 1, (layout_size,), np.int8),
                    "phase": spaces.Box(0, 1, (len(PHASES),), np.int8),
                    "seat": spaces.Box(0, 1, (n,), np.int8),
                    "role": spaces.Box(0, 1, (2,), np.int8),
                    "known_imposters": spaces.Box(0, 1, (n,), np.int8),
                    "alive": spaces.Box(0, 1, (n,), np.int8),
                    "room": spaces.Box(0, r, (n,), np.int16),
                    "bodies": spaces.Box(0, 1, (n,), np.int8),
                    "tasks": spaces.Box(0, r, (c.num_tasks,), np.int16),
                    "witnessed": spaces.Box(0, 1, (n,), np.int8),
                    "status": spaces.Box(0, _STATUS_MAX, (5,), np.int32),
                    "text": text(c.max_text_chars),
                }
            )
            for a in self.possible_agents
        }
        self._seats_one_hot = [_frozen(np.eye(n, dtype=np.int8)[i]) for i in range(n)]
        self._zero_n = _frozen(np.zeros(n, np.int8))
        self._eye = np.eye(n, dtype=bool)
        self._cache_version: tuple[int, int] | None = None
        self._rooms_key: tuple[int, int, int, bool] | None = None
        no_bodies = _frozen(np.zeros((n, n), np.int8))
        self._no_body_rows = [no_bodies[s] for s in range(n)]
        # rows of the observation arrays, per seat (see _observe)
        self._masks = np.zeros((n, layout_size), np.int8)
        self._room_rows: list[np.ndarray] = []
        self._templates: list[dict[str, Any]] = []  # per seat: the observation but 4 entries
        self._template_rows: tuple = (None, None, None)  # what the templates were made of
        #: this game's room rows by (rooms, alive, gameplay?): read-only, shared across steps
        self._rooms_seen: dict[tuple[bytes, bytes, bool], list[np.ndarray]] = {}
        self._task_rows: list[np.ndarray] = []
        self._witnessed_rows: list[np.ndarray] = []
        self._alive_obs = self._zero_n
        self._role_rows: list[np.ndarray] = []
        self._known_rows: list[np.ndarray] = []
        self._texts: list[str] = []
        self._text_lines: list[int] = []

    def _observe(self) -> dict[str, dict[str, Any]]:
        """Every agent's observation; built for all seats at once.

        Every array entry is read-only (so rows may be shared between seats and steps); a new
        dict per agent and step. What changes only with events (masks, rooms, tasks, sightings,
        roles) is kept as per-seat rows and a per-seat template dict until the next such event;
        a step copies the template and sets the mask, phase, status and transcript.
        """
        g = self.game
        assert g is not None
        n = g.n
        self._masks, mask_rows = g.mask_rows()  # read-only already
        rooms_key = (self._games, g.version, g.moves, g.phase == GAMEPLAY)
        if rooms_key != self._rooms_key:  # who sees whom changes only with moves and deaths
            self._rooms_key = rooms_key
            seen = (g.room.tobytes(), g.alive.tobytes(), g.phase == GAMEPLAY)
            rows = self._rooms_seen.get(seen)  # the same rooms recur as seats walk
            if rows is None:
                if len(self._rooms_seen) >= CACHE_LIMIT:
                    self._rooms_seen.clear()
                if g.phase == GAMEPLAY:
                    same = (g.room[:, None] == g.room[None, :]) & g.alive[None, :]
                    rooms = np.where(same | self._eye, g.room[None, :] + 1, 0)
                else:
                    rooms = np.where(self._eye, g.room[None, :] + 1, 0)
                rooms = _frozen(rooms.astype(np.int16))
                rows = self._rooms_seen[seen] = [rooms[s] for s in range(n)]
            self._room_rows = rows
        # status rows: seats with the same busy ticks and cooldown share one read-only row
        tick, speaker, message = g.tick, g.speaker + 1, g.message
        made: dict[tuple[int, int], np.ndarray] = {}
        status = []
        for timers in zip(g.busy.tolist(), g.cooldown.tolist()):
            row = made.get(timers)
            if row is None:
                row = made[timers] = np.array((tick, *timers, speaker, message), np.int32)
                row.setflags(write=False)
            status.append(row)
        if self._cache_version != (self._games, g.version):  # what changes only with events
            self._cache_version = (self._games, g.version)
            tasks = _frozen(np.where(g.task_done, 0, g.task_room + 1).astype(np.int16))
            witnessed = _frozen(g.witnessed.astype(np.int8))
            self._alive_obs = _frozen(g.alive.astype(np.int8))
            self._task_rows = [tasks[s] for s in range(n)]
            self._witnessed_rows = [witnessed[s] for s in range(n)]
            imposter = g.is_imposter.tolist()
            known = _frozen(g.is_imposter.astype(np.int8))
            self._role_rows = [_ROLE[i] for i in imposter]
            self._known_rows = [known if i else self._zero_n for i in imposter]
        if g.bodies:  # bodies in each seat's room change as seats walk
            bodies = _frozen((g.body_room[None, :] == g.room[:, None]).astype(np.int8))
            body_rows = [bodies[s] for s in range(n)]
        else:
            body_rows = self._no_body_rows
        texts, seen, limit = self._texts, self._text_lines, self.config.max_text_chars
        for s, lines in enumerate(g.lines):  # each transcript: the tail of its lines
            if seen[s] != len(lines):
                new = lines[-1] if len(lines) == seen[s] + 1 else "\n".join(lines[seen[s] :])
                joined = f"{texts[s]}\n{new}" if texts[s] else new
                texts[s] = joined[-limit:] if len(joined) > limit else joined
                seen[s] = len(lines)
        made_of = self._template_rows  # the room and body rows (by identity) and the version
        if (
            made_of[0] is not self._room_rows
            or made_of[1] is not body_rows
            or made_of[2] != self._cache_version
        ):  # what changes only with events: one dict per seat, copied at every step
            self._template_rows = (self._room_rows, body_rows, self._cache_version)
            self._templates = [
                {
                    "action_mask": None,  # these four are set at every step
                    "phase": None,
                    "seat": seat,
                    "role": role,
                    "known_imposters": known,
                    "alive": self._alive_obs,
                    "room": room,
                    "bodies": bodies,
                    "tasks": tasks,
                    "witnessed": witnessed,
                    "status": None,
                    "text": None,
                }
                for seat, role, known, room, bodies, tasks, witnessed in zip(
                    self._seats_one_hot,
                    self._role_rows,
                    self._known_rows,
                    self._room_rows,
                    body_rows,
                    self._task_rows,
                    self._witnessed_rows,
                )
            ]
        phase = _ONE_HOT_PHASE[g.phase]
        observations = {}
        for s, (agent, template, mask, transcript) in enumerate(
            zip(self.agents, self._templates, mask_rows, texts)
        ):
            obs = template.copy()  # a new dict per agent and step (the arrays are read-only)
            obs["action_mask"] = mask
            obs["phase"] = phase
            obs["status"] = status[s]
            obs["text"] = transcript
            observations[agent] = obs
        return observations

    def _info(
        self, seat: int, components: dict[str, float], invalid_action: str | None
    ) -> dict[str, Any]:
        """The info of ``seat`` at reset (``step`` builds the same keys inline, for speed)."""
        g = self.game
        assert g is not None
        return {
            "task_id": self._task_id,
            "episode_id": self._episode_id,
            "step": self._steps,
            "reward_components": components,
            "reward_weights": dict(self.reward_weights),
            "cost": {},
            "success": None,
            "invalid_action": invalid_action,
            "phase": PHASES[g.phase],
            "role": self._roles[seat],
            "alive": bool(g.alive[seat]),
        }

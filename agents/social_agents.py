"""Scripted agents of the social deduction game (one agent object per seat).

Each agent follows the Agent protocol (``reset(seed)``, ``act(observation, info)``) and reads
only its own observation: the structured arrays for gameplay and the transcript (``text``)
for what was said. Every agent plays both roles; what it does depends on ``observation["role"]``.

============================  ==================================================================
name                          crewmate / imposter
============================  ==================================================================
``social-random``             uniformly random allowed actions, random surveys and words
``task-crew``                 does its tasks, reports bodies, tells what it saw, votes at random
                              (the "random voter") / a quiet imposter (kills when unseen, skips)
``honest-reporter``           a task-doer that reports every kill it saw and votes the killer
                              it saw, else skips / the quiet imposter
``bayes-listener``            keeps a belief over seats from who was where, what it saw and what
                              others claimed (claims it can refute make the speaker suspect),
                              surveys that belief and votes its argmax when confident / the
                              quiet imposter
``lying-imposter``            a task-doer crewmate (random voter) / an imposter that kills when
                              alone with a crewmate and accuses a scapegoat with made-up
                              sightings of the kill
============================  ==================================================================

Scripted speech uses fixed sentences that :func:`parse_claim` reads back, e.g.
``"I saw player_2 kill player_4 in room (1,0) at tick 12."`` and ``"I suspect player_3."``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rewardgym.envs.social.config import MOVES, ActionLayout

__all__ = [
    "SOCIAL_AGENTS",
    "BayesianListener",
    "GameResult",
    "HonestReporter",
    "LyingImposter",
    "SocialAgent",
    "TaskCrew",
    "make_social_agent",
    "parse_claim",
    "play_game",
]

_SAID = re.compile(r"\(player_(\d+)\) said: \"(.*)\"$")
_KILL_CLAIM = re.compile(
    r"I saw player_(\d+) kill player_(\d+) in room \((\d+),(\d+)\) at tick (\d+)"
)
_SUSPECT = re.compile(r"I suspect player_(\d+)")
_PHASE_NAMES = ("gameplay", "survey", "speak", "vote")


def parse_claim(message: str) -> tuple[str, tuple[int, ...]] | None:
    """Read a scripted sentence: ``("kill", (killer, victim, x, y, tick))``,
    ``("suspect", (seat,))`` or None."""
    m = _KILL_CLAIM.search(message)
    if m:
        return "kill", tuple(int(g) for g in m.groups())
    m = _SUSPECT.search(message)
    if m:
        return "suspect", (int(m.group(1)),)
    return None


class SocialAgent:
    """Common machinery: reads the observation, keeps a memory of sightings, plays tasks.

    Subclasses override the role hooks: :meth:`crew_vote`, :meth:`crew_survey`,
    :meth:`crew_message`, and the imposter's :meth:`imposter_gameplay`,
    :meth:`imposter_message`, :meth:`imposter_vote`.
    """

    name = "social-agent"

    def __init__(self, seed: int | None = None) -> None:
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)
        self.n = 0
        self.seat = -1
        #: sightings[tick] = {seat: room} of the players this agent saw (itself included).
        self.sightings: dict[int, dict[int, int]] = {}
        self.kills_seen: list[tuple[int, int, int, int]] = []  # (killer, victim, room, tick)
        self.claims_read = 0
        self.prev_alive: np.ndarray | None = None
        self.prev_bodies: np.ndarray | None = None
        self.width = 0
        self.deaths: list[tuple[int, int, bool]] = []  # (seat, tick, killed not ejected)
        self.prev_phase = 0
        self._witnessed_before: np.ndarray | None = None

    # -- reading the observation ---------------------------------------------------------------

    def _absorb(self, obs: dict[str, Any]) -> None:
        if self.seat < 0:
            self.n = len(obs["seat"])
            self.seat = int(np.argmax(obs["seat"]))
            self.layout = ActionLayout(self.n)
            self.width = _grid_width(obs["text"])
        tick = int(obs["status"][0])
        if obs["phase"][0]:
            seen = {j: int(r) - 1 for j, r in enumerate(obs["room"]) if r}
            self.sightings[tick] = seen
            my_room = seen.get(self.seat, -1)
            bodies = obs["bodies"].astype(bool)
            new_bodies = bodies if self.prev_bodies is None else bodies & ~self.prev_bodies
            witnessed = obs["witnessed"].astype(bool)
            before = self._witnessed_before
            for v in np.flatnonzero(new_bodies):
                killers = np.flatnonzero(witnessed if before is None else witnessed & ~before)
                if len(killers):
                    self.kills_seen.append((int(killers[0]), int(v), my_room, tick))
            self.prev_bodies = bodies.copy()
        else:
            self.prev_bodies = None
        alive = obs["alive"].astype(bool)
        if self.prev_alive is not None:
            ejected = self.prev_phase == 3
            for j in np.flatnonzero(self.prev_alive & ~alive):
                self.deaths.append((int(j), tick, not ejected))
        self.prev_alive = alive.astype(bool)
        self.prev_phase = int(np.argmax(obs["phase"]))
        self._witnessed_before = obs["witnessed"].astype(bool)

    def new_messages(self, text: str) -> list[tuple[int, str]]:
        """(speaker, message) pairs said since the last call (scripted transcript lines)."""
        said = [
            (int(m.group(1)), m.group(2))
            for line in text.splitlines()
            if (m := _SAID.search(line)) is not None
        ]
        fresh = said[self.claims_read :] if self.claims_read <= len(said) else said[-1:]
        self.claims_read = len(said)
        return fresh

    # -- acting --------------------------------------------------------------------------------

    def act(self, observation: dict[str, Any], info: dict[str, Any]) -> Any:
        self._absorb(observation)
        imposter = bool(observation["role"][1])
        mask = observation["action_mask"]
        phase = _PHASE_NAMES[int(np.argmax(observation["phase"]))]
        if not observation["alive"][self.seat]:
            return {"action": 0}
        if phase == "gameplay":
            if mask[0] and mask.sum() == 1:
                return {"action": 0}
            if imposter:
                return {"action": self.imposter_gameplay(observation)}
            return {"action": self.crew_gameplay(observation)}
        if phase == "survey":
            self.listen(observation)
            return {"survey": self.survey(observation, imposter)}
        if phase == "speak":
            self.listen(observation)
            if int(observation["status"][3]) - 1 != self.seat:
                return {"action": 0}
            msg = self.imposter_message(observation) if imposter else self.crew_message(observation)
            return {"message": msg}
        target = self.imposter_vote(observation) if imposter else self.crew_vote(observation)
        lay = self.layout
        return {"action": lay.skip if target < 0 else lay.vote + target}

    # -- crewmate defaults ------------------------------------------------------------------------

    def crew_gameplay(self, obs: dict[str, Any]) -> int:
        """Report a body, do a task here, walk to the nearest open task, else wander."""
        lay, mask = self.layout, obs["action_mask"]
        reports = np.flatnonzero(mask[lay.report : lay.report + self.n])
        if len(reports):
            return lay.report + int(reports[0])
        if mask[lay.TASK]:
            return lay.TASK
        here = int(obs["room"][self.seat]) - 1
        targets = [int(r) - 1 for r in obs["tasks"] if r]
        if targets:
            goal = min(targets, key=lambda r: self._distance(here, r))
            return self._step_towards(here, goal, mask)
        return self._wander(mask)

    def listen(self, obs: dict[str, Any]) -> None:
        """Read what was said (the listener overrides this)."""
        self.new_messages(obs["text"])

    def survey(self, obs: dict[str, Any], imposter: bool) -> np.ndarray:
        return self.crew_survey(obs) if not imposter else _uniform_others(obs, self.seat)

    def crew_survey(self, obs: dict[str, Any]) -> np.ndarray:
        return _uniform_others(obs, self.seat)

    def crew_message(self, obs: dict[str, Any]) -> str:
        """Tell the truth: a kill this agent saw, else where it is and that it saw nothing."""
        alive = obs["alive"]
        for killer, victim, room, tick in self.kills_seen:
            if alive[killer]:
                return (
                    f"I saw player_{killer} kill player_{victim} in room "
                    f"{self._room_name(room)} at tick {tick}."
                )
        return "I did not see a kill."

    def crew_vote(self, obs: dict[str, Any]) -> int:
        """A random voter: a living other player or skip, uniformly."""
        options = [j for j in np.flatnonzero(obs["alive"]) if j != self.seat] + [-1]
        return int(options[int(self.rng.integers(len(options)))])

    # -- imposter defaults (the quiet imposter) ------------------------------------------------

    def imposter_gameplay(self, obs: dict[str, Any]) -> int:
        """Kill a crewmate found alone in a room; otherwise wander."""
        lay, mask = self.layout, obs["action_mask"]
        others = [j for j, r in enumerate(obs["room"]) if r and j != self.seat]
        kills = np.flatnonzero(mask[lay.KILL : lay.KILL + self.n])
        if len(kills) and len(others) == 1 and others[0] in kills:
            return lay.KILL + int(others[0])
        return self._wander(mask)

    def imposter_message(self, obs: dict[str, Any]) -> str:
        return "I did not see a kill."

    def imposter_vote(self, obs: dict[str, Any]) -> int:
        return -1

    # -- movement helpers ------------------------------------------------------------------------

    def _xy(self, room: int) -> tuple[int, int]:
        return room % self.width, room // self.width

    def _room_name(self, room: int) -> str:
        x, y = self._xy(room)
        return f"({x},{y})"

    def _distance(self, a: int, b: int) -> int:
        (ax, ay), (bx, by) = self._xy(a), self._xy(b)
        return abs(ax - bx) + abs(ay - by)

    def _step_towards(self, here: int, goal: int, mask: np.ndarray) -> int:
        (x, y), (gx, gy) = self._xy(here), self._xy(goal)
        for k, (_, dx, dy) in enumerate(MOVES):
            if mask[self.layout.MOVE + k] and (
                (dx and (gx - x) * dx > 0) or (dy and (gy - y) * dy > 0)
            ):
                return self.layout.MOVE + k
        return self.layout.WAIT

    def _wander(self, mask: np.ndarray) -> int:
        moves = [self.layout.MOVE + k for k in range(4) if mask[self.layout.MOVE + k]]
        options = [*moves, self.layout.WAIT]
        return int(options[int(self.rng.integers(len(options)))])


def _grid_width(text: str) -> int:
    m = re.search(r"on a (\d+)x(\d+) grid", text)
    return int(m.group(1)) if m else 3


def _uniform_others(obs: dict[str, Any], seat: int) -> np.ndarray:
    p = obs["alive"].astype(np.float64)
    p[seat] = 0.0
    return p / p.sum()


class RandomSocialAgent(SocialAgent):
    """Random allowed actions, a random survey (Dirichlet) and random words."""

    name = "social-random"
    _WORDS = ("I", "think", "saw", "player", "room", "nothing", "suspect", "tasks", "was", "here")

    def act(self, observation: dict[str, Any], info: dict[str, Any]) -> Any:
        if self.seat < 0:
            self.n = len(observation["seat"])
            self.seat = int(np.argmax(observation["seat"]))
        allowed = np.flatnonzero(observation["action_mask"])
        k = int(allowed[int(self.rng.integers(len(allowed)))])
        words = self.rng.choice(self._WORDS, size=int(self.rng.integers(1, 8)))
        return {
            "action": k,
            "message": " ".join(words),
            "survey": self.rng.dirichlet(np.ones(self.n)),
        }


class TaskCrew(SocialAgent):
    """Does tasks, reports bodies, tells the truth, votes at random (the random voter)."""

    name = "task-crew"


class HonestReporter(SocialAgent):
    """A task-doer that votes for the killer it saw (skip otherwise) and surveys that."""

    name = "honest-reporter"

    def _seen_killers(self, obs: dict[str, Any]) -> list[int]:
        return [k for k, *_ in self.kills_seen if obs["alive"][k]]

    def crew_vote(self, obs: dict[str, Any]) -> int:
        killers = self._seen_killers(obs)
        return killers[0] if killers else -1

    def crew_survey(self, obs: dict[str, Any]) -> np.ndarray:
        killers = self._seen_killers(obs)
        if not killers:
            return _uniform_others(obs, self.seat)
        p = np.full(self.n, 0.02) * _uniform_others(obs, self.seat)
        p[killers[0]] = 1.0
        return p / p.sum()


class BayesianListener(HonestReporter):
    """A posterior over which seats are the imposters, from what it saw and what was said.

    Hypotheses are the sets of ``k`` other seats (``k`` imposters; a crewmate knows it is not
    one). Evidence multiplies each hypothesis' weight by a likelihood:

    - a kill it saw: only hypotheses holding the killer survive;
    - a killed player (died in gameplay) was crew; a hypothesis whose imposters are all gone
      is impossible while the game goes on;
    - a victim last seen (within 12 ticks) with players W: x3 for hypotheses meeting W;
    - "S: I saw K kill V ..." — crewmates tell the truth, so either K or S is an imposter:
      x1 for hypotheses holding K or S, x``lie`` (0.05) otherwise; a claim it can refute
      from its own sightings (V alive, K seen elsewhere then, it was in that room and saw no
      such thing, or it is K) keeps only hypotheses holding S;
    - "S: I suspect X": x1 for hypotheses holding X or S, x0.3 otherwise.

    It surveys the marginal ``P(seat is an imposter) / k`` and votes its argmax when that
    holds at least ``vote_threshold`` of the mass, else skips.
    """

    name = "bayes-listener"
    LIE = 0.05
    SUSPECT = 0.3
    WITH_VICTIM = 3.0

    def __init__(self, seed: int | None = None, vote_threshold: float = 0.5) -> None:
        self.vote_threshold = vote_threshold
        super().__init__(seed)

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.hypotheses: np.ndarray | None = None  # (h, n) bool membership
        self.weights: np.ndarray | None = None
        self.deaths_used = 0
        self.refuted: set[int] = set()

    def _ensure(self, obs: dict[str, Any]) -> None:
        if self.hypotheses is not None:
            return
        m = re.search(r"(\d+) of them (?:is an|are) Imposter", obs["text"])
        k = int(m.group(1)) if m else 1
        others = [j for j in range(self.n) if j != self.seat]
        combos = list(itertools.combinations(others, k))
        self.hypotheses = np.zeros((len(combos), self.n), dtype=bool)
        for i, c in enumerate(combos):
            self.hypotheses[i, list(c)] = True
        self.weights = np.ones(len(combos))

    def _likelihood(self, members: Sequence[int], inside: float, outside: float) -> None:
        assert self.hypotheses is not None and self.weights is not None
        hit = self.hypotheses[:, list(members)].any(axis=1)
        self.weights *= np.where(hit, inside, outside)

    def belief(self, obs: dict[str, Any]) -> np.ndarray:
        self._ensure(obs)
        assert self.hypotheses is not None and self.weights is not None
        alive = obs["alive"].astype(bool)
        w = self.weights.copy()
        w[~(self.hypotheses & alive).any(axis=1)] = 0.0  # the game would be over
        for killer, *_ in self.kills_seen:
            w[~self.hypotheses[:, killer]] = 0.0
        if w.sum() <= 0:
            return _uniform_others(obs, self.seat)
        marginal = (w[:, None] * (self.hypotheses & alive)).sum(axis=0)
        return marginal / marginal.sum()

    def _update_deaths(self) -> None:
        assert self.hypotheses is not None and self.weights is not None
        for victim, tick, killed in self.deaths[self.deaths_used :]:
            if not killed:
                continue
            self.weights[self.hypotheses[:, victim]] = 0.0  # imposters are not killed
            with_victim: set[int] = set()
            for t in range(tick - 12, tick + 1):
                seen = self.sightings.get(t)
                if seen and victim in seen:
                    with_victim |= {j for j, r in seen.items() if r == seen[victim]}
            with_victim -= {victim, self.seat}
            if with_victim:
                self._likelihood(sorted(with_victim), self.WITH_VICTIM, 1.0)
        self.deaths_used = len(self.deaths)

    def _refutes(self, killer: int, victim: int, room: int, tick: int, alive: np.ndarray) -> bool:
        if alive[victim] or killer == self.seat:
            return True
        for t in (tick - 1, tick):
            seen = self.sightings.get(t)
            if not seen:
                continue
            if killer in seen and seen[killer] != room:
                return True
            if t == tick and seen.get(self.seat) == room and killer not in seen:
                return True
        return any(v == victim and k != killer for k, v, _, _ in self.kills_seen)

    def listen(self, obs: dict[str, Any]) -> None:
        self._ensure(obs)
        self._update_deaths()
        for speaker, message in self.new_messages(obs["text"]):
            if speaker == self.seat or speaker >= self.n:
                continue
            claim = parse_claim(message)
            if claim is None:
                continue
            kind, args = claim
            if kind == "kill":
                killer, victim, x, y, tick = args
                if killer >= self.n or victim >= self.n:
                    continue
                room = x + y * max(self.width, 1)
                if self._refutes(killer, victim, room, tick, obs["alive"]):
                    self._likelihood([speaker], 1.0, 0.0)
                    self.refuted.add(speaker)
                else:
                    self._likelihood([killer, speaker], 1.0, self.LIE)
            elif args[0] < self.n:
                if args[0] == self.seat:
                    self._likelihood([speaker], 1.0, self.LIE)
                else:
                    self._likelihood([args[0], speaker], 1.0, self.SUSPECT)
        assert self.weights is not None
        total = self.weights.sum()
        if total > 0:
            self.weights /= total
        else:
            self.weights[:] = 1.0

    def crew_survey(self, obs: dict[str, Any]) -> np.ndarray:
        return self.belief(obs)

    def crew_vote(self, obs: dict[str, Any]) -> int:
        self.listen(obs)
        p = self.belief(obs)
        best = int(np.argmax(p))
        return best if p[best] >= self.vote_threshold else -1

    def crew_message(self, obs: dict[str, Any]) -> str:
        seen = super().crew_message(obs)
        if seen != "I did not see a kill.":
            return seen
        p = self.belief(obs)
        best = int(np.argmax(p))
        return f"I suspect player_{best}." if p[best] >= self.vote_threshold else seen


class LyingImposter(SocialAgent):
    """As imposter: kills when alone with a crewmate, then claims a scapegoat did it.

    The scapegoat is a living crewmate drawn at random at the first meeting (redrawn when it
    dies); after a kill it says "I saw <scapegoat> kill <victim> in room R at tick T" (the real
    room and tick), otherwise "I suspect <scapegoat>", and always votes the scapegoat. As
    crewmate it is a task-doer and random voter.
    """

    name = "lying-imposter"

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.scapegoat = -1
        self.my_kills: list[tuple[int, int, int]] = []  # (victim, room, tick seen dead)

    def imposter_gameplay(self, obs: dict[str, Any]) -> int:
        action = super().imposter_gameplay(obs)
        if self.layout.KILL <= action < self.layout.report:
            room, tick = int(obs["room"][self.seat]) - 1, int(obs["status"][0]) + 1
            self.my_kills.append((action - self.layout.KILL, room, tick))
        return action

    def _scapegoat(self, obs: dict[str, Any]) -> int:
        known = obs["known_imposters"]
        if self.scapegoat < 0 or not obs["alive"][self.scapegoat]:
            crew = [j for j in np.flatnonzero(obs["alive"]) if not known[j]]
            self.scapegoat = int(crew[int(self.rng.integers(len(crew)))]) if crew else -1
        return self.scapegoat

    def imposter_message(self, obs: dict[str, Any]) -> str:
        goat = self._scapegoat(obs)
        if goat < 0:
            return "I did not see a kill."
        if self.my_kills:
            victim, room, tick = self.my_kills[-1]
            if not obs["alive"][victim]:
                return (
                    f"I saw player_{goat} kill player_{victim} in room {self._room_name(room)} "
                    f"at tick {tick}."
                )
        return f"I suspect player_{goat}."

    def imposter_vote(self, obs: dict[str, Any]) -> int:
        return self._scapegoat(obs)


#: name -> class of the scripted agents (the registry adds the LLM agent).
SOCIAL_AGENTS: dict[str, type[SocialAgent]] = {
    cls.name: cls
    for cls in (RandomSocialAgent, TaskCrew, HonestReporter, BayesianListener, LyingImposter)
}


def make_social_agent(env: Any, arg: str | None = None, **kwargs: Any) -> SocialAgent:
    """Build the scripted agent named ``arg`` (e.g. ``"bayes-listener"``); ``env`` is unused
    (an agent reads its seat and the rules from its first observation)."""
    from rewardgym.errors import ConfigError

    cls = SOCIAL_AGENTS.get(arg or "")
    if cls is None:
        raise ConfigError(f"unknown social agent {arg!r}; known: {sorted(SOCIAL_AGENTS)}")
    return cls(**kwargs)


def _factory(name: str) -> Any:
    def make(env: Any, arg: str | None = None, **kwargs: Any) -> SocialAgent:
        return make_social_agent(env, name, **kwargs)

    make.__doc__ = f"Registry factory for ``{name!r}`` (no argument)."
    return make


make_social_random = _factory("social-random")
make_task_crew = _factory("task-crew")
make_honest_reporter = _factory("honest-reporter")
make_bayes_listener = _factory("bayes-listener")
make_lying_imposter = _factory("lying-imposter")


@dataclass
class GameResult:
    """The outcome of one game played by :func:`play_game`.

    Attributes:
        winner: ``"crew"``, ``"imposters"`` or None (truncated).
        imposters: the imposters' agent ids.
        steps: env steps played.
        returns: each agent's summed reward.
        components: each agent's summed reward components.
        invalid: each agent's count of steps with ``invalid_action``.
    """

    winner: str | None
    imposters: list[str]
    steps: int
    returns: dict[str, float] = field(default_factory=dict)
    components: dict[str, dict[str, float]] = field(default_factory=dict)
    invalid: dict[str, int] = field(default_factory=dict)


def play_game(env: Any, agents: Mapping[str, Any], seed: int | None = None) -> GameResult:
    """Play one game of a ``SocialDeductionEnv`` with one agent per seat.

    Args:
        env: the parallel env (reset here with ``seed``).
        agents: agent id -> agent (each is reset with a seed derived from ``seed``).
        seed: the game's seed.
    """
    observations, infos = env.reset(seed=seed)
    for i, agent_id in enumerate(env.possible_agents):
        agents[agent_id].reset(None if seed is None else seed * 1000 + i)
    returns = dict.fromkeys(env.possible_agents, 0.0)
    components = {a: {} for a in env.possible_agents}
    invalid = dict.fromkeys(env.possible_agents, 0)
    imposters = list(env.true_imposters)
    winner = None
    steps = 0
    while env.agents:
        actions = {a: agents[a].act(observations[a], infos[a]) for a in env.agents}
        observations, rewards, _, _, infos = env.step(actions)
        steps += 1
        for a, r in rewards.items():
            returns[a] += r
            info = infos[a]
            acc = components[a]
            for k, v in info["reward_components"].items():
                acc[k] = acc.get(k, 0.0) + v
            if info["invalid_action"]:
                invalid[a] += 1
            winner = info.get("winner", winner)
    return GameResult(winner, imposters, steps, returns, components, invalid)

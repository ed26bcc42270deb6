"""``SocialDeductionEnv``: the game as a PettingZoo ``ParallelEnv`` (and AEC through ``env()``)."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from pettingzoo import ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec

from rewardgym.envs.social.actions import (
    ACTION_FIELDS,
    SocialActionSpace,
    clean_message,
    read_index,
    split_action,
)
from rewardgym.envs.social.config import (
    GAMEPLAY,
    PHASES,
    SPEAK,
    SURVEY,
    VOTE,
    ActionLayout,
    SocialConfig,
    make_config,
)
from rewardgym.envs.social.game import HeldOutObserver, SocialGame
from rewardgym.envs.social.meeting import SurveyRecord
from rewardgym.envs.social.observations import ObservationBuilder
from rewardgym.envs.social.rewards import DEFAULT_WEIGHTS, REWARD_COMPONENTS, validate_survey
from rewardgym.errors import ConfigError, ResetNeeded
from rewardgym.seeding import child_seed, episode_id

__all__ = ["SocialDeductionEnv", "env", "parallel_env"]

log = logging.getLogger("rewardgym.envs.social")

#: the fields of a seat that sent no action (read-only: shared by every such seat)
_NO_FIELDS: Mapping[str, Any] = MappingProxyType({})
#: the reward components of a step that pays nothing (copied into each info)
_NO_REWARD = dict.fromkeys(REWARD_COMPONENTS, 0.0)


class SocialDeductionEnv(ObservationBuilder, ParallelEnv):
    """An Among Us-like social deduction game with speaking and listening rewards.

    ## Description

    Crewmates walk a grid of rooms (default 3x2) doing tasks; hidden among them, imposters
    (seats drawn at random each game) kill crewmates they find in a room, with a cooldown.
    Players in the room see a kill. A body can be reported, which starts a discussion; a
    meeting also starts every ``meeting_interval`` ticks. In a discussion every living player
    speaks ``messages_per_player`` times in a shuffled order; before the first message and
    after every message each living player answers a survey (a probability vector: "who is
    the imposter?"). Then everyone votes: the plurality is ejected; a tie, or skip holding the
    most votes, ejects nobody. Crewmates win when every imposter is ejected or every living
    crewmate has finished their tasks; imposters win when they are at least as many as the
    living crewmates. The rules follow "Training Language Models for Social Deduction with
    Multi-Agent Reinforcement Learning" (METHODS.md §4).

    ## Action Space

    Per agent ``SocialActionSpace``: ``Dict(action=Discrete(7 + 3n + 1), message=Text,
    survey=Box(0, 1, (n,)))``. Only the field the phase needs is read (a bare int, str or
    vector may be passed instead of the dict). ``action``: 0 none, 1 wait, 2-5 go
    north/south/west/east, 6 do task, ``7+j`` kill player j, ``7+n+j`` report the body of
    player j, ``7+2n+j`` vote for player j, ``7+3n`` vote skip (``ActionLayout``). The
    ``action_mask`` says what is allowed: in gameplay the moves, tasks, kills and reports of the
    moment (only "none" while walking or working), in the vote the living others and skip, and
    only "none" in surveys, while someone else speaks and for the dead. ``survey``: finite,
    non-negative, summing to 1 (within ``survey_tolerance``). ``message``: the speaker's text
    (at most ``max_message_chars``). Anything else is not an error: the agent's info gets
    ``invalid_action`` with the reason and the game goes on (a disallowed gameplay action is
    played as wait, a bad vote as skip, a bad survey as uniform over the other living players,
    an over-long message is cut, a non-UTF-8 one dropped).

    ## Observation Space

    Per agent a ``Dict`` of numpy arrays plus the natural-language view: ``action_mask`` int8
    (k,); ``phase`` int8 one-hot over (gameplay, survey, speak, vote); ``seat`` int8 one-hot
    (n,); ``role`` int8 one-hot (crewmate, imposter); ``known_imposters`` int8 (n,) (the
    imposter seats for an imposter, all zero for a crewmate); ``alive`` int8 (n,); ``room`` int16
    (n,) (room + 1 of each living player in the agent's room, its own included, else 0);
    ``bodies`` int8 (n,) (bodies in the agent's room); ``tasks`` int16 (num_tasks,) (room + 1 of
    each unfinished task, 0 when done; zero for imposters); ``witnessed`` int8 (n,) (players
    this agent saw kill); ``status`` int32 (tick, busy ticks left, kill cooldown, speaker + 1,
    messages sent in this discussion); ``text`` the agent's transcript (what it saw and heard,
    the tail of at most ``max_text_chars``). Nothing in a crewmate's observation or info
    depends on who the imposters are beyond what it saw.

    ## Rewards

    Named components per agent, in ``infos[agent]["reward_components"]`` (weights in
    ``reward_weights``; reward = the weighted sum):

    - ``win`` (weight 1.0): +1 to every member of the winning side at the end, dead or alive.
    - ``task`` (weight 0.2): crewmate +1 per finished task and +1 for voting for an imposter;
      imposter +1 per kill; at the first survey of each discussion crewmates get ``P - 1`` and
      imposters ``-(P - 1)``, ``P`` = the summed crew belief in the true imposters.
    - ``discussion`` (weight 1.0): the speaking reward. For the speaker of message m,
      ``Delta = P_after - P_before`` from the surveys around it; ``+Delta`` for a crewmate,
      ``-Delta`` for an imposter.
    - ``held_out`` (weight 0.0): the same with the belief of a held-out observer
      (``held_out_observer``); 0 when there is none.

    The listening signal (each survey and the true imposters) is privileged data for trainers:
    ``env.listening_data()`` and ``env.true_imposters``; it is never in an observation.

    ## Starting State

    Everyone in the middle room of the top row; imposter seats, task rooms and speaking orders
    drawn from the seed; imposters start with a full kill cooldown.

    ## Episode End

    Terminated for every agent when a side wins (``success`` = whether the agent's side won).
    Truncated for every agent after ``max_steps`` env steps (``success`` False). Dead players
    stay in ``agents`` until the end (they can only take "none"), so they receive the win
    reward of their side.

    ## Arguments

    Every field of ``SocialConfig``: ``num_players`` (4-10), ``num_imposters`` (1-2),
    ``width``, ``height``, ``num_tasks``, ``task_time``, ``move_time``, ``kill_cooldown``,
    ``meeting_interval``, ``messages_per_player``, ``max_steps``, ``max_message_chars``,
    ``max_text_chars``, ``survey_tolerance``; and ``reward_weights`` (partial override),
    ``held_out_observer`` (``(public transcript lines, alive) -> belief``), ``render_mode``
    (``"ansi"``). A bad value raises ``ConfigError`` naming the field.

    ## Version History

    - v0: initial version.
    """

    metadata: ClassVar[dict[str, Any]] = {
        "name": "social_deduction_v0",
        "render_modes": ["ansi"],
        "render_fps": 1,
        "is_parallelizable": True,
    }

    def __init__(
        self,
        *,
        reward_weights: Mapping[str, float] | None = None,
        held_out_observer: HeldOutObserver | None = None,
        render_mode: str | None = None,
        **settings: Any,
    ) -> None:
        self.config: SocialConfig = make_config(**settings)
        weights = dict(DEFAULT_WEIGHTS)
        for name, value in (reward_weights or {}).items():
            if name not in weights:
                raise ConfigError(
                    f"unknown reward component {name!r} in reward_weights; "
                    f"valid: {list(REWARD_COMPONENTS)}"
                )
            weights[name] = float(value)
        self.reward_weights = weights
        # (component index, weight) of the weighted components, in component order
        self._weighted = [(i, weights[k]) for i, k in enumerate(REWARD_COMPONENTS) if weights[k]]
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ConfigError(f"render_mode {render_mode!r} is not supported; use 'ansi' or None")
        if held_out_observer is not None and not callable(held_out_observer):
            raise ConfigError("held_out_observer must be a callable (transcript, alive) -> belief")
        self.render_mode = render_mode
        self.held_out_observer = held_out_observer
        c = self.config
        n = c.num_players
        self.possible_agents = [f"player_{i}" for i in range(n)]
        self.agents: list[str] = []
        self._seat = {a: i for i, a in enumerate(self.possible_agents)}
        self.game: SocialGame | None = None
        layout_size = ActionLayout(n).size
        self._action_spaces = {
            a: SocialActionSpace(layout_size, n, c.max_message_chars) for a in self.possible_agents
        }
        self._init_observations(layout_size)
        self._games = 0
        self._roles: list[str] = []
        self._np_random: np.random.Generator | None = None
        self._episode_id = ""
        self._task_id = ""
        self._steps = 0

    # -- PettingZoo API ----------------------------------------------------------------------

    def observation_space(self, agent: str) -> spaces.Dict:
        return self._observation_spaces[agent]

    def action_space(self, agent: str) -> SocialActionSpace:
        return self._action_spaces[agent]

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        if seed is not None or self._np_random is None:
            self._np_random, _ = seeding.np_random(seed)
        rng = self._np_random
        game_seed = child_seed(rng)
        self._episode_id = episode_id(rng)
        c = self.config
        self._task_id = f"social-{c.num_players}p{c.num_imposters}i-{game_seed:016x}"
        self.game = SocialGame(c, np.random.default_rng(game_seed), self.held_out_observer)
        self._games += 1
        self._rooms_seen = {}
        self._roles = ["imposter" if i else "crewmate" for i in self.game.is_imposter.tolist()]
        self.agents = list(self.possible_agents)
        self._steps = 0
        self._texts = [""] * c.num_players
        self._text_lines = [0] * c.num_players
        observations = self._observe()
        zero = dict.fromkeys(REWARD_COMPONENTS, 0.0)
        infos = {a: self._info(i, zero, None) for i, a in enumerate(self.agents)}
        return observations, infos

    def step(self, actions: Mapping[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        game = self.game
        if game is None or not self.agents:
            raise ResetNeeded(
                "SocialDeductionEnv.step() called before reset() or after the game ended; "
                "call reset() first"
            )
        n = game.n
        invalid: defaultdict[int, list[str]] = defaultdict(list)  # per seat, only where any
        fields: list[Mapping[str, Any]] = [_NO_FIELDS] * n
        ignored: dict[str, str] = {}
        seats = self._seat
        for agent, action in actions.items():
            seat = seats.get(agent)
            if seat is None:
                ignored[str(agent)] = f"unknown agent {agent!r}; agents: {self.possible_agents}"
                continue
            if type(action) is dict and ACTION_FIELDS.issuperset(
                action
            ):  # split_action's fast path
                fields[seat] = action
                continue
            fields[seat], problem = split_action(action)
            if problem:
                invalid[seat].append(problem)
        if ignored:
            log.warning("actions for unknown agents ignored: %s", sorted(ignored))
        if game.paid:  # clear what the last step paid (kept until now for inspection)
            game.component_table.fill(0.0)
            game.paid = False
        masks = self._masks  # computed with the observations the agents acted on
        phase = game.phase
        alive = game.alive.tolist()
        if not all(alive):
            for s, living in enumerate(alive):
                if not living:  # a seat that sent nothing has no fields: action 0
                    k = read_index(fields[s].get("action", 0))
                    if k != 0:
                        invalid[s].append(f"player_{s} is dead: the dead take no actions (ignored)")
        if phase == GAMEPLAY:
            game.play_tick(self._gameplay_choices(game, fields, masks, invalid))
        elif phase == SURVEY:
            beliefs: dict[int, np.ndarray | None] = {}
            for s in game.surveyed():
                belief, problem = validate_survey(
                    fields[s].get("survey"), n, self.config.survey_tolerance
                )
                if problem:
                    invalid[s].append(problem + "; counted as uniform over the other players")
                beliefs[s] = belief
            game.answer_survey(beliefs)
        elif phase == SPEAK:
            s = game.speaker
            raw = fields[s].get("message")
            if raw is None:
                message, problem = "", "no message from the speaker; said nothing"
            else:
                message, problem = clean_message(raw, self.config.max_message_chars)
            if problem:
                invalid[s].append(problem)
            game.speak(message)
        elif phase == VOTE:
            votes: dict[int, int] = {}
            lay = game.layout
            for s in game.surveyed():
                k = read_index(fields[s].get("action"))
                if k is None:
                    invalid[s].append("no vote given; counted as skip")
                elif not (0 <= k < lay.size) or not masks[s][k]:
                    invalid[s].append(
                        f"{lay.name(k) if 0 <= k < lay.size else f'action {k}'} is not a "
                        "valid vote now (see action_mask); counted as skip"
                    )
                else:
                    votes[s] = -1 if k == lay.skip else k - lay.vote
            game.vote(votes)
        self._steps += 1
        done = game.winner is not None
        truncated = not done and self._steps >= self.config.max_steps
        observations = self._observe()
        agents = self.agents
        rewards = dict.fromkeys(agents, 0.0)
        components = [_NO_REWARD] * n  # copied into each info below
        for s, values in enumerate(game.component_table.T.tolist() if game.paid else ()):
            if any(values):  # most steps pay nothing
                reward = 0.0
                for i, w in self._weighted:  # the order and skips of contract.weighted_reward
                    if values[i]:
                        reward += w * values[i]
                rewards[agents[s]] = reward
                components[s] = dict(zip(REWARD_COMPONENTS, values))
        problems: list[str | None] = [None] * n
        for s, reasons in invalid.items():
            problems[s] = "; ".join(reasons)
        weights, phase_name = self.reward_weights, PHASES[game.phase]
        task_id, episode_id, steps = self._task_id, self._episode_id, self._steps
        success = False if truncated else None
        infos = {
            agent: {
                "task_id": task_id,
                "episode_id": episode_id,
                "step": steps,
                "reward_components": paid.copy(),
                "reward_weights": weights.copy(),
                "cost": {},
                "success": success,
                "invalid_action": problem,
                "phase": phase_name,
                "role": role,
                "alive": living,
            }
            for agent, paid, problem, role, living in zip(
                agents, components, problems, self._roles, game.alive.tolist()
            )
        }
        if done:
            imposters = [self.possible_agents[i] for i in game.imposters]
            for s, info in enumerate(infos.values()):
                info["success"] = game.winner == ("imposters" if game.is_imposter[s] else "crew")
                info["winner"] = game.winner
                info["win_reason"] = game.win_reason
                info["imposters"] = list(imposters)
        if ignored:
            for info in infos.values():
                info["ignored_actions"] = dict(ignored)
        terminations = dict.fromkeys(agents, done)
        truncations = dict.fromkeys(agents, truncated)
        if done or truncated:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def _gameplay_choices(
        self,
        game: SocialGame,
        fields: list[Mapping[str, Any]],
        masks: np.ndarray,
        invalid: defaultdict[int, list[str]],
    ) -> list[int]:
        """Each seat's gameplay action index: its own where the mask allows it, else wait
        (or "none" while busy), with the reason added to ``invalid``."""
        lay = game.layout
        size = lay.size
        choices = [lay.NONE] * game.n
        busy = game.busy.tolist()
        for s in game.alive.nonzero()[0].tolist():
            k = fields[s].get("action")
            if type(k) is not int:
                k = read_index(k)
            if k is not None and 0 <= k < size and masks[s, k]:  # the common case
                choices[s] = k
                continue
            fallback = lay.NONE if busy[s] else lay.WAIT
            if k is None:
                if not busy[s]:
                    what = (
                        "no action given"
                        if "action" not in fields[s]
                        else (f"action {fields[s]['action']!r} is not an int")
                    )
                    invalid[s].append(f"{what}; played as wait")
                choices[s] = fallback
            else:
                name = lay.name(k) if 0 <= k < size else f"action {k}"
                invalid[s].append(
                    f"{name} is not allowed now (see action_mask); played as {lay.name(fallback)}"
                )
                choices[s] = fallback
        return choices

    def render(self) -> str | None:
        if self.render_mode is None or self.game is None:
            return None
        return self.render_ansi()

    def close(self) -> None:
        self.game = None

    def state(self) -> np.ndarray:
        """The full state (privileged): per seat (alive, imposter, room, busy, cooldown)."""
        g = self._need_game()
        return np.stack(
            [g.alive, g.is_imposter, g.room, g.busy, g.cooldown], axis=1, dtype=np.int64
        )

    # -- privileged data for trainers ---------------------------------------------------------

    @property
    def true_imposters(self) -> list[str]:
        """The imposters' agent ids (privileged: never give this to a crewmate policy)."""
        return [self.possible_agents[i] for i in self._need_game().imposters]

    def listening_data(self) -> list[SurveyRecord]:
        """Every survey answer of this game so far with the truth: the listening signal.

        Privileged data for trainers (e.g. a cross-entropy loss of each crewmate's survey
        against the true imposters, weight 3.0 in the paper); it is never in an observation.
        """
        return list(self._need_game().surveys)

    def render_ansi(self) -> str:
        """The god's-eye view: each room with who is in it (imposters marked ``*``)."""
        g = self._need_game()
        c = self.config
        rows = []
        for y in range(c.height):
            cells = []
            for x in range(c.width):
                r = x + y * c.width
                who = [
                    f"{i}{'*' if g.is_imposter[i] else ''}{'' if g.alive[i] else '+'}"
                    for i in range(g.n)
                    if g.room[i] == r and (g.alive[i] or g.body_room[i] == r)
                ]
                cells.append(f"{g.room_name(r)} {' '.join(who) or '-'}".ljust(22))
            rows.append(" | ".join(cells))
        head = f"tick {g.tick} phase {PHASES[g.phase]}" + (
            f" winner {g.winner}" if g.winner else ""
        )
        return head + "\n" + "\n".join(rows) + "\n"

    def _need_game(self) -> SocialGame:
        if self.game is None:
            raise ResetNeeded("no game yet: call reset() first")
        return self.game


def parallel_env(**kwargs: Any) -> SocialDeductionEnv:
    """The game as a PettingZoo ``ParallelEnv`` (what ``make_parallel`` builds)."""
    return SocialDeductionEnv(**kwargs)


def env(**kwargs: Any) -> Any:
    """The game as a PettingZoo ``AECEnv`` (``parallel_to_aec`` of :func:`parallel_env`)."""
    return parallel_to_aec(SocialDeductionEnv(**kwargs))

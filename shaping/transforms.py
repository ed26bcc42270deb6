"""Group transforms: rewards and advantages computed over all rollouts of one task at once.

The protocol (ARCHITECTURE.md §4): a transform is a callable over the
:class:`~rewardgym.records.EpisodeRecord` s of ONE ``task_id`` (a GRPO group) that returns a
:class:`GroupResult`. Methods that need memory across groups (MASH's historic minimum, VeRPO's
running per-test statistics, the curriculum's global step, running z-scores) keep it in the
object and expose ``state_dict()`` / ``load_state_dict()``; the others are pure.

:class:`GroupResult` has one value per episode and per step (``per_step[i][t]``) and one
episode-level value per episode (``per_episode[i]``), with ``kind`` ``"reward"`` or
``"advantage"``:

* an episode-level **reward** sits on the last step (zeros before it), so
  ``sum(per_step[i]) == per_episode[i]``;
* an episode-level **advantage** is broadcast to every step (every step/token of a sample
  shares it, as in GRPO);
* step-level methods fill ``per_step``; their ``per_episode`` is documented per method
  (the return from the first step, or the sum).

What each transform reads from the records (the keys envs and rollout code must record):

==========================  ===================================================================
transform                   reads
==========================  ===================================================================
GroupNormalize              ``EpisodeRecord.total_reward`` (or a component's sum, or another
                            transform's ``per_episode``)
VeRPOReward                 ``StepRecord.extras["test_results"]`` of the last step that has it:
                            a list of bools, or of ``{"id", "passed"}`` dicts, in a stable order
PosteriorGate               component sums ``format``, ``task``, ``process`` (names settable)
MashPenalty                 ``EpisodeRecord.cost["searches"]``; correct = ``task_return > 0``
UIS1Returns/UIS1Advantage   step score = ``StepRecord.reward`` (or a component/extras key);
                            ``StepRecord.extras["matched"]`` (bool)
Unlikeliness                ``EpisodeRecord.metadata["logprob"]`` (mean token log-prob, or a
                            list of token log-probs), else the steps' ``extras["logprob"]``
PAR / BoundedReward         the episode reward; PAR's references from ``reference`` or
                            ``EpisodeRecord.metadata["reference_rewards"]``
ClipDelta, ReNorm           per-step component ``process`` (and ``task`` for ReNorm)
CurriculumMix               component sums ``process`` and ``task``
DynamicSampling             the same sources as GroupNormalize
==========================  ===================================================================
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from rewardgym.errors import ConfigError
from rewardgym.records import EpisodeRecord

__all__ = [
    "PAR",
    "BoundedReward",
    "ClipDelta",
    "CurriculumMix",
    "DynamicSampling",
    "GroupNormalize",
    "GroupResult",
    "GroupTransform",
    "MashPenalty",
    "PosteriorGate",
    "ReNorm",
    "UIS1Advantage",
    "UIS1Returns",
    "Unlikeliness",
    "VeRPOReward",
    "group_by_task",
    "group_normalize",
    "mash_rewards",
    "par_reward",
    "uis1_discounted_returns",
    "uis1_step_score",
]

logger = logging.getLogger("rewardgym.shaping.transforms")

Kind = Literal["reward", "advantage"]


# ----------------------------------------------------------------------------------------------
# The protocol
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupResult:
    """What a transform returns for one group (see the module docstring for the layout).

    Attributes:
        kind: ``"reward"`` or ``"advantage"``.
        per_step: one list per episode, one value per step.
        per_episode: one episode-level value per episode.
    """

    kind: Kind
    per_step: list[list[float]]
    per_episode: list[float]

    @classmethod
    def episode_rewards(cls, episodes: Sequence[EpisodeRecord], values: Iterable[float]):
        """Episode-level rewards, placed on each episode's last step."""
        values = [float(v) for v in values]
        per_step = []
        for ep, v in zip(episodes, values):
            row = [0.0] * ep.length
            if row:
                row[-1] = v
            per_step.append(row)
        return cls("reward", per_step, values)

    @classmethod
    def episode_advantages(cls, episodes: Sequence[EpisodeRecord], values: Iterable[float]):
        """Episode-level advantages, broadcast to every step."""
        values = [float(v) for v in values]
        return cls("advantage", [[v] * ep.length for ep, v in zip(episodes, values)], values)


@runtime_checkable
class GroupTransform(Protocol):
    """A callable over the episodes of one task returning a :class:`GroupResult`."""

    def __call__(self, episodes: Sequence[EpisodeRecord]) -> GroupResult: ...

    def spec(self) -> dict[str, Any]: ...


def group_by_task(episodes: Iterable[EpisodeRecord]) -> dict[str, list[EpisodeRecord]]:
    """Split episodes into groups by ``task_id`` (insertion order kept)."""
    groups: dict[str, list[EpisodeRecord]] = defaultdict(list)
    for ep in episodes:
        groups[ep.task_id].append(ep)
    return dict(groups)


def _check_group(episodes: Sequence[EpisodeRecord], who: str) -> str:
    if not episodes:
        raise ConfigError(f"{who}: empty group; pass the episodes of one task_id")
    task_ids = {ep.task_id for ep in episodes}
    if len(task_ids) != 1:
        raise ConfigError(
            f"{who}: a group must share one task_id, got {sorted(task_ids)}; split with "
            "rewardgym.shaping.transforms.group_by_task first"
        )
    return episodes[0].task_id


def _number(name: str, value: Any, lo: float | None = None, hi: float | None = None) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(x) or (lo is not None and x < lo) or (hi is not None and x > hi):
        bounds = f" in [{lo if lo is not None else '-inf'}, {hi if hi is not None else 'inf'}]"
        raise ConfigError(f"{name} must be a finite number{bounds}, got {value!r}")
    return x


def _choice(name: str, value: str, valid: Sequence[str]) -> str:
    if value not in valid:
        raise ConfigError(f"{name} must be one of {list(valid)}, got {value!r}")
    return value


Source = str | GroupTransform


def _episode_values(source: Source, episodes: Sequence[EpisodeRecord]) -> list[float]:
    """The per-episode value a transform works on: ``"reward"`` (the scalar return), a
    component name (its episode sum) or another transform (its ``per_episode``)."""
    if isinstance(source, str):
        if source == "reward":
            return [ep.total_reward for ep in episodes]
        return [ep.component_sum(source) for ep in episodes]
    return list(source(episodes).per_episode)


def _source_spec(source: Source) -> Any:
    return source if isinstance(source, str) else source.spec()


class _Transform:
    """What the transforms share: ``spec()`` is the class name plus the parameters named in
    ``_SPEC`` (a ``source`` that is itself a transform gives its own spec)."""

    _SPEC: tuple[str, ...] = ()

    def spec(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": type(self).__name__}
        for key in self._SPEC:
            value = getattr(self, key)
            out[key] = _source_spec(value) if key == "source" else value
        return out


def group_normalize(values: Sequence[float], eps: float = 1e-6) -> list[float]:
    """GRPO group normalisation ``(x - mean) / (std + eps)`` with the unbiased std.

    A group of one has no spread: its advantage is 0.
    """
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return [0.0] * int(x.size)
    return ((x - x.mean()) / (x.std(ddof=1) + eps)).tolist()


# ----------------------------------------------------------------------------------------------
# GRPO
# ----------------------------------------------------------------------------------------------


class GroupNormalize(_Transform):
    """GRPO advantages: the group-normalised episode value, broadcast to every step.

    Args:
        source: ``"reward"`` (the episode's scalar return, shaping included), a component name
            (e.g. ``"task"``), or another transform whose ``per_episode`` to normalise.
        eps: added to the std.
    """

    _SPEC = ("source", "eps")

    def __init__(self, source: Source = "reward", eps: float = 1e-6) -> None:
        if not isinstance(source, str) and not callable(source):
            raise ConfigError(f"source must be a name or a group transform, got {source!r}")
        self.source = source
        self.eps = _number("eps", eps, lo=0.0)

    def __call__(self, episodes: Sequence[EpisodeRecord]) -> GroupResult:
        _check_group(episodes, "GroupNormalize")
        values = _episode_values(self.source, episodes)
        return GroupResult.episode_advantages(episodes, group_normalize(values, self.eps))


# ----------------------------------------------------------------------------------------------
# Code: VeRPO and Posterior-GRPO (METHODS.md §3)
# ----------------------------------------------------------------------------------------------


def _test_results(ep: EpisodeRecord) -> list[bool] | None:
    """Pass flags of the last step that graded tests; None if the key is there but always empty.

    An attempt that could not be graded (no code block, a syntax error) reports an empty list:
    it passed no test.
    """
    seen = False
    for step in reversed(ep.steps):
        results = step.extras.get("test_results")
        if results is None:
            continue
        seen = True
        if not results:
            continue
        flags = []
        for item in results:
            if isinstance(item, Mapping):
                if "passed" not in item:
                    raise ConfigError(
                        f"episode {ep.episode_id}: test result {item!r} lacks 'passed'"
                    )
                flags.append(bool(item["passed"]))
            else:
                flags.append(bool(item))
        return flags
    if seen:
        return None
    raise ConfigError(
        f"episode {ep.episode_id} has no StepRecord.extras['test_results']; record steps with "
        "StepRecord.from_step(..., extra_keys=('test_results',))"
    )


class VeRPOReward(_Transform):
    """VeRPO dense reward from difficulty-weighted partial test success (METHODS.md §3).

    Per test j, ``rho_j`` = fraction of rollouts passing it (in this group, or — with
    ``running=True`` — over every group of this task seen so far, this one included);
    ``w_j = (1 - rho_j + eps) / sum_k (1 - rho_k + eps)``; ``d_i = sum_j w_j * pass_ij``;
    ``g_i`` = all tests pass. A rollout whose attempt could not be graded (an empty
    ``test_results`` list) passed no test. Combination ``"A"``: ``R_i = g_i + beta*d_i``; ``"B"``:
    ``R_i = g_i if g_i else beta*d_i``. Episode-level reward.

    Args:
        beta: the weight of the dense term.
        combination: ``"A"`` (default) or ``"B"``.
        eps: smoothing of the weights (> 0) [ours: 0.01].
        running: estimate ``rho`` from running per-task statistics (state).
    """

    _SPEC = ("beta", "combination", "eps", "running")

    def __init__(
        self,
        beta: float = 0.5,
        combination: Literal["A", "B"] = "A",
        eps: float = 0.01,
        running: bool = False,
    ) -> None:
        self.beta = _number("beta", beta, lo=0.0)
        self.combination = _choice("combination", combination, ("A", "B"))
        self.eps = _number("eps", eps, lo=0.0)
        if self.eps == 0.0:
            raise ConfigError("eps must be > 0 (weights are undefined when every test passes)")
        self.running = bool(running)
        self._passes: dict[str, list[float]] = {}
        self._counts: dict[str, int] = {}

    def state_dict(self) -> dict[str, Any]:
        return {
            "passes": {k: list(v) for k, v in self._passes.items()},
            "counts": dict(self._counts),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._passes = {str(k): [float(x) for x in v] for k, v in state["passes"].items()}
        self._counts = {str(k): int(v) for k, v in state["counts"].items()}

    def weights(self, episodes: Sequence[EpisodeRecord]) -> np.ndarray:
        """The test weights ``w_j`` this group would get (without updating the state)."""
        return self._weights(_check_group(episodes, "VeRPOReward"), self._matrix(episodes))[0]

    def _matrix(self, episodes: Sequence[EpisodeRecord]) -> np.ndarray:
        rows = [_test_results(ep) for ep in episodes]
        lengths = {len(r) for r in rows if r is not None}
        if len(lengths) > 1:
            raise ConfigError(
                f"VeRPOReward: every rollout of a task needs the same number of test results, "
                f"got lengths {sorted(lengths)}"
            )
        n_tests = lengths.pop() if lengths else 0
        # Ungraded rollouts passed nothing; a group where nothing was graded has no tests.
        return np.asarray(
            [r if r is not None else [False] * n_tests for r in rows], dtype=float
        ).reshape(len(rows), n_tests)

    def _weights(self, task_id: str, passed: np.ndarray) -> tuple[np.ndarray, list[float], int]:
        passes, count = passed.sum(axis=0), passed.shape[0]
        if passed.shape[1] == 0:  # nothing graded: no weights, and nothing to remember
            return np.zeros(0), [], count
        if self.running:
            old = self._passes.get(task_id)
            if old is not None and len(old) != passed.shape[1]:
                raise ConfigError(
                    f"VeRPOReward: task {task_id!r} had {len(old)} tests before, now "
                    f"{passed.shape[1]}"
                )
            if old is not None:
                passes = passes + np.asarray(old)
                count += self._counts[task_id]
        rho = passes / count
        raw = 1.0 - rho + self.eps
        return raw / raw.sum(), passes.tolist(), count

    def __call__(self, episodes: Sequence[EpisodeRecord]) -> GroupResult:
        task_id = _check_group(episodes, "VeRPOReward")
        passed = self._matrix(episodes)
        w, passes, count = self._weights(task_id, passed)
        if self.running and passed.shape[1]:
            self._passes[task_id], self._counts[task_id] = passes, count
        dense = passed @ w
        full = passed.all(axis=1).astype(float) if passed.shape[1] else np.zeros(len(episodes))
        if self.combination == "A":
            rewards = full + self.beta * dense
        else:
            rewards = np.where(full > 0, full, self.beta * dense)
        return GroupResult.episode_rewards(episodes, rewards.tolist())


class PosteriorGate(_Transform):
    """Posterior-GRPO: process reward counts only on success.

    ``R = R_format + R_outcome + R_outcome * R_process``, each term the episode's sum of a
    component. Episode-level reward.

    Args:
        format_component: the format term.
        outcome_component: the outcome term (0/1).
        process_component: the process (reasoning-quality) term.
    """

    _SPEC = ("format_component", "outcome_component", "process_component")

    def __init__(
        self,
        format_component: str = "format",
        outcome_component: str = "task",
        process_component: str = "process",
    ) -> None:
        self.format_component = str(format_component)
        self.outcome_component = str(outcome_component)
        self.process_component = str(process_component)

    def __call__(self, episodes: Sequence[EpisodeRecord]) -> GroupResult:
        _check_group(episodes, "PosteriorGate")
        values = []
        for ep in episodes:
            fmt = ep.component_sum(self.format_component)
            outcome = ep.component_sum(self.outcome_component)
            process = ep.component_sum(self.process_component)
            values.append(fmt + outcome + outcome * process)
        return GroupResult.episode_rewards(episodes, values)


# ----------------------------------------------------------------------------------------------
# Search: MASH (METHODS.md §2)
# ----------------------------------------------------------------------------------------------

MashVariant = Literal["exp", "linear", "otc", "otc_strict"]


def _otc_penalty(s: float, m: float, max_searches: int) -> float:
    if s == 0 and m == 0:
        f = 0.0
    elif m == 0:
        f = s
    else:
        f = 2 * s * m / (s + m)
    if f == 0:
        return 1.0
    if m == 0:
        return math.cos(s * math.pi / (2 * s + max_searches))
    return math.sin(f * math.pi / (2 * m))


def mash_rewards(
    correct: Sequence[bool],
    searches: Sequence[float],
    *,
    variant: MashVariant = "exp",
    lam: float = 0.7,
    max_searches: int = 5,
    historic_min: float = math.inf,
) -> list[float]:
    """MASH rewards of one group (pure; see :class:`MashPenalty`)."""
    correct_searches = [s for c, s in zip(correct, searches) if c]
    m_hat = min([*correct_searches, historic_min])
    out = []
    for c, s in zip(correct, searches):
        if not c:
            out.append(0.0)
        elif variant == "exp":
            out.append(lam ** (s - m_hat))
        elif variant == "linear":
            out.append(max(1.0 - s / (max_searches + 1), 0.0))
        elif variant == "otc_strict" and m_hat == 0 and s > 0:
            out.append(0.0)
        else:
            out.append(_otc_penalty(float(s), float(m_hat), max_searches))
    return out


class MashPenalty(_Transform):
    """MASH pay-per-search reward over the rollouts of one question (METHODS.md §2).

    ``m_hat = min(min{s_i : correct_i}, historic_min(q))``; ``exp``:
    ``R_i = correct_i * lam**(s_i - m_hat)``; ``linear``:
    ``R_i = correct_i * max(1 - s_i/(max_searches+1), 0)``; ``otc`` (OTC-GRPO) with
    ``f(s, m)`` = 0 if s=m=0, s if m=0, else 2sm/(s+m): 1 if f=0, ``cos(s*pi/(2s+max))`` if
    m=0, ``sin(f*pi/(2m))`` otherwise; ``otc_strict``: as otc, but when ``m_hat`` = 0 a correct
    answer that searched gets 0. The historic minimum per ``task_id`` is the state.
    Correct means ``task_return > 0``; searches come from ``EpisodeRecord.cost[cost_key]``.

    Args:
        variant: ``"exp"`` (default), ``"linear"``, ``"otc"`` or ``"otc_strict"``.
        lam: the decay of ``exp`` (0.5 NQ, 0.8 HotpotQA/2Wiki; default 0.7).
        max_searches: the search budget (5).
        cost_key: the cost counter holding the number of searches.
    """

    _SPEC = ("variant", "lam", "max_searches", "cost_key")

    def __init__(
        self,
        variant: MashVariant = "exp",
        lam: float = 0.7,
        max_searches: int = 5,
        cost_key: str = "searches",
    ) -> None:
        self.variant = _choice("variant", variant, ("exp", "linear", "otc", "otc_strict"))
        self.lam = _number("lam", lam, lo=0.0, hi=1.0)
        self.max_searches = int(_number("max_searches", max_searches, lo=0))
        self.cost_key = str(cost_key)
        self.historic_min: dict[str, float] = {}

    def state_dict(self) -> dict[str, Any]:
        return {"historic_min": dict(self.historic_min)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.historic_min = {str(k): float(v) for k, v in state["historic_min"].items()}

    def __call__(self, episodes: Sequence[EpisodeRecord]) -> GroupResult:
        task_id = _check_group(episodes, "MashPenalty")
        correct = [ep.task_return > 0 for ep in episodes]
        searches = [float(ep.cost.get(self.cost_key, 0.0)) for ep in episodes]
        historic = self.historic_min.get(task_id, math.inf)
        rewards = mash_rewards(
            correct,
            searches,
            variant=self.variant,
            lam=self.lam,
            max_searches=self.max_searches,
            historic_min=historic,
        )
        new_min = min([*(s for c, s in zip(correct, searches) if c), historic])
        if math.isfinite(new_min):
            self.historic_min[task_id] = new_min
        return GroupResult.episode_rewards(episodes, rewards)


# ----------------------------------------------------------------------------------------------
# GUI: UI-S1 (METHODS.md §1)
# ----------------------------------------------------------------------------------------------

#: UI-S1 action levels: unparseable, wrong type, right type with wrong arguments, exact match.
UIS1_ACTION_LEVELS: dict[str, float] = {
    "unparseable": 0.0,
    "wrong_type": 0.1,
    "wrong_args": 0.5,
    "exact": 1.0,
}


def uis1_step_score(has_thought: bool, action: str | float) -> float:
    """``0.1*format + 0.9*action`` with the UI-S1 action levels (a level name or a value)."""
    level = UIS1_ACTION_LEVELS[action] if isinstance(action, str) else float(action)
    return 0.1 * float(bool(has_thought)) + 0.9 * level


def uis1_discounted_returns(
    scores: Sequence[float], matched: Sequence[bool], gamma: float = 0.5
) -> list[float]:
    """UI-S1 returns, walking backwards; nothing flows back across a miss.

    ``R_t = score_t + gamma*R_{t+1}`` when step t matched, ``R_t = score_t`` when it did not,
    and a missed step passes nothing back to the step before it (so the matched step before a
    miss gets only its own score). ref: scores [1, .55, 1, 1], matches [T, F, T, T] ->
    [1, .55, 1.5, 1].
    """
    returns = [0.0] * len(scores)
    carried = 0.0  # what flows back into step t from step t+1
    for t in range(len(scores) - 1, -1, -1):
        if matched[t]:
            returns[t] = scores[t] + gamma * carried
            carried = returns[t]
        else:
            returns[t] = scores[t]
            carried = 0.0
    return returns


class _UIS1Base(_Transform):
    def __init__(self, gamma: float, score_key: str | None, match_key: str) -> None:
        self.gamma = _number("gamma", gamma, lo=0.0, hi=1.0)
        self.score_key = score_key
        self.match_key = str(match_key)

    def _scores_matches(self, ep: EpisodeRecord) -> tuple[list[float], list[bool]]:
        scores, matches = [], []
        for step in ep.steps:
            if self.score_key is None:
                scores.append(step.reward)
            elif self.score_key in step.reward_components:
                scores.append(step.reward_components[self.score_key])
            elif self.score_key in step.extras:
                scores.append(float(step.extras[self.score_key]))
            else:
                raise ConfigError(
                    f"episode {ep.episode_id} step {step.step}: no component or extras key "
                    f"{self.score_key!r} holding the step score"
                )
            if self.match_key not in step.extras:
                raise ConfigError(
                    f"episode {ep.episode_id} step {step.step}: StepRecord.extras lacks "
                    f"{self.match_key!r}; record it with extra_keys=({self.match_key!r},)"
                )
            matches.append(bool(step.extras[self.match_key]))
        return scores, matches

    def _returns(self, episodes: Sequence[EpisodeRecord]):
        data = [self._scores_matches(ep) for ep in episodes]
        returns = [uis1_discounted_returns(s, m, self.gamma) for s, m in data]
        return data, returns


class UIS1Returns(_UIS1Base):
    """UI-S1 discounted future returns cut at mismatches, per step (reward kind).

    ``per_episode`` is ``R_0`` (what dynamic sampling thresholds).

    Args:
        gamma: the discount (0.5).
        score_key: None = the step's scalar reward is the step score (the GUI env's default
            weights 0.1 format + 0.9 action make it so); else a component or extras key.
        match_key: the ``StepRecord.extras`` key of the match flag.
    """

    _SPEC = ("gamma", "score_key", "match_key")

    def __init__(
        self, gamma: float = 0.5, score_key: str | None = None, match_key: str = "matched"
    ) -> None:
        super().__init__(gamma, score_key, match_key)

    def __call__(self, episodes: Sequence[EpisodeRecord]) -> GroupResult:
        _check_group(episodes, "UIS1Returns")
        _, returns = self._returns(episodes)
        return GroupResult("reward", returns, [r[0] if r else 0.0 for r in returns])


class UIS1Advantage(_UIS1Base):
    """UI-S1 advantage ``A = w_episode*A_ep + w_step*A_step`` per step.

    ``A_step[i][t]`` normalises ``R_t`` over the rollouts that reached step t
    (``(x-mean)/(std+eps)``, unbiased std, a group of one gets 0). ``A_ep``:
    ``"pooled_scores"`` (default, as the released code runs) normalises each step's score over
    all steps of all rollouts; ``"trajectory_return"`` (the paper's description) normalises each
    rollout's summed step score over the group and broadcasts it [ours: undiscounted sum].
    ``per_episode`` is the advantage at step 0.

    Args:
        gamma: the discount of the returns (0.5).
        w_episode: weight of the episode term (1).
        w_step: weight of the step term (1).
        episode_term: ``"pooled_scores"`` or ``"trajectory_return"``.
        eps: added to the std (1e-6).
        score_key: as in :class:`UIS1Returns`.
        match_key: as in :class:`UIS1Returns`.
    """

    _SPEC = ("gamma", "w_episode", "w_step", "episode_term", "eps", "score_key", "match_key")

    def __init__(
        self,
        gamma: float = 0.5,
        w_episode: float = 1.0,
        w_step: float = 1.0,
        episode_term: Literal["pooled_scores", "trajectory_return"] = "pooled_scores",
        eps: float = 1e-6,
        score_key: str | None = None,
        match_key: str = "matched",
    ) -> None:
        super().__init__(gamma, score_key, match_key)
        self.w_episode = _number("w_episode", w_episode)
        self.w_step = _number("w_step", w_step)
        self.episode_term = _choice(
            "episode_term", episode_term, ("pooled_scores", "trajectory_return")
        )
        self.eps = _number("eps", eps, lo=0.0)

    def __call__(self, episodes: Sequence[EpisodeRecord]) -> GroupResult:
        _check_group(episodes, "UIS1Advantage")
        data, returns = self._returns(episodes)
        horizon = max((len(r) for r in returns), default=0)
        a_step = [[0.0] * len(r) for r in returns]
        for t in range(horizon):
            rows = [i for i, r in enumerate(returns) if len(r) > t]
            normed = group_normalize([returns[i][t] for i in rows], self.eps)
            for i, v in zip(rows, normed):
                a_step[i][t] = v
        if self.episode_term == "pooled_scores":
            flat = [s for scores, _ in data for s in scores]
            normed = iter(group_normalize(flat, self.eps))
            a_ep = [[next(normed) for _ in scores] for scores, _ in data]
        else:
            totals = group_normalize([math.fsum(scores) for scores, _ in data], self.eps)
            a_ep = [[v] * len(scores) for v, (scores, _) in zip(totals, data)]
        per_step = [
            [self.w_episode * e + self.w_step * s for e, s in zip(ep_row, st_row)]
            for ep_row, st_row in zip(a_ep, a_step)
        ]
        return GroupResult("advantage", per_step, [row[0] if row else 0.0 for row in per_step])


class DynamicSampling(_Transform):
    """Keep a group only if the spread (unbiased std) of its episode values exceeds a threshold.

    Not a reward: :meth:`keep` says whether a group carries learning signal; :meth:`filter`
    keeps the groups that do. UI-S1 uses ``DynamicSampling(0.3, UIS1Returns())`` (the std of
    ``R_0``).

    Args:
        threshold: the minimum std (0.3 in UI-S1).
        source: as in :class:`GroupNormalize`.
    """

    _SPEC = ("threshold", "source")

    def __init__(self, threshold: float = 0.3, source: Source = "reward") -> None:
        self.threshold = _number("threshold", threshold, lo=0.0)
        self.source = source

    def spread(self, episodes: Sequence[EpisodeRecord]) -> float:
        """The unbiased std of the group's values (0 for a group of one)."""
        _check_group(episodes, "DynamicSampling")
        values = _episode_values(self.source, episodes)
        return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0

    def keep(self, episodes: Sequence[EpisodeRecord]) -> bool:
        return self.spread(episodes) > self.threshold

    def filter(self, groups: Iterable[Sequence[EpisodeRecord]]) -> list[Sequence[EpisodeRecord]]:
        return [g for g in groups if self.keep(g)]


# ----------------------------------------------------------------------------------------------
# Unlikeliness (METHODS.md §6)
# ----------------------------------------------------------------------------------------------


def _mean_logprob(ep: EpisodeRecord, key: str) -> float:
    value = ep.metadata.get(key)
    if value is None:
        per_step = [s.extras[key] for s in ep.steps if key in s.extras]
        if not per_step:
            raise ConfigError(
                f"episode {ep.episode_id}: no metadata[{key!r}] or step extras[{key!r}] with "
                "the sample's log-probs"
            )
        tokens: list[float] = []
        for item in per_step:
            tokens.extend(item if isinstance(item, list) else [item])
        value = tokens
    if isinstance(value, (list, tuple)):
        if not value:
            raise ConfigError(f"episode {ep.episode_id}: empty log-prob list under {key!r}")
        return float(np.mean(value))
    return float(value)


class Unlikeliness(_Transform):
    """Unlikeliness reward ("Rewarding the Unlikely"): boost correct but unlikely samples.

    Rank the G samples by mean token log-prob (rank 0 = least likely), ``rank_i = position/G``;
    ``r_i' = r_i * (1 - beta*rank_i)``; then GRPO normalisation (``normalize=True``, advantage
    kind) or the raw ``r'`` (reward kind). Ties keep the input order.

    Args:
        beta: strength (0.25).
        source: the reward to reshape, as in :class:`GroupNormalize` (default ``"task"``).
        logprob_key: the metadata/extras key of the log-probs.
        normalize: apply group normalisation afterwards.
        eps: the std epsilon of the normalisation.
    """

    _SPEC = ("beta", "source", "logprob_key", "normalize", "eps")

    def __init__(
        self,
        beta: float = 0.25,
        source: Source = "task",
        logprob_key: str = "logprob",
        normalize: bool = True,
        eps: float = 1e-6,
    ) -> None:
        self.beta = _number("beta", beta, lo=0.0, hi=1.0)
        self.source = source
        self.logprob_key = str(logprob_key)
        self.normalize = bool(normalize)
        self.eps = _number("eps", eps, lo=0.0)

    def reshaped(self, episodes: Sequence[EpisodeRecord]) -> list[float]:
        """``r_i'`` before normalisation."""
        _check_group(episodes, "Unlikeliness")
        rewards = _episode_values(self.source, episodes)
        logps = [_mean_logprob(ep, self.logprob_key) for ep in episodes]
        order = np.argsort(np.asarray(logps), kind="stable")
        g = len(episodes)
        rank = np.empty(g)
        rank[order] = np.arange(g) / g
        return [r * (1.0 - self.beta * k) for r, k in zip(rewards, rank)]

    def __call__(self, episodes: Sequence[EpisodeRecord]) -> GroupResult:
        values = self.reshaped(episodes)
        if self.normalize:
            return GroupResult.episode_advantages(episodes, group_normalize(values, self.eps))
        return GroupResult.episode_rewards(episodes, values)


# ----------------------------------------------------------------------------------------------
# PAR and its baselines (METHODS.md §6)
# ----------------------------------------------------------------------------------------------


def _sigmoid(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def par_reward(r: float, references: Sequence[float], k: float = 1.0) -> float:
    """``mean_m sigmoid(k*(r - ref_m))``: bounded, steepest near the references."""
    refs = np.asarray(references, dtype=float)
    if refs.size == 0:
        raise ConfigError("PAR needs at least one reference reward")
    return float(_sigmoid(k * (float(r) - refs)).mean())


class PAR(_Transform):
    """Preference As Reward (PAR): ``r_PAR = mean_m sigmoid(k*(r - r_ref_m))``.

    Args:
        k: the steepness (1).
        reference: fixed reference rewards; None = each episode's
            ``metadata["reference_rewards"]`` (a float or a list).
        source: the reward to reshape, as in :class:`GroupNormalize`.
    """

    _SPEC = ("k", "reference", "source")

    def __init__(
        self, k: float = 1.0, reference: Sequence[float] | None = None, source: Source = "reward"
    ) -> None:
        self.k = _number("k", k, lo=0.0)
        if reference is not None:
            reference = [_number("reference", r) for r in reference]
            if not reference:
                raise ConfigError("PAR reference must hold at least one reward (or be None)")
        self.reference = reference
        self.source = source

    def __call__(self, episodes: Sequence[EpisodeRecord]) -> GroupResult:
        _check_group(episodes, "PAR")
        rewards = _episode_values(self.source, episodes)
        out = []
        for ep, r in zip(episodes, rewards):
            refs = self.reference
            if refs is None:
                if "reference_rewards" not in ep.metadata:
                    raise ConfigError(
                        f"episode {ep.episode_id}: PAR needs reference=[...] or "
                        "metadata['reference_rewards']"
                    )
                raw = ep.metadata["reference_rewards"]
                refs = raw if isinstance(raw, (list, tuple)) else [raw]
            out.append(par_reward(r, refs, self.k))
        return GroupResult.episode_rewards(episodes, out)


BoundedMethod = Literal[
    "zscore",
    "clip",
    "minmax",
    "centered",
    "tanh",
    "tanh_centered",
    "arctan",
    "arctan_centered",
    "logsigmoid_centered",
]


class BoundedReward(_Transform):
    """The baselines of the PAR paper, over running statistics of the rewards seen so far.

    Running mean/std/min/max are updated with each group (this one included) and saved with
    :meth:`state_dict`. ``zscore``: ``(r-mean)/(std+eps)``; ``clip``: r clipped to
    ``[mean-std, mean+std]``; ``minmax``: ``(r-min)/(max-min+eps)``; ``centered``: ``r-ref``;
    ``tanh``/``arctan``: of r; ``tanh_centered``/``arctan_centered``: of ``r-ref``;
    ``logsigmoid_centered``: ``log sigmoid(r-ref)``. ``ref`` is the ``reference`` argument
    or, when None, the running mean [ours].

    Args:
        method: one of the names above.
        reference: the centring reference (None = running mean).
        source: the reward to reshape, as in :class:`GroupNormalize`.
        eps: the std/range epsilon.
    """

    METHODS: tuple[str, ...] = (
        "zscore",
        "clip",
        "minmax",
        "centered",
        "tanh",
        "tanh_centered",
        "arctan",
        "arctan_centered",
        "logsigmoid_centered",
    )

    _SPEC = ("method", "reference", "source", "eps")

    def __init__(
        self,
        method: BoundedMethod = "zscore",
        reference: float | None = None,
        source: Source = "reward",
        eps: float = 1e-6,
    ) -> None:
        self.method = _choice("method", method, self.METHODS)
        self.reference = None if reference is None else _number("reference", reference)
        self.source = source
        self.eps = _number("eps", eps, lo=0.0)
        self.count, self.mean, self.m2 = 0, 0.0, 0.0
        self.min, self.max = math.inf, -math.inf

    def state_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "mean": self.mean,
            "m2": self.m2,
            "min": self.min,
            "max": self.max,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.count, self.mean, self.m2 = (
            int(state["count"]),
            float(state["mean"]),
            float(state["m2"]),
        )
        self.min, self.max = float(state["min"]), float(state["max"])

    def _update(self, values: Sequence[float]) -> None:
        for x in values:
            self.count += 1
            delta = x - self.mean
            self.mean += delta / self.count
            self.m2 += delta * (x - self.mean)
            self.min, self.max = min(self.min, x), max(self.max, x)

    def __call__(self, episodes: Sequence[EpisodeRecord]) -> GroupResult:
        _check_group(episodes, "BoundedReward")
        r = np.asarray(_episode_values(self.source, episodes), dtype=float)
        self._update(r.tolist())
        std = math.sqrt(self.m2 / (self.count - 1)) if self.count > 1 else 0.0
        ref = self.mean if self.reference is None else self.reference
        m = self.method
        if m == "zscore":
            out = (r - self.mean) / (std + self.eps)
        elif m == "clip":
            out = np.clip(r, self.mean - std, self.mean + std)
        elif m == "minmax":
            out = (r - self.min) / (self.max - self.min + self.eps)
        elif m == "centered":
            out = r - ref
        elif m == "tanh":
            out = np.tanh(r)
        elif m == "tanh_centered":
            out = np.tanh(r - ref)
        elif m == "arctan":
            out = np.arctan(r)
        elif m == "arctan_centered":
            out = np.arctan(r - ref)
        else:  # logsigmoid_centered
            out = -np.logaddexp(0.0, -(r - ref))
        return GroupResult.episode_rewards(episodes, out.tolist())


# ----------------------------------------------------------------------------------------------
# Process rewards: Clip/Delta, curriculum mix, ReNorm (METHODS.md §6)
# ----------------------------------------------------------------------------------------------


def _per_step(ep: EpisodeRecord, component: str) -> list[float]:
    return [s.reward_components.get(component, 0.0) for s in ep.steps]


class ClipDelta(_Transform):
    """Bound cumulative process rewards so repeating steps cannot farm them.

    ``"clip"``: ``r_t' = min(r_t - eta, 0)``; ``"delta"``: ``r_t' = r_t - r_{t+1}``, the last
    step keeps ``r_K``. Per-step reward; ``per_episode`` is the sum.

    Args:
        mode: ``"clip"`` or ``"delta"``.
        eta: the clip threshold (``clip`` only).
        process_component: the per-step process reward component.
    """

    _SPEC = ("mode", "eta", "process_component")

    def __init__(
        self,
        mode: Literal["clip", "delta"] = "clip",
        eta: float = 0.0,
        process_component: str = "process",
    ) -> None:
        self.mode = _choice("mode", mode, ("clip", "delta"))
        self.eta = _number("eta", eta)
        self.process_component = str(process_component)

    def __call__(self, episodes: Sequence[EpisodeRecord]) -> GroupResult:
        _check_group(episodes, "ClipDelta")
        per_step = []
        for ep in episodes:
            r = _per_step(ep, self.process_component)
            if self.mode == "clip":
                row = [min(x - self.eta, 0.0) for x in r]
            else:
                row = [r[t] - r[t + 1] for t in range(len(r) - 1)] + r[-1:]
            per_step.append(row)
        return GroupResult("reward", per_step, [math.fsum(row) for row in per_step])


class CurriculumMix(_Transform):
    """Process reward early, outcome later: ``R = a_t*R_process + (1-a_t)*R_outcome``.

    ``a_t = alpha0 * max(0, 1 - t/horizon)`` with ``t`` the global training step, set with
    :meth:`set_global_step` (the state). Episode-level reward.

    Args:
        alpha0: the initial process weight (0.5) [ours].
        horizon: the steps over which it decays to 0 [ours: 1000].
        process_component: the process term (its episode sum).
        outcome_component: the outcome term (its episode sum).
    """

    _SPEC = ("alpha0", "horizon", "process_component", "outcome_component")

    def __init__(
        self,
        alpha0: float = 0.5,
        horizon: int = 1000,
        process_component: str = "process",
        outcome_component: str = "task",
    ) -> None:
        self.alpha0 = _number("alpha0", alpha0, lo=0.0, hi=1.0)
        self.horizon = int(_number("horizon", horizon, lo=1))
        self.process_component = str(process_component)
        self.outcome_component = str(outcome_component)
        self.global_step = 0

    def set_global_step(self, step: int) -> None:
        if step < 0:
            raise ConfigError(f"global step must be >= 0, got {step}")
        self.global_step = int(step)

    @property
    def alpha(self) -> float:
        return self.alpha0 * max(0.0, 1.0 - self.global_step / self.horizon)

    def state_dict(self) -> dict[str, Any]:
        return {"global_step": self.global_step}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.set_global_step(int(state["global_step"]))

    def __call__(self, episodes: Sequence[EpisodeRecord]) -> GroupResult:
        _check_group(episodes, "CurriculumMix")
        a = self.alpha
        values = [
            a * ep.component_sum(self.process_component)
            + (1 - a) * ep.component_sum(self.outcome_component)
            for ep in episodes
        ]
        return GroupResult.episode_rewards(episodes, values)


class ReNorm(_Transform):
    """EXPERIMENTAL (formula not public): ``r_t = p_t + o - 1`` per step.

    ``p_t`` is the step's process reward, ``o`` the episode's outcome (sum of ``task``). Offered
    as a labelled option for the Principle Process Reward idea; ``per_episode`` is the sum.

    Args:
        process_component: the per-step process reward.
        outcome_component: the outcome component.
    """

    experimental = True
    _SPEC = ("experimental", "process_component", "outcome_component")

    def __init__(self, process_component: str = "process", outcome_component: str = "task") -> None:
        self.process_component = str(process_component)
        self.outcome_component = str(outcome_component)
        logger.warning("ReNorm is experimental: its formula is our guess, not the paper's")

    def __call__(self, episodes: Sequence[EpisodeRecord]) -> GroupResult:
        _check_group(episodes, "ReNorm")
        per_step = []
        for ep in episodes:
            o = ep.component_sum(self.outcome_component)
            per_step.append([p + o - 1.0 for p in _per_step(ep, self.process_component)])
        return GroupResult("reward", per_step, [math.fsum(row) for row in per_step])


#: Every group transform by name (for configs).
TRANSFORMS: dict[str, Callable[..., Any]] = {
    cls.__name__: cls
    for cls in (
        GroupNormalize,
        VeRPOReward,
        PosteriorGate,
        MashPenalty,
        UIS1Returns,
        UIS1Advantage,
        DynamicSampling,
        Unlikeliness,
        PAR,
        BoundedReward,
        ClipDelta,
        CurriculumMix,
        ReNorm,
    )
}

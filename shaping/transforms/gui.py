"""GUI: UI-S1 step scores, discounted returns cut at mismatches, and advantages
(METHODS.md §1)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np

from rewardgym.errors import ConfigError
from rewardgym.records import EpisodeRecord
from rewardgym.shaping.transforms.base import (
    GroupResult,
    _check_group,
    _choice,
    _number,
    _Transform,
)

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


def uis1_center(
    values: Sequence[float],
    mode: Literal["mean_std_norm", "mean_norm"] = "mean_std_norm",
    eps: float = 1e-6,
    *,
    single: Literal["zero", "raw"] = "zero",
) -> list[float]:
    """UI-S1's group normalisation of ``values``.

    ``"mean_std_norm"``: ``(x - mean)/(std + eps)`` with the unbiased std; ``"mean_norm"``:
    ``x - mean`` (no division). A group of one value has no spread: ``single="zero"`` gives it
    0; ``single="raw"`` keeps the value (the released code takes mean 0 and std 1 for such a
    group, so ``mean_std_norm`` gives ``x/(1 + eps)``).
    """
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return []
    if x.size == 1:
        if single == "zero":
            return [0.0]
        return [float(x[0]) if mode == "mean_norm" else float(x[0]) / (1.0 + eps)]
    centred = x - x.mean()
    if mode == "mean_norm":
        return centred.tolist()
    return (centred / (x.std(ddof=1) + eps)).tolist()


class UIS1Advantage(_UIS1Base):
    """UI-S1 advantage ``A = w_episode*A_ep + w_step*A_step`` per step.

    Normalisation (``mode``): ``"mean_std_norm"`` (default; METHODS.md §1 and the released
    training script) is ``(x-mean)/(std+eps)`` with the unbiased std; ``"mean_norm"`` (the
    default of the released code's config) only subtracts the mean. ``A_step[i][t]``
    normalises ``R_t`` over the rollouts that reached step t (a group of one gets 0).
    ``A_ep``: ``"pooled_scores"`` (default, as the released code runs) normalises each step's
    score over all steps of all rollouts; ``"trajectory_return"`` (the paper's description)
    normalises each rollout's summed step score over the group and broadcasts it [ours:
    undiscounted sum]. An ``A_ep`` group holding one value (a single rollout of one step, or
    one rollout with ``trajectory_return``) gets 0, or with ``single_rollout="raw"`` its raw
    score, as the released code does. ``per_episode`` is the advantage at step 0.

    Args:
        gamma: the discount of the returns (0.5).
        w_episode: weight of the episode term (1).
        w_step: weight of the step term (1).
        episode_term: ``"pooled_scores"`` or ``"trajectory_return"``.
        eps: added to the std (1e-6).
        score_key: as in :class:`UIS1Returns`.
        match_key: as in :class:`UIS1Returns`.
        mode: ``"mean_std_norm"`` or ``"mean_norm"``.
        single_rollout: ``"zero"`` (default) or ``"raw"``: the episode term of a group with
            one value.
    """

    _SPEC = (
        "gamma",
        "w_episode",
        "w_step",
        "episode_term",
        "eps",
        "score_key",
        "match_key",
        "mode",
        "single_rollout",
    )

    def __init__(
        self,
        gamma: float = 0.5,
        w_episode: float = 1.0,
        w_step: float = 1.0,
        episode_term: Literal["pooled_scores", "trajectory_return"] = "pooled_scores",
        eps: float = 1e-6,
        score_key: str | None = None,
        match_key: str = "matched",
        mode: Literal["mean_std_norm", "mean_norm"] = "mean_std_norm",
        single_rollout: Literal["zero", "raw"] = "zero",
    ) -> None:
        super().__init__(gamma, score_key, match_key)
        self.w_episode = _number("w_episode", w_episode)
        self.w_step = _number("w_step", w_step)
        self.episode_term = _choice(
            "episode_term", episode_term, ("pooled_scores", "trajectory_return")
        )
        self.eps = _number("eps", eps, lo=0.0)
        self.mode = _choice("mode", mode, ("mean_std_norm", "mean_norm"))
        self.single_rollout = _choice("single_rollout", single_rollout, ("zero", "raw"))

    def __call__(self, episodes: Sequence[EpisodeRecord]) -> GroupResult:
        _check_group(episodes, "UIS1Advantage")
        data, returns = self._returns(episodes)
        horizon = max((len(r) for r in returns), default=0)
        a_step = [[0.0] * len(r) for r in returns]
        for t in range(horizon):
            rows = [i for i, r in enumerate(returns) if len(r) > t]
            normed = uis1_center([returns[i][t] for i in rows], self.mode, self.eps)
            for i, v in zip(rows, normed):
                a_step[i][t] = v
        if self.episode_term == "pooled_scores":
            flat = [s for scores, _ in data for s in scores]
            normed = iter(uis1_center(flat, self.mode, self.eps, single=self.single_rollout))
            a_ep = [[next(normed) for _ in scores] for scores, _ in data]
        else:
            totals = uis1_center(
                [math.fsum(scores) for scores, _ in data],
                self.mode,
                self.eps,
                single=self.single_rollout,
            )
            a_ep = [[v] * len(scores) for v, (scores, _) in zip(totals, data)]
        per_step = [
            [self.w_episode * e + self.w_step * s for e, s in zip(ep_row, st_row)]
            for ep_row, st_row in zip(a_ep, a_step)
        ]
        return GroupResult("advantage", per_step, [row[0] if row else 0.0 for row in per_step])

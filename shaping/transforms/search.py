"""Search: MASH pay-per-search rewards and the OTC variants (METHODS.md §2)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from rewardgym.records import EpisodeRecord
from rewardgym.shaping.transforms.base import (
    GroupResult,
    _check_group,
    _choice,
    _number,
    _Transform,
)

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
    correct: Sequence[float],
    searches: Sequence[float],
    *,
    variant: MashVariant = "exp",
    lam: float = 0.7,
    max_searches: int = 5,
    historic_min: float = math.inf,
) -> list[float]:
    """MASH rewards of one group (pure; see :class:`MashPenalty`).

    ``correct`` holds each rollout's correctness: bools, or graded scores (e.g. token F1); a
    rollout counts as correct for ``m_hat`` when its score is > 0, and its reward is the score
    times its search penalty (a score of 0 gets 0), as MASH's reward manager computes it.
    """
    scores = [float(c) for c in correct]
    m_hat = min([*(s for c, s in zip(scores, searches) if c > 0), historic_min])
    out = []
    for c, s in zip(scores, searches):
        if c == 0:
            penalty = 0.0
        elif variant == "exp":
            penalty = lam ** (s - m_hat)
        elif variant == "linear":
            penalty = max(1.0 - s / (max_searches + 1), 0.0)
        elif variant == "otc_strict" and m_hat == 0 and s > 0:
            penalty = 0.0
        else:
            penalty = _otc_penalty(float(s), float(m_hat), max_searches)
        out.append(c * penalty)
    return out


class MashPenalty(_Transform):
    """MASH pay-per-search reward over the rollouts of one question (METHODS.md §2).

    ``c_i`` is the rollout's correctness, ``task_return`` (1/0 for exact match; a graded
    score such as token F1 is used as it is). ``m_hat = min(min{s_i : c_i > 0},
    historic_min(q))``; ``R_i = c_i * penalty_i`` (0 when ``c_i`` = 0) with ``exp``:
    ``penalty = lam**(s_i - m_hat)``; ``linear``: ``max(1 - s_i/(max_searches+1), 0)``;
    ``otc`` (OTC-GRPO) with ``f(s, m)`` = 0 if s=m=0, s if m=0, else 2sm/(s+m): 1 if f=0,
    ``cos(s*pi/(2s+max))`` if m=0, ``sin(f*pi/(2m))`` otherwise; ``otc_strict``: as otc, but
    when ``m_hat`` = 0 an answer that searched gets 0. The historic minimum per ``task_id`` is
    the state. Searches come from ``EpisodeRecord.cost[cost_key]``.

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
        correct = [float(ep.task_return) for ep in episodes]
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
        new_min = min([*(s for c, s in zip(correct, searches) if c > 0), historic])
        if math.isfinite(new_min):
            self.historic_min[task_id] = new_min
        return GroupResult.episode_rewards(episodes, rewards)

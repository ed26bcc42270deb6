"""The search QA track of the leaderboard: search spend and MASH's abstention metrics.

For every (env, agent) of a search env with search enabled, from the stored rows:

* ``accuracy`` — mean ``task`` (exact match; abstaining on an unanswerable question counts);
* ``searches/q`` — mean ``cost["searches"]`` per question, with a 95% bootstrap CI;
* ``spend/q`` and ``cost/solved`` — mean ``cost["spend"]``, and total spend over solved
  questions (None when none was solved);
* ``abstain`` — the fraction of questions the agent *abstained* on in MASH's sense: it searched
  (``searches > 0``, "I need help") or declined to answer a question that had an answer
  (declining an unanswerable question is its correct answer, not a deferral);
* **Abs(0)**, **Abs(1)**, **Δ** (METHODS.md §2): each question is put in a bucket by how many
  of its closed-book runs the same agent answered correctly (rows of a search env with
  ``max_searches=0``, e.g. ``SearchQA-NoSearch-v0``; up to the last 10 per question, MASH's k
  of 10). Abs(0) is the abstention rate on questions never answered closed-book (higher is
  better: the agent knows it does not know), Abs(1) on questions always answered (lower is
  better), Δ = Abs(0) − Abs(1). CIs are 95% percentile bootstraps over questions.

Pure functions of the rows; :func:`search_section` and :func:`search_md` render them and are
registered in ``rewardgym.leaderboard.report``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rewardgym.leaderboard.scoring import bootstrap_ci
from rewardgym.leaderboard.sections import html_table_section, md_table_section
from rewardgym.registry import ENTRIES

__all__ = [
    "AbstentionMetrics",
    "SearchScore",
    "abstained",
    "abstention_metrics",
    "closed_book_buckets",
    "search_md",
    "search_scores",
    "search_section",
]

#: At most this many closed-book samples per question form its bucket (MASH: k of 10).
BUCKET_SAMPLES = 10


@dataclass(frozen=True)
class AbstentionMetrics:
    """MASH's abstention metrics with 95% CIs (each value None when its bucket is empty)."""

    abs0: float | None
    abs0_ci: tuple[float, float] | None
    n0: int
    abs1: float | None
    abs1_ci: tuple[float, float] | None
    n1: int
    delta: float | None
    delta_ci: tuple[float, float] | None


@dataclass(frozen=True)
class SearchScore:
    """The search track's numbers for one agent on one search env."""

    env_id: str
    agent: str
    questions: int
    accuracy: float
    searches_per_question: float
    searches_ci: tuple[float, float]
    spend_per_question: float
    cost_per_solved: float | None
    abstain_rate: float
    abstention: AbstentionMetrics


def _is_search_env(env_id: str) -> bool:
    entry = ENTRIES.get(env_id)
    return entry is not None and entry.family == "search"


def _closed_book(env_id: str) -> bool:
    entry = ENTRIES.get(env_id)
    return entry is not None and entry.kwargs.get("max_searches", 5) == 0


def abstained(row: Mapping[str, Any]) -> bool:
    """Whether an episode abstained in MASH's sense: it searched, or declined to answer a
    question it could have answered. Declining an unanswerable question is its correct answer
    (``task`` = 1), not a deferral."""
    cost = row.get("cost") or {}
    components = row.get("components") or {}
    if float(cost.get("searches", 0.0)) > 0:
        return True
    return float(components.get("abstained", 0.0)) > 0 and float(row["task_return"]) <= 0


def closed_book_buckets(
    rows: Sequence[Mapping[str, Any]],
) -> dict[tuple[str, str], tuple[int, int]]:
    """``(agent, task_id) -> (correct, samples)`` over closed-book rows (the last
    :data:`BUCKET_SAMPLES` samples per question, in stored order)."""
    samples: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for row in rows:
        if _is_search_env(row["env_id"]) and _closed_book(row["env_id"]):
            samples[(row["agent"], row["task_id"])].append(float(row["task_return"]) > 0)
    return {key: (sum(v[-BUCKET_SAMPLES:]), len(v[-BUCKET_SAMPLES:])) for key, v in samples.items()}


def _delta_ci(
    zero: Sequence[float], one: Sequence[float], *, n_boot: int = 2000, seed: int = 0
) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    a, b = np.asarray(zero, float), np.asarray(one, float)
    da = a[rng.integers(0, a.size, size=(n_boot, a.size))].mean(axis=1)
    db = b[rng.integers(0, b.size, size=(n_boot, b.size))].mean(axis=1)
    lo, hi = np.quantile(da - db, [0.025, 0.975])
    return float(lo), float(hi)


def abstention_metrics(
    episodes: Sequence[tuple[bool, int, int]], *, seed: int = 0
) -> AbstentionMetrics:
    """Abs(0), Abs(1) and Δ from ``(abstained, closed-book correct, closed-book samples)`` per
    with-search episode (episodes of unbucketed questions are left out by the caller)."""
    zero = [float(a) for a, k, n in episodes if n > 0 and k == 0]
    one = [float(a) for a, k, n in episodes if n > 0 and k == n]

    def mean_ci(values: list[float]) -> tuple[float | None, tuple[float, float] | None]:
        if not values:
            return None, None
        return float(np.mean(values)), bootstrap_ci(values, seed=seed)

    abs0, abs0_ci = mean_ci(zero)
    abs1, abs1_ci = mean_ci(one)
    delta = delta_ci = None
    if abs0 is not None and abs1 is not None:
        delta = abs0 - abs1
        delta_ci = _delta_ci(zero, one, seed=seed)
    return AbstentionMetrics(abs0, abs0_ci, len(zero), abs1, abs1_ci, len(one), delta, delta_ci)


def search_scores(rows: Sequence[Mapping[str, Any]], *, seed: int = 0) -> list[SearchScore]:
    """The search track for every (env, agent) with search enabled, sorted by env then agent."""
    buckets = closed_book_buckets(rows)
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        if _is_search_env(row["env_id"]) and not _closed_book(row["env_id"]):
            groups[(row["env_id"], row["agent"])].append(row)
    scores = []
    for (env_id, agent), group in sorted(groups.items()):
        searches = [float((r.get("cost") or {}).get("searches", 0.0)) for r in group]
        spend = [float((r.get("cost") or {}).get("spend", 0.0)) for r in group]
        solved = sum(float(r["task_return"]) > 0 for r in group)
        bucketed = [
            (abstained(r), *buckets[(agent, r["task_id"])])
            for r in group
            if (agent, r["task_id"]) in buckets
        ]
        scores.append(
            SearchScore(
                env_id=env_id,
                agent=agent,
                questions=len(group),
                accuracy=float(np.mean([float(r["task_return"]) for r in group])),
                searches_per_question=float(np.mean(searches)),
                searches_ci=bootstrap_ci(searches, seed=seed),
                spend_per_question=float(np.mean(spend)),
                cost_per_solved=sum(spend) / solved if solved else None,
                abstain_rate=float(np.mean([abstained(r) for r in group])),
                abstention=abstention_metrics(bucketed, seed=seed),
            )
        )
    return scores


def _num(x: float | None, digits: int = 3) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def _with_ci(x: float | None, ci: tuple[float, float] | None, n: int | None = None) -> str:
    if x is None:
        return "-"
    text = _num(x, 2)
    if ci is not None:
        text += f" [{ci[0]:.2f}, {ci[1]:.2f}]"
    if n is not None:
        text += f" (n={n})"
    return text


HEADER = ("env", "agent", "questions", "accuracy", "searches/q", "spend/q", "cost/solved",
          "abstain", "Abs(0)", "Abs(1)", "Δ")  # fmt: skip

_TITLE = "Search QA: spend and abstention (MASH)"
_NOTE = (
    "Abstaining = searching, or declining a question that has an answer. Buckets: how often the same agent answered "
    "the question correctly in its closed-book runs (search envs with max_searches=0, up to 10 "
    "per question). Abs(0): abstention on questions never answered closed-book (higher is "
    "better); Abs(1): on questions always answered (lower is better); Δ = Abs(0) − Abs(1). "
    "95% bootstrap CIs; n = episodes in the bucket."
)


def _cells(s: SearchScore) -> list[str]:
    a = s.abstention
    return [
        s.env_id,
        s.agent,
        str(s.questions),
        _num(s.accuracy),
        _with_ci(s.searches_per_question, s.searches_ci),
        _num(s.spend_per_question, 2),
        _num(s.cost_per_solved, 2),
        _num(s.abstain_rate),
        _with_ci(a.abs0, a.abs0_ci, a.n0),
        _with_ci(a.abs1, a.abs1_ci, a.n1),
        _with_ci(a.delta, a.delta_ci),
    ]


def search_section(rows: Sequence[Mapping[str, Any]], source: str = "") -> str | None:
    """The HTML section of the search track; None when the rows hold no search episode."""
    scores = search_scores(rows)
    if not scores:
        return None
    return html_table_section("search", _TITLE, _NOTE, [(HEADER, [_cells(s) for s in scores])])


def search_md(rows: Sequence[Mapping[str, Any]], source: str = "") -> str | None:
    """The Markdown section of the search track; None as for :func:`search_section`."""
    scores = search_scores(rows)
    if not scores:
        return None
    return md_table_section(_TITLE, _NOTE, [(HEADER, [_cells(s) for s in scores])])

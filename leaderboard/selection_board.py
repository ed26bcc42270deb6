"""The test-time selection track of the leaderboard (METHODS §7): each selector's accuracy.

A *task* is one (agent, env, seed) with N >= 2 stored samples (``rewardgym bench --samples N``)
whose agent reported an answer (``cost["answer_fingerprint"]``, see
``rewardgym.agents.llm_agents``). For each task every selector picks one answer from the N
samples; it scores the fraction of that answer's samples that succeeded (1 or 0 when the env is
deterministic, as the same answer always gets the same verdict). A sample without ``success``
(cut short) counts as a failure. The table gives, per (env, agent), the mean over tasks of:

* ``pass@1`` — one sample, no selection (the unbiased estimator with k = 1);
* ``majority`` — :func:`~rewardgym.agents.selection.majority_vote`;
* ``self-certainty (Borda)`` — :func:`~rewardgym.agents.selection.borda_vote`, ``p = 0.5``,
  ranked by each episode's self-certainty (``llm_self_certainty_sum / llm_logprob_tokens``);
* ``Best-of-Majority`` — :func:`~rewardgym.agents.selection.best_of_majority` with
  ``alpha =`` :data:`BOM_ALPHA`, ``k = 1``, scored by self-certainty (no reward model here);
* ``oracle pass@N`` — :func:`~rewardgym.agents.selection.oracle_pass`: the ceiling.

Registered in ``rewardgym.leaderboard.report`` (``REPORT_SECTIONS``, ``MD_SECTIONS``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rewardgym.agents.selection import best_of_majority, borda_vote, majority_vote, oracle_pass
from rewardgym.leaderboard.scoring import pass_at_k
from rewardgym.leaderboard.sections import html_table_section, md_table_section

__all__ = [
    "BOM_ALPHA",
    "BORDA_POWER",
    "SELECTORS",
    "SelectionScore",
    "selection_md",
    "selection_scores",
    "selection_section",
]

#: Best-of-Majority's frequency threshold: answers given by at least 30% of the samples.
BOM_ALPHA = 0.3
#: The Borda vote exponent of METHODS §7.
BORDA_POWER = 0.5
#: The table's columns, in order.
SELECTORS = ("pass@1", "majority", "self-certainty (Borda)", "Best-of-Majority", "oracle pass@N")


@dataclass(frozen=True)
class SelectionScore:
    """Each selector's accuracy for one (env, agent), over its tasks with N >= 2 samples."""

    env_id: str
    agent: str
    tasks: int
    samples: int  # the smallest N among the tasks
    accuracy: dict[str, float]


@dataclass(frozen=True)
class _Sample:
    answer: Hashable
    certainty: float | None
    correct: bool


def _sample(row: Mapping[str, Any]) -> _Sample | None:
    cost = row.get("cost") or {}
    if "answer_fingerprint" not in cost:
        return None
    tokens = float(cost.get("llm_logprob_tokens", 0.0))
    certainty = float(cost["llm_self_certainty_sum"]) / tokens if tokens > 0 else None
    return _Sample(cost["answer_fingerprint"], certainty, bool(row.get("success")))


def _task_accuracy(samples: Sequence[_Sample]) -> dict[str, float]:
    answers = [s.answer for s in samples]
    certainties = [s.certainty for s in samples]
    outcome: dict[Hashable, list[bool]] = defaultdict(list)
    for s in samples:
        outcome[s.answer].append(s.correct)

    def right(answer: Hashable) -> float:
        verdicts = outcome[answer]
        return sum(verdicts) / len(verdicts)

    n, c = len(samples), sum(s.correct for s in samples)
    return {
        "pass@1": pass_at_k(n, c, 1),
        "majority": right(majority_vote(answers)),
        "self-certainty (Borda)": right(borda_vote(answers, certainties, BORDA_POWER)),
        "Best-of-Majority": right(best_of_majority(answers, certainties, alpha=BOM_ALPHA)[0]),
        "oracle pass@N": float(oracle_pass([s.correct for s in samples])),
    }


def selection_scores(rows: Iterable[Mapping[str, Any]]) -> list[SelectionScore]:
    """Each selector's accuracy per (env, agent), from stored episode rows."""
    tasks: dict[tuple[str, str, int], list[_Sample]] = defaultdict(list)
    for row in rows:
        sample = _sample(row)
        if sample is not None:
            tasks[(row["env_id"], row["agent"], int(row["seed"]))].append(sample)
    per_pair: dict[tuple[str, str], list[list[_Sample]]] = defaultdict(list)
    for (env_id, agent, _), samples in tasks.items():
        if len(samples) >= 2:
            per_pair[(env_id, agent)].append(samples)
    out = []
    for (env_id, agent), groups in sorted(per_pair.items()):
        accs = [_task_accuracy(g) for g in groups]
        out.append(
            SelectionScore(
                env_id=env_id,
                agent=agent,
                tasks=len(groups),
                samples=min(len(g) for g in groups),
                accuracy={k: math.fsum(a[k] for a in accs) / len(accs) for k in SELECTORS},
            )
        )
    return out


_TITLE = "Test-time selection"
_NOTE = (
    "Accuracy of each selector over tasks with N samples each (rewardgym bench --samples N): "
    "the selected answer's success rate. Self-certainty: mean KL(uniform || p) per generated "
    f"token; Borda votes (N - r + 1)^{BORDA_POWER}; Best-of-Majority: answers given by at least "
    f"{BOM_ALPHA:.0%} of the samples, the most self-certain of them; oracle pass@N: right if any "
    "sample is."
)


def _table(scores: Sequence[SelectionScore]) -> list[tuple[list[str], list[list[str]]]]:
    rows = [
        [s.env_id, s.agent, str(s.tasks), str(s.samples)]
        + [f"{s.accuracy[k]:.3f}" for k in SELECTORS]
        for s in scores
    ]
    return [(["env", "agent", "tasks", "N", *SELECTORS], rows)]


def selection_section(rows: Sequence[Mapping[str, Any]], source: str = "") -> str | None:
    """The HTML section of the selection track; None when no task has N >= 2 answered samples."""
    scores = selection_scores(rows)
    if not scores:
        return None
    return html_table_section("selection", _TITLE, _NOTE, _table(scores))


def selection_md(rows: Sequence[Mapping[str, Any]], source: str = "") -> str | None:
    """The Markdown section of the selection track; None as for :func:`selection_section`."""
    scores = selection_scores(rows)
    if not scores:
        return None
    return md_table_section(_TITLE, _NOTE, _table(scores))

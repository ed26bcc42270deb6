"""Test-time selection: pick one answer out of N sampled ones (METHODS §7).

Pure functions over the N samples of one task: ``answers`` (any hashable; equal answers are one
candidate), per-sample ``certainties`` or ``scores`` (higher is better; None = unknown, ranked
last), and for the oracle the per-sample correctness. Ties go to the answer seen first, so every
selector is deterministic.

* :func:`majority_vote` — the most frequent answer (self-consistency).
* :func:`borda_vote` — self-certainty with Borda voting (Kang et al., backprop07/Self-Certainty):
  the sample ranked ``r`` of ``N`` by self-certainty gives ``(N - r + 1) ** power`` votes to its
  answer (``power = 0.5`` by default; ``power = 0`` is the majority vote).
* :func:`best_of_majority` — Best-of-Majority: keep the answers whose frequency among the N
  samples is at least ``alpha``, then the top ``k`` of them by score.
* :func:`oracle_pass` — pass@N with an oracle: right if any sample is right.

The unbiased pass@k estimator ``1 - C(n-c, k) / C(n, k)`` is
``rewardgym.leaderboard.scoring.pass_at_k``.

Self-certainty of a generation comes from its token log-probabilities:
:func:`rewardgym.llm.self_certainty`.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence

from rewardgym.errors import ConfigError

__all__ = [
    "best_of_majority",
    "borda_vote",
    "majority_vote",
    "oracle_pass",
]


def _check(answers: Sequence[Hashable], values: Sequence[float | None] | None, what: str) -> None:
    if not answers:
        raise ConfigError("selection needs at least one sample")
    if values is not None and len(values) != len(answers):
        raise ConfigError(f"{len(answers)} answers but {len(values)} {what}")


def _tally(answers: Sequence[Hashable], weights: Sequence[float]) -> Hashable:
    """The answer with the largest total weight; ties go to the answer seen first."""
    totals: dict[Hashable, float] = {}
    for answer, w in zip(answers, weights, strict=True):
        totals[answer] = totals.get(answer, 0.0) + w
    return max(totals, key=lambda a: totals[a])  # max keeps the first of equal keys


def majority_vote(answers: Sequence[Hashable]) -> Hashable:
    """The most frequent answer (ties: the one seen first).

    Raises:
        ConfigError: without samples.
    """
    _check(answers, None, "")
    return _tally(answers, [1.0] * len(answers))


def _ranks(values: Sequence[float | None]) -> list[int]:
    """Rank of each sample (1 = highest value; None and NaN last; ties by sample order)."""

    def key(i: int) -> tuple[bool, float, int]:
        v = values[i]
        missing = v is None or math.isnan(v)
        return (missing, 0.0 if missing else -float(v), i)  # type: ignore[arg-type]

    order = sorted(range(len(values)), key=key)
    ranks = [0] * len(values)
    for r, i in enumerate(order, start=1):
        ranks[i] = r
    return ranks


def borda_vote(
    answers: Sequence[Hashable], certainties: Sequence[float | None], power: float = 0.5
) -> Hashable:
    """Self-certainty with Borda voting: the sample ranked ``r`` of ``N`` by certainty gives
    ``(N - r + 1) ** power`` votes to its answer; the answer with the most votes wins.

    Args:
        answers: the N samples' answers.
        certainties: each sample's self-certainty (higher = more confident; None ranks last).
        power: the vote exponent ``p`` (0.5 in METHODS §7; 0 gives the majority vote, a large
            ``p`` the single most certain sample).

    Raises:
        ConfigError: without samples, on mismatched lengths or a negative power.
    """
    _check(answers, certainties, "certainties")
    if power < 0:
        raise ConfigError(f"power must be >= 0, got {power}")
    n = len(answers)
    return _tally(answers, [(n - r + 1) ** power for r in _ranks(certainties)])


def best_of_majority(
    answers: Sequence[Hashable],
    scores: Sequence[float | None],
    *,
    alpha: float,
    k: int = 1,
) -> list[Hashable]:
    """Best-of-Majority: the top ``k`` answers by score among those whose frequency among the
    N samples is at least ``alpha``.

    An answer's score is the mean of its samples' scores (None scores are left out; an answer
    with none ranks last). If no answer is frequent enough, the most frequent ones are the
    candidates.

    Args:
        answers: the N samples' answers.
        scores: each sample's score (a reward model's, or the self-certainty).
        alpha: the frequency threshold, in ``[0, 1]``.
        k: how many answers to return (fewer if there are fewer candidates).

    Returns:
        Up to ``k`` distinct answers, best first (ties: the answer seen first).

    Raises:
        ConfigError: without samples, on mismatched lengths, ``alpha`` outside ``[0, 1]`` or
            ``k < 1``.
    """
    _check(answers, scores, "scores")
    if not 0.0 <= alpha <= 1.0:
        raise ConfigError(f"alpha must be in [0, 1], got {alpha}")
    if k < 1:
        raise ConfigError(f"k must be >= 1, got {k}")
    n = len(answers)
    counts: dict[Hashable, int] = {}
    sums: dict[Hashable, list[float]] = {}
    for answer, score in zip(answers, scores, strict=True):
        counts[answer] = counts.get(answer, 0) + 1
        if score is not None and not math.isnan(score):
            sums.setdefault(answer, []).append(float(score))
    candidates = [a for a, c in counts.items() if c / n >= alpha]
    if not candidates:
        top = max(counts.values())
        candidates = [a for a, c in counts.items() if c == top]

    def key(a: Hashable) -> tuple[bool, float]:
        got = sums.get(a)
        return (got is None, -math.fsum(got) / len(got) if got else 0.0)

    return sorted(candidates, key=key)[:k]  # sorted is stable: ties keep first-seen order


def oracle_pass(correct: Sequence[bool]) -> bool:
    """pass@N with an oracle: whether any of the N samples is right.

    Raises:
        ConfigError: without samples.
    """
    if not correct:
        raise ConfigError("selection needs at least one sample")
    return any(correct)

"""Scoring: pure functions from stored episodes to leaderboard numbers.

Rules (docs/leaderboard.md):

* the score is the raw ``task`` return of each episode (shaped rewards never count);
* per (agent, env): the mean over *tasks* of each task's mean return, with a seeded percentile
  bootstrap 95% confidence interval over tasks;
* success rate over every episode of an env that reports success: an episode without a verdict
  (``success`` NULL, e.g. one cut short by ``--max-steps`` before the runner stored those as
  failures) counts as a failure, never as left out; cost per solved task = total cost /
  episodes solved, per cost key (``wall_s`` included);
* pass@k with the unbiased estimator ``1 - C(n-c, k) / C(n, k)`` averaged over tasks, where each
  task has ``n >= k`` samples of which ``c`` succeeded;
* the suite score of an agent: per env, ``(score - random) / (best scripted - random)``, the
  random baseline's and the best scripted baseline's mean returns; averaged over the envs where
  that span is positive.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rewardgym.agents.llm_agents import IDENTIFIER_USAGE_KEYS
from rewardgym.errors import ConfigError

__all__ = [
    "SCRIPTED_AGENTS",
    "AgentEnvScore",
    "SuiteScore",
    "bootstrap_ci",
    "is_scripted",
    "pass_at_k",
    "score_rows",
    "suite_scores",
]

#: Agents that count as scripted baselines for normalisation (besides names ending in
#: ``-expert`` or ``-oracle``). Cheaters are adversarial baselines, not scripted ones.
SCRIPTED_AGENTS: frozenset[str] = frozenset({"code-oracle", "dungeon-expert"})


def is_scripted(agent: str) -> bool:
    """Whether ``agent`` (a spec such as ``"dungeon-expert"``) is a scripted baseline."""
    name = agent.partition(":")[0]
    return name in SCRIPTED_AGENTS or name.endswith(("-expert", "-oracle"))


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one task: ``1 - C(n-c, k) / C(n, k)``.

    Args:
        n: samples drawn for the task.
        c: samples that succeeded (``0 <= c <= n``).
        k: budget (``1 <= k <= n``).

    Raises:
        ConfigError: if the arguments are out of range.
    """
    if not (0 <= c <= n) or not (1 <= k <= n):
        raise ConfigError(f"pass@k needs 0 <= c <= n and 1 <= k <= n; got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def bootstrap_ci(
    values: Sequence[float], *, n_boot: int = 2000, alpha: float = 0.05, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean of ``values``.

    Deterministic for a given ``seed``. One value gives a zero-width interval.

    Raises:
        ConfigError: on an empty list, ``n_boot < 1`` or ``alpha`` outside (0, 1).
    """
    if len(values) == 0:
        raise ConfigError("bootstrap_ci needs at least one value")
    if n_boot < 1 or not 0 < alpha < 1:
        raise ConfigError(f"need n_boot >= 1 and 0 < alpha < 1; got {n_boot}, {alpha}")
    x = np.asarray(values, dtype=float)
    if x.size == 1:
        return float(x[0]), float(x[0])
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(n_boot, x.size))
    means = x[idx].mean(axis=1)
    lo, hi = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


@dataclass
class AgentEnvScore:
    """The leaderboard numbers of one agent on one env."""

    agent: str
    env_id: str
    episodes: int
    tasks: int
    mean_return: float
    ci_low: float
    ci_high: float
    success_rate: float | None
    solved: int
    cost: dict[str, float]
    cost_per_solved: dict[str, float | None]
    pass_at: dict[int, float] = field(default_factory=dict)
    invalid_rate: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["pass_at"] = {str(k): v for k, v in self.pass_at.items()}
        return d


@dataclass
class SuiteScore:
    """An agent's normalised score over the suite (None where no env could be normalised)."""

    agent: str
    score: float | None
    per_env: dict[str, float]
    envs_missing: list[str]


def score_rows(
    rows: Iterable[Mapping[str, Any]],
    *,
    n_boot: int = 2000,
    seed: int = 0,
    ks: Sequence[int] | None = None,
) -> list[AgentEnvScore]:
    """Score stored episodes (``ResultsStore.rows()``), one result per (agent, env).

    Args:
        rows: dicts with ``agent``, ``env_id``, ``task_id``, ``task_return``, ``success``,
            ``cost`` (dict), ``wall_s``, ``length``, ``invalid_actions``.
        n_boot: bootstrap resamples.
        seed: bootstrap seed.
        ks: the pass@k budgets; default ``1`` and the smallest per-task sample count, when
            every task has at least 2 samples. A k larger than some task's samples is skipped.

    Returns:
        Scores sorted by env, then mean return (best first).
    """
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    reports_success: set[str] = set()  # envs with a success verdict in some episode
    for row in rows:
        groups[(row["agent"], row["env_id"])].append(row)
        if row["success"] is not None:
            reports_success.add(row["env_id"])
    out: list[AgentEnvScore] = []
    for (agent, env_id), eps in groups.items():
        by_task: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for r in eps:
            by_task[str(r["task_id"])].append(r)
        task_means = [float(np.mean([r["task_return"] for r in t])) for t in by_task.values()]
        lo, hi = bootstrap_ci(task_means, n_boot=n_boot, seed=seed)
        # no verdict = not solved, in an env that gives verdicts
        known = [bool(r["success"]) for r in eps] if env_id in reports_success else []
        solved = sum(1 for s in known if s)
        cost: dict[str, float] = defaultdict(float)
        for r in eps:
            for k, v in r["cost"].items():
                if k not in IDENTIFIER_USAGE_KEYS:  # an answer's fingerprint is no spend
                    cost[k] += float(v)
            cost["wall_s"] += float(r["wall_s"])
        steps = sum(int(r["length"]) for r in eps)
        invalid = sum(int(r["invalid_actions"]) for r in eps)
        pass_at: dict[int, float] = {}
        if known:
            n_min = min(len(t) for t in by_task.values())
            budgets = list(ks) if ks is not None else ([1, n_min] if n_min >= 2 else [])
            for k in sorted(set(budgets)):
                if 1 <= k <= n_min:
                    pass_at[k] = float(
                        np.mean(
                            [
                                pass_at_k(len(t), sum(1 for r in t if r["success"]), k)
                                for t in by_task.values()
                            ]
                        )
                    )
        out.append(
            AgentEnvScore(
                agent=agent,
                env_id=env_id,
                episodes=len(eps),
                tasks=len(by_task),
                mean_return=float(np.mean(task_means)),
                ci_low=lo,
                ci_high=hi,
                success_rate=solved / len(known) if known else None,
                solved=solved,
                cost=dict(cost),
                cost_per_solved={k: (v / solved if solved else None) for k, v in cost.items()},
                pass_at=pass_at,
                invalid_rate=invalid / steps if steps else 0.0,
            )
        )
    out.sort(key=lambda s: (s.env_id, -s.mean_return, s.agent))
    return out


def suite_scores(
    scores: Sequence[AgentEnvScore],
    *,
    random_agent: str = "random",
    scripted: Callable[[str], bool] = is_scripted,
) -> list[SuiteScore]:
    """Normalise each agent per env between the random and the best scripted baseline.

    An env counts for normalisation only if it has a random score and a scripted score above
    it. An agent's suite score is the mean of its normalised scores over those envs; envs it
    was not run on are listed in ``envs_missing`` (and make the score incomparable).

    Returns:
        One entry per agent, best first (agents without a suite score last).
    """
    by_env: dict[str, dict[str, float]] = defaultdict(dict)
    for s in scores:
        by_env[s.env_id][s.agent] = s.mean_return
    spans: dict[str, tuple[float, float]] = {}
    for env_id, agents in by_env.items():
        if random_agent not in agents:
            continue
        best = [v for a, v in agents.items() if scripted(a)]
        if best and max(best) > agents[random_agent]:
            spans[env_id] = (agents[random_agent], max(best))
    result: list[SuiteScore] = []
    for agent in sorted({s.agent for s in scores}):
        per_env = {
            env_id: (by_env[env_id][agent] - lo) / (hi - lo)
            for env_id, (lo, hi) in spans.items()
            if agent in by_env[env_id]
        }
        missing = sorted(e for e in spans if agent not in by_env[e])
        score = float(np.mean(list(per_env.values()))) if per_env else None
        result.append(SuiteScore(agent, score, per_env, missing))
    result.sort(key=lambda s: (s.score is None, -(s.score or 0.0), s.agent))
    return result

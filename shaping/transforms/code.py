"""Code rewards: VeRPO (difficulty-weighted partial test success) and Posterior-GRPO
(process reward counts only on success); METHODS.md §3."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

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

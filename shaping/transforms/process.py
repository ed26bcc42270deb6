"""Process rewards: Clip/Delta, the process-to-outcome curriculum, ReNorm
(METHODS.md §6)."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from rewardgym.errors import ConfigError
from rewardgym.records import EpisodeRecord
from rewardgym.shaping.transforms.base import (
    GroupResult,
    _check_group,
    _choice,
    _number,
    _Transform,
)

logger = logging.getLogger(__name__)


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

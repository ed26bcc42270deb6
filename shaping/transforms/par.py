"""Preference As Reward (PAR) and the bounded-reward baselines of its paper
(METHODS.md §6)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from rewardgym.errors import ConfigError
from rewardgym.records import EpisodeRecord
from rewardgym.shaping.transforms.base import (
    GroupResult,
    Source,
    _check_group,
    _choice,
    _episode_values,
    _number,
    _Transform,
)


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

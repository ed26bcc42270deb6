"""LaRe's latent reward: a small decoder from LLM-written factors to a per-step reward.

The LLM writes ``evaluation_func(state) -> list[float]`` (:func:`write_evaluation_func`); the
:class:`LatentDecoder`, an MLP over those factor columns, is fitted so that over ``K`` steps
sampled from an episode the mean predicted step reward matches the episode return divided by
its length (METHODS §5: K = 64). :class:`LatentReward` adds the decoded reward as the component
``shaping/latent``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from rewardgym.errors import ConfigError, DependencyNotInstalled
from rewardgym.shaping.llm.written import WrittenCode
from rewardgym.shaping.wrappers.base import ShapingWrapper, _finite

__all__ = ["LatentDecoder", "LatentReward"]

log = logging.getLogger("rewardgym.shaping.llm.lare")


class LatentDecoder:
    """An MLP ``factors -> step reward`` fitted to episode returns (LaRe).

    Args:
        n_factors: the factor columns' count.
        hidden: hidden width.
        seed: seeds the initialisation and the step sampling.
    """

    def __init__(self, n_factors: int, hidden: int = 32, seed: int = 0) -> None:
        try:
            import torch
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise DependencyNotInstalled("torch", "llm", "LaRe's decoder") from exc
        if n_factors < 1:
            raise ConfigError(f"n_factors must be >= 1, got {n_factors}")
        self.torch = torch
        torch.manual_seed(seed)
        self.net = torch.nn.Sequential(
            torch.nn.Linear(n_factors, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1)
        )
        self.n_factors, self.seed = n_factors, seed
        self.rng = np.random.default_rng(seed)
        self.losses: list[float] = []

    def fit(
        self,
        episodes: Sequence[np.ndarray],
        returns: Sequence[float],
        *,
        k: int = 64,
        iterations: int = 300,
        lr: float = 1e-2,
    ) -> float:
        """Fit on episodes (each a ``(T, n_factors)`` array) and their returns; returns the
        final loss: mean over episodes of ``(mean of K sampled predictions - R/T)**2``."""
        torch = self.torch
        if len(episodes) != len(returns) or not episodes:
            raise ConfigError("fit needs one return per episode and at least one episode")
        data = [torch.as_tensor(np.asarray(e, np.float32)) for e in episodes]
        target = torch.tensor([r / len(e) for e, r in zip(episodes, returns, strict=True)])
        opt = torch.optim.Adam(self.net.parameters(), lr=lr)
        for _ in range(iterations):
            preds = []
            for e in data:
                idx = torch.as_tensor(self.rng.integers(0, len(e), size=min(k, len(e))))
                preds.append(self.net(e[idx]).mean())
            loss = ((torch.stack(preds) - target.float()) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            self.losses.append(float(loss.detach()))
        return self.losses[-1]

    def __call__(self, factors: Sequence[float]) -> float:
        with self.torch.no_grad():
            x = self.torch.as_tensor(np.asarray(factors, np.float32))[None]
            return float(self.net(x)[0, 0])


class LatentReward(ShapingWrapper):
    """LaRe's decoded reward of ``evaluation_func(info[state_key])`` as ``shaping/latent``.

    Args:
        env: the env.
        written: the accepted ``evaluation_func`` (from :func:`write_evaluation_func`).
        decoder: the fitted :class:`LatentDecoder`.
        weight: the component's weight.
        state_key: the ``info`` key holding the state dict.
    """

    shaping_name = "latent"

    def __init__(
        self,
        env: gym.Env,
        written: WrittenCode,
        decoder: LatentDecoder,
        weight: float = 1.0,
        state_key: str = "symbolic_state",
    ) -> None:
        super().__init__(env)
        if not isinstance(written, WrittenCode) or not isinstance(decoder, LatentDecoder):
            raise ConfigError("LatentReward needs a WrittenCode and a fitted LatentDecoder")
        self.written, self.decoder, self.state_key = written, decoder, state_key
        self.weight = _finite("weight", weight)
        self.failures = 0

    def _params(self) -> dict[str, Any]:
        return {"weight": self.weight, "state_key": self.state_key,
                "n_factors": self.decoder.n_factors, **self.written.provenance()}  # fmt: skip

    def _shape(self, obs, reward, terminated, truncated, info: Mapping[str, Any]) -> float:
        try:
            value = self.decoder(self.written.program(info[self.state_key]))
            if not math.isfinite(value):
                raise ValueError(f"decoded {value}")
        except Exception as exc:
            self.failures += 1
            if self.failures == 1 or self.failures % 100 == 0:
                log.warning("LaRe reward failed (%s); using 0", exc)
            return 0.0
        return value

    def close(self) -> None:
        self.written.program.close()
        super().close()

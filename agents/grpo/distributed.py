"""Rollouts on Ray actors: each actor holds an env and a copy of the policy.

Before each update's rollouts the trainer sends the current weights to every actor (one
``ray.put``), then hands out the update's batches of groups round-robin. A batch's episodes
are fully determined by their seeds and the weights (its turns are batched the same way
everywhere), so the result does not depend on which actor plays it: a run with Ray
rollouts gives the same episodes as one without (on the same hardware and thread settings).
A local Ray is started through :func:`rewardgym.localonly.init_local_ray`, so it contacts nothing
beyond loopback.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from rewardgym.errors import DependencyNotInstalled
from rewardgym.records import EpisodeRecord

__all__ = ["RayRollouts", "RolloutWorker"]


class RolloutWorker:
    """One actor's env and policy copy (``ray.remote`` wraps this class)."""

    def __init__(
        self,
        model_dir: str,
        env_id: str,
        env_kwargs: dict[str, Any],
        *,
        device: str,
        batch_size: int,
        max_new_tokens: int,
        temperature: float,
    ) -> None:
        import gymnasium as gym

        import rewardgym  # noqa: F401 - registers the ids in the actor process
        from rewardgym.agents.grpo.policy import PolicyClient
        from rewardgym.agents.grpo.rollout import make_policy_agent

        self.env_id = env_id
        self.client = PolicyClient(model_dir, device=device, torch_threads=1)
        self.envs = [gym.make(env_id, **env_kwargs) for _ in range(batch_size)]
        self.agents = [
            make_policy_agent(
                env, self.client, max_new_tokens=max_new_tokens, temperature=temperature
            )
            for env in self.envs
        ]

    def load_weights(self, state: dict[str, Any]) -> None:
        self.client.module.load_state_dict(state)

    def play(self, batches: Sequence[Sequence[dict[str, Any]]]) -> list[list[str]]:
        from rewardgym.agents.grpo.rollout import play_group

        return [
            [
                ep.model_dump_json()
                for ep in play_group(
                    self.envs, self.agents, self.client, env_id=self.env_id, jobs=batch
                )
            ]
            for batch in batches
        ]


class RayRollouts:
    """A pool of :class:`RolloutWorker` actors.

    Args:
        workers: number of actors (one CPU each).
        address: a Ray cluster address; None starts a local, loopback-only Ray.
        model_dir, env_id, env_kwargs, device, max_new_tokens, temperature: as for the trainer.
    """

    def __init__(
        self,
        workers: int,
        address: str | None,
        *,
        model_dir: str,
        env_id: str,
        env_kwargs: dict[str, Any],
        device: str,
        batch_size: int,
        max_new_tokens: int,
        temperature: float,
    ) -> None:
        try:
            import ray
        except ImportError as exc:
            raise DependencyNotInstalled("ray", "distributed", "Ray rollouts") from exc
        from rewardgym.localonly import init_local_ray, worker_runtime_env

        self._ray = ray
        self._started = not ray.is_initialized()
        runtime_env = None
        if self._started:
            if address is None:
                runtime_env = init_local_ray(workers)
            else:
                ray.init(address=address, log_to_driver=False)
                runtime_env = worker_runtime_env(dict(os.environ))
        actor = ray.remote(num_cpus=1, runtime_env=runtime_env)(RolloutWorker)
        self.actors = [
            actor.remote(
                str(model_dir),
                env_id,
                env_kwargs,
                device=device,
                batch_size=batch_size,
                max_new_tokens=max_new_tokens,
                temperature=temperature,
            )
            for _ in range(workers)
        ]

    def run(
        self, state: dict[str, Any], batches: Sequence[Sequence[dict[str, Any]]]
    ) -> list[list[EpisodeRecord]]:
        """Play each batch of jobs on one actor (so its turns are batched exactly as
        in-process) with ``state`` as the weights; results in the order given."""
        ray = self._ray
        ref = ray.put(state)
        ray.get([a.load_weights.remote(ref) for a in self.actors])
        n = len(self.actors)
        shares = [list(batches[i::n]) for i in range(n)]
        played = ray.get([a.play.remote(s) for a, s in zip(self.actors, shares) if s])
        out: list[list[EpisodeRecord]] = [[] for _ in batches]
        for i, results in enumerate(played):
            for k, batch in enumerate(results):
                out[i + k * n] = [EpisodeRecord.model_validate_json(data) for data in batch]
        return out

    def close(self) -> None:
        for a in self.actors:
            self._ray.kill(a)
        self.actors = []
        if self._started and self._ray.is_initialized():
            self._ray.shutdown()

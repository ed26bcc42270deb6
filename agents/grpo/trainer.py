"""``GRPOTrainer``: group rollouts through the step API, group-transform advantages, a clipped
policy-gradient update over the generated tokens, checkpoints that resume exactly.

One update (``step``) of a run:

1. **Rollouts.** ``tasks_per_step`` groups; group ``j`` of step ``s`` resets its G envs with a
   seed derived from ``(seed, s, j)`` (or the configured ``task_ids`` in turn), so its G rollouts
   share one task; rollout ``g`` samples with a seed derived from ``(seed, s, j, g)``. The
   groups play in lockstep, ``batch_groups`` at a time, every turn of their running episodes
   generated in one batch. Everything random
   is a function of those numbers, which is what makes a resumed run identical to an
   uninterrupted one.
2. **Advantages.** The configured group transform runs on each group's
   :class:`~rewardgym.records.EpisodeRecord` s. An ``"advantage"`` transform (``GroupNormalize``,
   ``UIS1Advantage``) gives per-step advantages directly; a ``"reward"`` transform
   (``VeRPOReward``, ``MashPenalty``, ``Unlikeliness`` ...) is followed by ``GroupNormalize`` over
   its per-episode values. Every token of a turn gets its step's advantage.
3. **Update.** For each turn, with ``r = exp(logp_new - logp_old)`` per token, the loss is
   ``-min(r A, clip(r, 1-eps, 1+eps) A) + kl_coef * k3(ref, new)`` averaged per turn then over
   turns (``seq_mean``), or over all tokens (``token_mean``); one AdamW step per epoch.

Checkpoints (``<out_dir>/checkpoints/step-NNNNNN/``) hold ``model/`` (a complete model directory:
``rewardgym bench --agents llm-local:<that dir>`` evaluates it), ``optimizer.pt`` and
``trainer_state.json`` (step, config, transform state, metrics history); they are written to a
temporary directory and renamed, so a kill never leaves a half checkpoint. The final model is
copied to ``<out_dir>/model``. Metrics go to ``<out_dir>/metrics.jsonl`` and tensorboard.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import os
import pathlib
import shutil
import time
from collections.abc import Callable, Sequence
from typing import Any

from rewardgym.agents.grpo.config import GRPOConfig, LoraSettings, build_transform, check_config
from rewardgym.agents.grpo.policy import PolicyClient, ServerPolicyClient, sequence_logprobs
from rewardgym.agents.grpo.rollout import derive_seed, make_policy_agent, play_group
from rewardgym.errors import ConfigError, DependencyNotInstalled
from rewardgym.records import EpisodeRecord

__all__ = ["GRPOTrainer", "group_advantages", "latest_checkpoint"]

log = logging.getLogger("rewardgym.agents.grpo")

#: Config fields a resumed run may change (everything else must match the checkpoint).
RESUMABLE_CHANGES = frozenset(
    {
        "steps",
        "checkpoint_every",
        "keep_checkpoints",
        "tensorboard",
        "rollout_workers",
        "ray_address",
    }
)

#: Turns per forward/backward pass of the update (and of the old log-prob recomputation).
MICRO_BATCH = 16

#: Metrics that measure time, not learning (excluded when comparing runs).
TIMING_PREFIXES = ("time/", "throughput/")


def group_advantages(transform: Any, group: Sequence[EpisodeRecord]) -> list[list[float]]:
    """Per-step advantages of one group: the transform's own if it is an advantage transform,
    else ``GroupNormalize`` over its per-episode values."""
    from rewardgym.shaping import GroupNormalize

    result = transform(group)
    if result.kind != "advantage":
        result = GroupNormalize(source=transform)(group)
    return [list(map(float, row)) for row in result.per_step]


def latest_checkpoint(out_dir: str | os.PathLike[str]) -> pathlib.Path | None:
    """The newest complete checkpoint under ``out_dir/checkpoints`` (None if there is none)."""
    root = pathlib.Path(out_dir) / "checkpoints"
    done = sorted(p for p in root.glob("step-*") if (p / "trainer_state.json").is_file())
    return done[-1] if done else None


class GRPOTrainer:
    """Train a causal LM on a rewardgym text env with GRPO-style group advantages.

    Args:
        config: the run's :class:`GRPOConfig` (checked against the world before loading).
        resume: continue from the newest checkpoint in ``config.out_dir`` if there is one.
        force: with ``resume=False``, delete an earlier run's checkpoints instead of refusing.

    Raises:
        ConfigError: a bad config (before any model loads); ``out_dir`` holding another run
            (without ``resume`` or ``force``); a resumed config that differs from the
            checkpoint's in anything but :data:`RESUMABLE_CHANGES`.
        DependencyNotInstalled: torch/transformers (``rewardgym[llm]``), peft for LoRA or
            tensorboard (``rewardgym[train]``) missing.
    """

    def __init__(self, config: GRPOConfig, *, resume: bool = True, force: bool = False) -> None:
        check_config(config)
        self.config = config
        self.out = pathlib.Path(config.out_dir)
        if self.out.exists() and not self.out.is_dir():
            raise ConfigError(f"out_dir: {str(self.out)!r} exists and is not a directory")
        latest = latest_checkpoint(self.out)
        if latest is not None and not resume:
            if not force:
                raise ConfigError(
                    f"out_dir: {str(self.out)!r} holds checkpoints of an earlier run; resume it "
                    "(--resume) or start over (--force deletes them)"
                )
            for stale in ("checkpoints", "model", "metrics.jsonl", "tensorboard"):
                target = self.out / stale
                if target.is_dir():
                    shutil.rmtree(target)
                elif target.exists():
                    target.unlink()
            latest = None
        state = self._read_state(latest) if latest is not None else None
        if state is not None:
            self._check_resumable(state["config"])
        try:
            import torch
        except ImportError as exc:
            raise DependencyNotInstalled("torch", "llm", "the GRPO trainer") from exc
        self._torch = torch
        import gymnasium as gym

        # One env and one agent per rollout of a batch: a batch of groups plays in lockstep.
        self._batch_groups = min(
            config.batch_groups or config.tasks_per_step, config.tasks_per_step
        )
        batch = self._batch_groups * config.group_size
        self.envs = [gym.make(config.env_id, **config.env_kwargs) for _ in range(batch)]
        base_dir = self._base_model_dir()
        model_dir = latest / "model" if latest is not None and config.lora is None else base_dir
        if config.backend == "openai":
            self.client: PolicyClient = ServerPolicyClient(
                model_dir,
                str(config.server_url),
                server_model=config.server_model,
                device=config.device,
            )
        elif config.backend == "vllm":
            from rewardgym.agents.grpo.vllm_policy import VLLMPolicyClient

            self.client = VLLMPolicyClient(
                model_dir,
                device=config.device,
                dtype=config.vllm.dtype,
                gpu_memory_utilization=config.vllm.gpu_memory_utilization,
                enforce_eager=config.vllm.enforce_eager,
                seed=config.seed,
            )
        else:
            self.client = PolicyClient(model_dir, device=config.device)
        if config.lora is not None:
            self.client.module = self._with_lora(self.client.module, config.lora, latest)
            if config.backend == "vllm" and latest is not None:
                self._sync_generator()  # the engine loaded the base model, not the adapter
        self.ref = self._reference(base_dir) if config.kl_coef > 0 else None
        self.transform = build_transform(config.transform)
        params = [p for p in self.client.module.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(
            params, lr=config.learning_rate, weight_decay=config.weight_decay
        )
        self.step = 0
        self.history: list[dict[str, float]] = []
        if latest is not None and state is not None:
            self.optimizer.load_state_dict(
                torch.load(latest / "optimizer.pt", map_location=config.device)
            )
            if state.get("transform_state") is not None:
                self.transform.load_state_dict(state["transform_state"])
            self.step = int(state["step"])
            self.history = list(state["metrics"])
            log.info("resumed %s at step %d", latest, self.step)
        self.agents = [
            make_policy_agent(
                env,
                self.client,
                max_new_tokens=config.max_new_tokens,
                temperature=config.temperature,
            )
            for env in self.envs
        ]
        self._writer = self._tensorboard() if config.tensorboard else None
        self._ray = None
        if config.rollout_workers > 0:
            from rewardgym.agents.grpo.distributed import RayRollouts

            self._ray = RayRollouts(
                config.rollout_workers,
                config.ray_address,
                model_dir=str(base_dir),
                env_id=config.env_id,
                env_kwargs=dict(config.env_kwargs),
                device=config.device,
                batch_size=self._batch_groups * config.group_size,
                max_new_tokens=config.max_new_tokens,
                temperature=config.temperature,
            )
        tok = self.client.tokenizer
        self._pad_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id

    # -- set-up -------------------------------------------------------------------------------

    def _base_model_dir(self) -> pathlib.Path:
        if self.config.model == "tiny":
            from rewardgym.llm.tiny import ensure_tiny_model

            return ensure_tiny_model()
        return pathlib.Path(self.config.model)

    @staticmethod
    def _read_state(checkpoint: pathlib.Path) -> dict[str, Any]:
        return json.loads((checkpoint / "trainer_state.json").read_text(encoding="utf-8"))

    def _check_resumable(self, saved: dict[str, Any]) -> None:
        now = self.config.model_dump(mode="json")
        changed = sorted(k for k in now if k not in RESUMABLE_CHANGES and saved.get(k) != now[k])
        if changed:
            raise ConfigError(
                f"out_dir: {str(self.out)!r} holds a run with a different config (fields "
                f"{changed}); resume with the same config, use another out_dir, or --force"
            )

    @staticmethod
    def _with_lora(module: Any, lora: LoraSettings, checkpoint: pathlib.Path | None) -> Any:
        try:
            import peft
        except ImportError as exc:
            raise DependencyNotInstalled("peft", "grpo", "LoRA training") from exc
        if checkpoint is not None:
            return peft.PeftModel.from_pretrained(module, checkpoint / "adapter", is_trainable=True)
        cfg = peft.LoraConfig(
            r=lora.r,
            lora_alpha=lora.alpha,
            lora_dropout=lora.dropout,
            target_modules=list(lora.target_modules),
            task_type="CAUSAL_LM",
        )
        return peft.get_peft_model(module, cfg)

    def _reference(self, base_dir: pathlib.Path) -> Any:
        """The frozen reference policy: the model the run started from."""
        from transformers import AutoModelForCausalLM

        ref = AutoModelForCausalLM.from_pretrained(base_dir, local_files_only=True)
        ref.to(self.config.device).eval()
        for p in ref.parameters():
            p.requires_grad_(False)
        return ref

    def _tensorboard(self) -> Any:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as exc:
            raise DependencyNotInstalled(
                "tensorboard", "train", "GRPO tensorboard logs (or set tensorboard: false)"
            ) from exc
        return SummaryWriter(str(self.out / "tensorboard"))

    # -- the loop -----------------------------------------------------------------------------

    def fit(self, callback: Callable[[int, dict[str, float]], None] | None = None) -> list[dict]:
        """Run updates until ``config.steps``; returns the metrics of every update so far.

        ``callback(step, metrics)`` is called after each update (progress bars).
        """
        cfg = self.config
        self.out.mkdir(parents=True, exist_ok=True)
        while self.step < cfg.steps:
            t0 = time.perf_counter()
            groups = self.rollout(self.step)
            t1 = time.perf_counter()
            advantages = [group_advantages(self.transform, g) for g in groups]
            metrics = self.update(groups, advantages)
            t2 = time.perf_counter()
            metrics.update(self._episode_metrics(groups, advantages))
            tokens = metrics["tokens/generated"]
            metrics["time/rollout_s"] = t1 - t0
            metrics["time/update_s"] = t2 - t1
            metrics["throughput/tokens_per_s"] = tokens / max(t2 - t0, 1e-9)
            self.step += 1
            metrics["step"] = float(self.step)
            self.history.append(metrics)
            self._log(metrics)
            if callback is not None:
                callback(self.step, metrics)
            if self.step % cfg.checkpoint_every == 0 or self.step == cfg.steps:
                self.save_checkpoint()
        self._export_final()
        return self.history

    def rollout(self, step: int) -> list[list[EpisodeRecord]]:
        """The ``tasks_per_step`` groups of G episodes of update ``step``."""
        cfg = self.config
        jobs = []
        for j in range(cfg.tasks_per_step):
            options = None
            if cfg.task_ids:
                task = cfg.task_ids[(step * cfg.tasks_per_step + j) % len(cfg.task_ids)]
                options = {"task_id": task}
            jobs += [
                {
                    "reset_seed": derive_seed(cfg.seed, step, j),
                    "agent_seed": derive_seed(cfg.seed, step, j, g),
                    "max_turns": cfg.max_turns,
                    "options": options,
                }
                for g in range(cfg.group_size)
            ]
        size = self._batch_groups * cfg.group_size
        batches = [jobs[i : i + size] for i in range(0, len(jobs), size)]
        if self._ray is not None:
            played = self._ray.run(self._policy_state(), batches)
        else:
            played = [
                play_group(self.envs, self.agents, self.client, env_id=cfg.env_id, jobs=batch)
                for batch in batches
            ]
        episodes = [ep for batch in played for ep in batch]
        g = cfg.group_size
        return [episodes[i : i + g] for i in range(0, len(episodes), g)]

    def _policy_state(self, *, cpu: bool = True) -> dict[str, Any]:
        """The full weights of the current policy (LoRA merged): on the CPU for rollout actors,
        or where they are (``cpu=False``) for an engine on the same device."""
        module = self.client.module
        if self.config.lora is not None:
            module = copy.deepcopy(module).merge_and_unload()
        return {k: v.detach().cpu() if cpu else v.detach() for k, v in module.state_dict().items()}

    def update(
        self, groups: Sequence[Sequence[EpisodeRecord]], advantages: Sequence[list[list[float]]]
    ) -> dict[str, float]:
        """One clipped policy-gradient update per epoch over every generated turn."""
        torch = self._torch
        cfg = self.config
        turns = [
            (step.extras["prompt_ids"], step.extras["completion_ids"], step.extras["logprobs"], adv)
            for group, group_adv in zip(groups, advantages)
            for episode, ep_adv in zip(group, group_adv)
            for step, adv in zip(episode.steps, ep_adv)
            if step.extras.get("completion_ids")
        ]
        n_tokens = sum(len(t[1]) for t in turns)
        module = self.client.module
        extra: dict[str, float] = {}
        if cfg.backend != "transformers":
            turns, extra["logprob/backend_abs_diff"] = self._recompute_old(turns)
        module.train()
        stats = {"loss/policy": 0.0, "kl": 0.0, "clip_frac": 0.0, "ratio/mean": 0.0}
        grad_norm = 0.0
        for _ in range(cfg.ppo_epochs):
            self.optimizer.zero_grad(set_to_none=True)
            sums = dict.fromkeys(stats, 0.0)
            for start in range(0, len(turns), MICRO_BATCH):
                batch = turns[start : start + MICRO_BATCH]
                pairs = [(p, c) for p, c, _, _ in batch]
                new = sequence_logprobs(
                    module,
                    pairs,
                    temperature=cfg.temperature,
                    pad_id=self._pad_id,
                    device=cfg.device,
                )
                ref = None
                if self.ref is not None:
                    with torch.no_grad():
                        ref = sequence_logprobs(
                            self.ref,
                            pairs,
                            temperature=cfg.temperature,
                            pad_id=self._pad_id,
                            device=cfg.device,
                        )
                loss = new[0].new_zeros(())
                for i, (_, _, old, adv) in enumerate(batch):
                    old_t = torch.tensor(old, dtype=new[i].dtype, device=cfg.device)
                    ratio = torch.exp(new[i] - old_t)
                    clipped = torch.clamp(ratio, 1 - cfg.clip_eps, 1 + cfg.clip_eps)
                    per_token = -torch.minimum(ratio * adv, clipped * adv)
                    kl = new[i].new_zeros(new[i].shape)
                    if ref is not None:
                        delta = ref[i] - new[i]
                        kl = torch.exp(delta) - delta - 1  # k3: unbiased, always >= 0
                        per_token = per_token + cfg.kl_coef * kl
                    if cfg.loss_agg == "seq_mean":
                        loss = loss + per_token.mean() / len(turns)
                    else:
                        loss = loss + per_token.sum() / max(n_tokens, 1)
                    with torch.no_grad():
                        sums["loss/policy"] += float(per_token.sum())
                        sums["kl"] += float(kl.sum())
                        sums["clip_frac"] += float(((ratio - clipped).abs() > 1e-9).sum())
                        sums["ratio/mean"] += float(ratio.sum())
                loss.backward()
            grad_norm = float(
                torch.nn.utils.clip_grad_norm_(
                    [p for p in module.parameters() if p.requires_grad], cfg.max_grad_norm
                )
            )
            self.optimizer.step()
            stats = {k: v / max(n_tokens, 1) for k, v in sums.items()}
        module.eval()
        if cfg.backend == "vllm":
            self._sync_generator()
        return {**stats, **extra, "grad_norm": grad_norm, "tokens/generated": float(n_tokens)}

    def _sync_generator(self) -> None:
        """Push the current policy's weights into the ``vllm`` backend's engine."""
        t0 = time.perf_counter()
        self.client.sync_weights(self._policy_state(cpu=False))
        log.debug("pushed weights to the vLLM engine in %.3f s", time.perf_counter() - t0)

    def _recompute_old(self, turns: list[tuple]) -> tuple[list[tuple], float]:
        """Old log-probabilities from the trainer's own model (the generator's are only
        compared: a server's may be untempered or come from older weights, an engine's come from
        other kernels); returns the turns with them and the mean absolute gap to what the
        generator reported (NaN if it reported none)."""
        torch = self._torch
        out, gaps = [], []
        module = self.client.module
        for start in range(0, len(turns), MICRO_BATCH):
            batch = turns[start : start + MICRO_BATCH]
            with torch.no_grad():
                again = sequence_logprobs(
                    module,
                    [(p, c) for p, c, _, _ in batch],
                    temperature=self.config.temperature,
                    pad_id=self._pad_id,
                    device=self.config.device,
                )
            for (p, c, reported, adv), mine in zip(batch, again):
                mine_list = mine.tolist()
                gaps += [abs(a - b) for a, b in zip(reported, mine_list) if math.isfinite(a)]
                out.append((p, c, mine_list, adv))
        return out, (_mean(gaps) if gaps else math.nan)

    @staticmethod
    def _episode_metrics(
        groups: Sequence[Sequence[EpisodeRecord]], advantages: Sequence[list[list[float]]]
    ) -> dict[str, float]:
        episodes = [ep for g in groups for ep in g]
        names = sorted({k for ep in episodes for s in ep.steps for k in s.reward_components})
        out = {f"reward/{k}": _mean([ep.component_sum(k) for ep in episodes]) for k in names}
        out["reward/total"] = _mean([ep.total_reward for ep in episodes])
        out["episode/length"] = _mean([ep.length for ep in episodes])
        out["episode/success_rate"] = _mean([1.0 if ep.success else 0.0 for ep in episodes])
        flat = [a for g in advantages for row in g for a in row]
        mean = _mean(flat)
        out["advantage/mean"] = mean
        out["advantage/std"] = math.sqrt(_mean([(a - mean) ** 2 for a in flat]))
        return out

    def _log(self, metrics: dict[str, float]) -> None:
        with open(self.out / "metrics.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(metrics, sort_keys=True) + "\n")
        if self._writer is not None:
            for key, value in metrics.items():
                if key != "step":
                    self._writer.add_scalar(key, value, self.step)
            self._writer.flush()
        log.info(
            "step %d: task %.3f, loss %.4f, %.0f tokens/s",
            self.step,
            metrics.get("reward/task", float("nan")),
            metrics["loss/policy"],
            metrics["throughput/tokens_per_s"],
        )

    # -- checkpoints --------------------------------------------------------------------------

    def _save_model(self, target: pathlib.Path) -> None:
        module = self.client.module
        if self.config.lora is not None:
            module.save_pretrained(target.parent / "adapter")
            module = copy.deepcopy(module).merge_and_unload()
        module.save_pretrained(target)
        self.client.tokenizer.save_pretrained(target)

    def save_checkpoint(self) -> pathlib.Path:
        """Write the checkpoint of the current step atomically; keep the newest few."""
        root = self.out / "checkpoints"
        root.mkdir(parents=True, exist_ok=True)
        final = root / f"step-{self.step:06d}"
        tmp = root / f".tmp-step-{self.step:06d}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        self._save_model(tmp / "model")
        self._torch.save(self.optimizer.state_dict(), tmp / "optimizer.pt")
        state_fn = getattr(self.transform, "state_dict", None)
        state = {
            "step": self.step,
            "config": self.config.model_dump(mode="json"),
            "transform_state": state_fn() if callable(state_fn) else None,
            "metrics": self.history,
        }
        (tmp / "trainer_state.json").write_text(json.dumps(state), encoding="utf-8")
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        kept = sorted(p for p in root.glob("step-*") if p.is_dir())
        for old in kept[: -self.config.keep_checkpoints]:
            shutil.rmtree(old, ignore_errors=True)
        log.info("saved %s", final)
        return final

    def _export_final(self) -> None:
        latest = latest_checkpoint(self.out)
        if latest is None:
            return
        tmp = self.out / ".tmp-model"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(latest / "model", tmp)
        shutil.rmtree(self.out / "model", ignore_errors=True)
        os.replace(tmp, self.out / "model")

    def close(self) -> None:
        """Release the envs, the tensorboard writer and a vLLM engine (safe to call twice)."""
        if self.config.backend == "vllm" and getattr(self.client, "engine", None) is not None:
            self.client.close()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._ray is not None:
            self._ray.close()
            self._ray = None
        for env in self.envs:
            env.close()

    def __enter__(self) -> GRPOTrainer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values) if values else 0.0

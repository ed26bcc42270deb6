"""Use rewardgym text envs from TRL: a prompt dataset and reward functions for ``trl.GRPOTrainer``.

TRL's GRPO trainer generates one completion per prompt and scores it with reward functions
``f(prompts, completions, **dataset_columns) -> list[float]``. :func:`env_prompt_dataset` turns
env resets into such a dataset (the prompt is what the benchmark's LLM agent would be shown;
the ``task_seed`` column replays the task), and :class:`EnvReward` scores a completion by
resetting the env to that task and taking **one** step with the parsed completion. That covers
single-turn envs (code, search answers without tool calls, toy tasks); for multi-turn episodes
and step-level advantages (UI-S1, search with tool calls), use rewardgym's own trainer
(``rewardgym train grpo``, docs/training.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym

from rewardgym.agents.grpo.rollout import derive_seed
from rewardgym.agents.llm_agents import TEMPLATES, LLMAgent, env_family
from rewardgym.errors import ConfigError, DependencyNotInstalled
from rewardgym.llm.base import format_chat

__all__ = ["EnvReward", "env_prompt_dataset"]


class _NoClient:
    """Stands in for an LLM client where only the agent's prompt building is used."""

    def usage(self) -> dict[str, float]:
        return {}


def _agent(env: Any) -> LLMAgent:
    template = TEMPLATES.get(env_family(env), TEMPLATES["generic"])
    return LLMAgent(_NoClient(), env.action_space, template)  # type: ignore[arg-type]


def env_prompt_dataset(
    env_id: str,
    n: int,
    *,
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
    conversational: bool = False,
) -> Any:
    """A ``datasets.Dataset`` of ``n`` task prompts from ``env_id``.

    Columns: ``prompt`` (plain text rendered with :func:`~rewardgym.llm.base.format_chat`, or
    the chat messages when ``conversational``), ``task_seed`` (the reset seed that replays the
    task) and ``task_id``.

    Raises:
        ConfigError: ``n < 1``.
        DependencyNotInstalled: ``datasets`` (installed with TRL) is missing.
    """
    if n < 1:
        raise ConfigError(f"n must be at least 1, got {n}")
    try:
        import datasets
    except ImportError as exc:
        raise DependencyNotInstalled("datasets", "grpo", "TRL datasets") from exc
    env = gym.make(env_id, **(env_kwargs or {}))
    agent = _agent(env)
    rows: dict[str, list[Any]] = {"prompt": [], "task_seed": [], "task_id": []}
    try:
        for i in range(n):
            task_seed = derive_seed(seed, i)
            obs, info = env.reset(seed=task_seed)
            messages = agent.messages(obs)
            rows["prompt"].append(list(messages) if conversational else format_chat(messages))
            rows["task_seed"].append(task_seed)
            rows["task_id"].append(str(info["task_id"]))
    finally:
        env.close()
    return datasets.Dataset.from_dict(rows)


class EnvReward:
    """A TRL reward function: one env step on the completion's task, scored by the env.

    Args:
        env_id: a registered text env.
        component: the reward component to return (``"task"``, the raw task reward, by
            default), or None for the env's weighted scalar reward.
        env_kwargs: passed to ``gym.make``.

    Call it as TRL does: ``reward(prompts=..., completions=..., task_seed=[...])``. A
    completion the env cannot use scores what the env gives an invalid action (never raises).
    """

    def __init__(
        self,
        env_id: str,
        *,
        component: str | None = "task",
        env_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.env_id = env_id
        self.component = component
        self.env = gym.make(env_id, **(env_kwargs or {}))
        self.agent = _agent(self.env)
        self.__name__ = f"rewardgym:{env_id.split('/')[-1]}:{component or 'reward'}"

    def __call__(
        self,
        prompts: Sequence[Any],
        completions: Sequence[Any],
        task_seed: Sequence[int] | None = None,
        **_: Any,
    ) -> list[float]:
        if task_seed is None or len(task_seed) != len(completions):
            raise ConfigError(
                "EnvReward needs the dataset's task_seed column (build the dataset with "
                "env_prompt_dataset)"
            )
        out = []
        for completion, s in zip(completions, task_seed):
            text = completion if isinstance(completion, str) else completion[-1]["content"]
            self.env.reset(seed=int(s))
            action = self.agent.parse_reply(text)
            _, reward, _, _, info = self.env.step(action)
            out.append(
                float(info["reward_components"][self.component])
                if self.component
                else float(reward)
            )
        return out

    def close(self) -> None:
        self.env.close()

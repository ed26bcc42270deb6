"""Multi-turn rollouts of a :class:`~rewardgym.agents.grpo.policy.PolicyClient` through an env.

One episode is played by the benchmark's own :class:`~rewardgym.agents.llm_agents.LLMAgent`
(the family's prompt template, history and action parsing) over the policy client, and comes
back as an :class:`~rewardgym.records.EpisodeRecord` whose steps carry, in ``extras``, the
generated turn that produced the step's action: ``prompt_ids``, ``completion_ids`` and
``logprobs`` (one per completion token). ``metadata["logprob"]`` holds every token
log-probability of the episode (what ``Unlikeliness`` reads).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from rewardgym.agents.grpo.policy import PolicyClient
from rewardgym.agents.llm_agents import TEMPLATES, LLMAgent, env_family
from rewardgym.records import EpisodeRecord, StepRecord

__all__ = ["TRANSFORM_EXTRA_KEYS", "derive_seed", "make_policy_agent", "play_episode"]

#: The ``info`` keys group transforms read from step records (VeRPO, UI-S1).
TRANSFORM_EXTRA_KEYS: tuple[str, ...] = ("test_results", "matched", "step_score")


def derive_seed(*parts: int) -> int:
    """A 31-bit seed from integers (the run seed, the step, the group, the rollout...).

    31 bits leave room for the per-turn seeds LLM agents derive from it (``seed * 10007 + turn``)
    within the 64-bit seeds torch and servers accept."""
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1, np.uint32)[0] >> 1)


def make_policy_agent(
    env: Any, client: PolicyClient, *, max_new_tokens: int, temperature: float
) -> LLMAgent:
    """The LLM agent the policy plays as: the env family's template with our token budget."""
    template = TEMPLATES.get(env_family(env), TEMPLATES["generic"])
    template = dataclasses.replace(template, max_tokens=max_new_tokens)
    return LLMAgent(client, env.action_space, template, temperature=temperature, name="grpo")


def play_episode(
    env: Any,
    agent: LLMAgent,
    client: PolicyClient,
    *,
    env_id: str,
    reset_seed: int,
    agent_seed: int,
    max_turns: int,
    options: dict[str, Any] | None = None,
) -> EpisodeRecord:
    """Play one episode and record every generated turn with its step.

    The episode ends when the env terminates or truncates, or after ``max_turns`` steps (then
    the last step is marked truncated).
    """
    obs, info = env.reset(seed=reset_seed, options=options)
    agent.reset(seed=agent_seed)
    client.pop_turns()
    steps: list[StepRecord] = []
    all_logprobs: list[float] = []
    for t in range(max_turns):
        action = agent.act(obs, info)
        (turn,) = client.pop_turns()  # one generation per action
        obs, reward, terminated, truncated, info = env.step(action)
        truncated = bool(truncated or (t + 1 == max_turns and not terminated))
        record = StepRecord.from_step(
            t, action, reward, terminated, truncated, info, TRANSFORM_EXTRA_KEYS
        )
        record.extras.update(
            prompt_ids=turn.prompt_ids, completion_ids=turn.completion_ids, logprobs=turn.logprobs
        )
        all_logprobs += turn.logprobs
        steps.append(record)
        if terminated or truncated:
            break
    return EpisodeRecord(
        env_id=env_id,
        task_id=str(info["task_id"]),
        episode_id=str(info["episode_id"]),
        seed=reset_seed,
        agent="grpo",
        steps=steps,
        cost={k: float(v) for k, v in info.get("cost", {}).items()},
        success=info.get("success"),
        metadata={"logprob": all_logprobs},
    )

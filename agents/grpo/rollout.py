"""Multi-turn rollouts of a :class:`~rewardgym.agents.grpo.policy.PolicyClient` through envs.

A group's episodes are played in lockstep (:func:`play_group`), each by the benchmark's own
:class:`~rewardgym.agents.llm_agents.LLMAgent` (the family's prompt template, history and
action parsing) over the policy client, which generates each turn of all running episodes in
one batch. Each episode comes back as an :class:`~rewardgym.records.EpisodeRecord` whose steps carry, in ``extras``, the
generated turn that produced the step's action: ``prompt_ids``, ``completion_ids`` and
``logprobs`` (one per completion token). ``metadata["logprob"]`` holds every token
log-probability of the episode (what ``Unlikeliness`` reads).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from rewardgym.agents.grpo.policy import PolicyClient
from rewardgym.agents.llm_agents import TEMPLATES, LLMAgent, env_family
from rewardgym.records import EpisodeRecord, StepRecord

__all__ = [
    "TRANSFORM_EXTRA_KEYS",
    "derive_seed",
    "make_policy_agent",
    "play_episode",
    "play_group",
]

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


def play_group(
    envs: Sequence[Any],
    agents: Sequence[LLMAgent],
    client: PolicyClient,
    *,
    env_id: str,
    jobs: Sequence[Mapping[str, Any]],
) -> list[EpisodeRecord]:
    """Play ``len(jobs)`` episodes in lockstep, episode ``i`` on ``envs[i]`` with ``agents[i]``.

    Each job gives ``reset_seed``, ``agent_seed``, ``max_turns`` and ``options`` (for
    ``reset``). Every turn, the episodes still running generate together in one batch
    (:meth:`PolicyClient.generate_batch`), so the batch of each turn is a function of the jobs
    alone. An episode ends when its env terminates or truncates, or after ``max_turns`` steps
    (then its last step is marked truncated).
    """
    if len(jobs) > min(len(envs), len(agents)):
        raise ValueError(f"{len(jobs)} jobs need as many envs and agents")
    obs, infos = [], []
    for env, agent, job in zip(envs, agents, jobs):
        o, info = env.reset(seed=job["reset_seed"], options=job.get("options"))
        agent.reset(seed=job["agent_seed"])
        obs.append(o)
        infos.append(info)
    client.pop_turns()
    steps: list[list[StepRecord]] = [[] for _ in jobs]
    logprobs: list[list[float]] = [[] for _ in jobs]
    active = list(range(len(jobs)))
    t = 0
    while active:
        requests = [agents[i].request(obs[i]) for i in active]
        replies = client.generate_batch(requests)
        turns = client.pop_turns()
        still = []
        for i, (messages, _), reply, turn in zip(active, requests, replies, turns):
            action = agents[i].take_reply(messages, reply)
            obs[i], reward, terminated, truncated, infos[i] = envs[i].step(action)
            truncated = bool(truncated or (t + 1 >= jobs[i]["max_turns"] and not terminated))
            record = StepRecord.from_step(
                t, action, reward, terminated, truncated, infos[i], TRANSFORM_EXTRA_KEYS
            )
            record.extras.update(
                prompt_ids=turn.prompt_ids,
                completion_ids=turn.completion_ids,
                logprobs=turn.logprobs,
            )
            steps[i].append(record)
            logprobs[i] += turn.logprobs
            if not (terminated or truncated):
                still.append(i)
        active = still
        t += 1
    return [
        EpisodeRecord(
            env_id=env_id,
            task_id=str(info["task_id"]),
            episode_id=str(info["episode_id"]),
            seed=job["reset_seed"],
            agent="grpo",
            steps=episode_steps,
            cost={k: float(v) for k, v in info.get("cost", {}).items()},
            success=info.get("success"),
            metadata={"logprob": lps},
        )
        for job, info, episode_steps, lps in zip(jobs, infos, steps, logprobs)
    ]


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
    """Play one episode (:func:`play_group` with one job)."""
    job = {
        "reset_seed": reset_seed,
        "agent_seed": agent_seed,
        "max_turns": max_turns,
        "options": options,
    }
    return play_group([env], [agent], client, env_id=env_id, jobs=[job])[0]

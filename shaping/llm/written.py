"""LLM-written reward functions: Auto MC-Reward's designer → critic → trajectory analyzer, and
LaRe's latent-factor ``evaluation_func`` with a fitted decoder (METHODS §5).

Every generated program is checked in the sandbox on sample states (:func:`check_program`),
repaired with the failure's reason up to ``max_rounds`` times, and either accepted or rejected
with the reason. Every version — accepted or not — is stored in the :class:`LabelCache` with
the hash of the prompt that produced it and the model id, and the result's
:meth:`WrittenCode.provenance` goes into the wrapper's ``shaping_spec()``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rewardgym.errors import ConfigError, RewardGymError
from rewardgym.llm.base import LLMClient
from rewardgym.sandbox import Limits, Sandbox
from rewardgym.shaping.llm.cache import LabelCache
from rewardgym.shaping.llm.prompts import prompt_hash
from rewardgym.shaping.llm.sandboxed import DEFAULT_LIMITS, SandboxedProgram, check_program

__all__ = [
    "CodeRejected",
    "WrittenCode",
    "analyze_trajectories",
    "design_reward",
    "extract_code",
    "reward_matrix",
    "write_evaluation_func",
]

log = logging.getLogger("rewardgym.shaping.llm.written")

_DESIGNER = """You write reward functions in Python for a reinforcement-learning agent.
Task: {task}
The state is a dict documented as follows:
{schema}
Write `def reward(state, next_state) -> float` scoring one transition. Follow the template
`sign(sparse) * 1 + sign(dense) * 0.1`: a sparse term for reaching the goal and a small dense
term for progress. Use only the documented keys and the standard library.
Return only the code in one ```python block."""

_REPAIR = """This reward function failed a check.
```python
{code}
```
Failure: {reason}
Fix it and return only the corrected code in one ```python block."""

_CRITIC = """Review this reward function for the task: {task}
```python
{code}
```
Check that it uses only documented keys, rewards the goal, and cannot be farmed by repeating
a step. If it is fine answer OK; otherwise return a corrected version in one ```python block."""

_ANALYZER = """The agent trained with this reward function still fails the task: {task}
```python
{code}
```
Summaries of failed trajectories (state fields over time and the reward given):
{trajectories}
Explain in one sentence what the reward misses, then return a revised function in one
```python block."""

_LARE = """Task: {task}
The state is a dict documented as follows:
{schema}
Write `def evaluation_func(state) -> list[float]` returning a few numeric factors (the same
number every time) that describe how well the agent is doing in this state.
Return only the code in one ```python block."""

_LARE_MERGE = """Here are candidate evaluation functions for the task: {task}
{candidates}
Merge their useful factors into one `def evaluation_func(state) -> list[float]`.
Return only the code in one ```python block."""

_CODE_RE = re.compile(r"```(?:python|py)?\s*\n(.*?)```", re.S)


def extract_code(answer: str) -> str:
    """The last fenced code block of ``answer`` (the whole answer when there is none)."""
    blocks = _CODE_RE.findall(answer)
    return (blocks[-1] if blocks else answer).strip() + "\n"


class CodeRejected(RewardGymError):
    """No generated program passed the checks within the allowed rounds.

    Attributes:
        versions: every attempt, with its reason.
    """

    def __init__(self, message: str, versions: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.versions = versions


@dataclass
class WrittenCode:
    """An accepted generated program, loaded in the sandbox, and how it was made.

    Attributes:
        name: the reward's name (the cache's version key and the component name).
        code: the accepted source.
        program: the loaded :class:`SandboxedProgram`.
        version: its version number in the cache.
        prompt_hash: hash of the prompt that produced it.
        model_id: the LLM that wrote it.
        versions: every attempt of this run (code, status, reason).
        decoder: LaRe only: the fitted factor → reward decoder.
    """

    name: str
    code: str
    program: SandboxedProgram
    version: int
    prompt_hash: str
    model_id: str
    versions: list[dict[str, Any]] = field(default_factory=list)
    decoder: Any = None

    def provenance(self) -> dict[str, Any]:
        """What the wrapper's ``shaping_spec()`` records."""
        return {
            "reward_name": self.name,
            "reward_version": self.version,
            "prompt_hash": self.prompt_hash,
            "llm_model_id": self.model_id,
        }


class _Writer:
    """The generate → check → repair loop shared by both methods."""

    def __init__(
        self,
        client: LLMClient,
        name: str,
        entry_point: str,
        expect: str,
        samples: Sequence[Sequence[Any]],
        cache: LabelCache | None,
        sandbox: Sandbox | None,
        limits: Limits,
        max_rounds: int,
        max_tokens: int,
    ) -> None:
        if not isinstance(client, LLMClient):
            raise ConfigError(f"the reward writer needs an LLMClient, got {client!r}")
        if not isinstance(max_rounds, int) or max_rounds < 0:
            raise ConfigError(f"max_rounds must be an int >= 0, got {max_rounds!r}")
        if not samples:
            raise ConfigError("the reward writer needs sample inputs to check the code on")
        self.client, self.name, self.entry_point, self.expect = client, name, entry_point, expect
        self.samples, self.sandbox, self.limits = samples, sandbox, limits
        self.cache = cache if cache is not None else LabelCache(":memory:")
        self.max_rounds, self.max_tokens = max_rounds, max_tokens
        self.model_id = str(getattr(client, "model", type(client).__name__))
        self.versions: list[dict[str, Any]] = []

    def ask(self, prompt: str) -> str:
        return self.client.complete(prompt, max_tokens=self.max_tokens, temperature=0.0).text

    def attempt(self, prompt: str) -> tuple[WrittenCode | None, str, str]:
        """Ask once, check; returns (accepted or None, code, reason)."""
        code = extract_code(self.ask(prompt))
        return self.check(code, prompt_hash(prompt))

    def check(self, code: str, phash: str) -> tuple[WrittenCode | None, str, str]:
        program, reason, _ = check_program(
            code, self.entry_point, self.samples, expect=self.expect,
            sandbox=self.sandbox, limits=self.limits,
        )  # fmt: skip
        status = "accepted" if program is not None else "rejected"
        version = self.cache.put_version(self.name, self.model_id, phash, code, status, reason)
        self.versions.append({"version": version, "status": status, "reason": reason,
                              "prompt_hash": phash, "code": code})  # fmt: skip
        if program is None:
            log.info("reward %r v%d rejected: %s", self.name, version, reason)
            return None, code, reason
        return WrittenCode(self.name, code, program, version, phash, self.model_id), code, ""

    def loop(self, prompt: str) -> WrittenCode:
        """Ask, then repair with the failure's reason up to ``max_rounds`` times."""
        result, code, reason = self.attempt(prompt)
        rounds = 0
        while result is None and rounds < self.max_rounds:
            rounds += 1
            result, code, reason = self.attempt(_REPAIR.format(code=code, reason=reason))
        if result is None:
            raise CodeRejected(
                f"reward {self.name!r}: no program passed after {rounds} repair round(s); "
                f"last reason: {reason}",
                self.versions,
            )
        result.versions = self.versions
        return result


def design_reward(
    client: LLMClient,
    task: str,
    schema: str,
    samples: Sequence[Sequence[Any]],
    *,
    name: str = "written",
    critic: bool = True,
    max_rounds: int = 3,
    cache: LabelCache | None = None,
    sandbox: Sandbox | None = None,
    limits: Limits = DEFAULT_LIMITS,
    max_tokens: int = 512,
) -> WrittenCode:
    """Auto MC-Reward's Reward Designer, then its Reward Critic.

    Args:
        client: the LLM.
        task: the task in words.
        schema: the documented state (e.g. ``DungeonEnv.symbolic_state.__doc__``).
        samples: ``(state, next_state)`` pairs to check the code on.
        name: the reward's name (versions are numbered per name in the cache).
        critic: run the critic pass (a revision it proposes is kept only if it passes too).
        max_rounds: repair rounds after a failed check.
        cache: where versions are stored (default: in memory).
        sandbox: a sandbox to run the code in (default: a process sandbox per program).
        limits: time and memory limits of the code.
        max_tokens: the answer budget.

    Raises:
        CodeRejected: with every attempt's reason, when nothing passed.
    """
    writer = _Writer(client, name, "reward", "scalar", samples, cache, sandbox, limits,
                     max_rounds, max_tokens)  # fmt: skip
    result = writer.loop(_DESIGNER.format(task=task, schema=schema))
    if critic:
        review_prompt = _CRITIC.format(task=task, code=result.code)
        review = writer.ask(review_prompt)
        if "```" in review:
            revised, _, reason = writer.check(extract_code(review), prompt_hash(review_prompt))
            if revised is not None:
                result.program.close()
                result = revised
            else:
                log.info("reward %r: the critic's revision was rejected (%s)", name, reason)
    result.versions = writer.versions
    return result


def analyze_trajectories(
    client: LLMClient,
    current: WrittenCode,
    task: str,
    trajectories: Sequence[Sequence[Mapping[str, Any]]],
    samples: Sequence[Sequence[Any]],
    *,
    fields: Sequence[str] = ("position", "depth", "inventory", "on_stairs"),
    max_rounds: int = 3,
    cache: LabelCache | None = None,
    sandbox: Sandbox | None = None,
    limits: Limits = DEFAULT_LIMITS,
    max_tokens: int = 512,
) -> WrittenCode:
    """Auto MC-Reward's Trajectory Analyzer: revise ``current`` from failed trajectories.

    Each trajectory is a list of step dicts with ``state`` and ``reward``; it is summarised as
    the listed state ``fields`` and the reward over its last steps. The revision goes through
    the same check-and-repair loop; on rejection ``current`` stays in use (the caller decides).
    """
    lines = []
    for i, traj in enumerate(trajectories[:5]):
        tail = traj[-8:]
        steps = "; ".join(
            f"{ {k: s['state'].get(k) for k in fields} } r={s.get('reward', 0):.2f}" for s in tail
        )
        lines.append(f"Trajectory {i + 1} ({len(traj)} steps, last ones): {steps}")
    writer = _Writer(client, current.name, "reward", "scalar", samples, cache, sandbox, limits,
                     max_rounds, max_tokens)  # fmt: skip
    prompt = _ANALYZER.format(task=task, code=current.code, trajectories="\n".join(lines))
    return writer.loop(prompt)


def write_evaluation_func(
    client: LLMClient,
    task: str,
    schema: str,
    states: Sequence[Mapping[str, Any]],
    *,
    name: str = "lare",
    candidates: int = 5,
    max_rounds: int = 5,
    cache: LabelCache | None = None,
    sandbox: Sandbox | None = None,
    limits: Limits = DEFAULT_LIMITS,
    max_tokens: int = 512,
) -> WrittenCode:
    """LaRe: ``candidates`` evaluation functions (each checked and repaired up to
    ``max_rounds`` times on the sample ``states``), then one merged function; the merge falls
    back to the first accepted candidate if it fails its checks.

    Raises:
        CodeRejected: when no candidate passed.
    """
    samples = [(s,) for s in states]
    writer = _Writer(client, name, "evaluation_func", "columns", samples, cache, sandbox,
                     limits, max_rounds, max_tokens)  # fmt: skip
    accepted: list[WrittenCode] = []
    for _ in range(candidates):
        try:
            accepted.append(writer.loop(_LARE.format(task=task, schema=schema)))
        except CodeRejected:
            continue
    if not accepted:
        raise CodeRejected(f"LaRe {name!r}: no candidate passed", writer.versions)
    best = accepted[0]
    if len(accepted) > 1:
        text = "\n".join(f"```python\n{c.code}```" for c in accepted)
        try:
            merged = writer.loop(_LARE_MERGE.format(task=task, candidates=text))
            best = merged
        except CodeRejected as exc:
            log.info("LaRe %r: the merge was rejected (%s); keeping candidate 1", name, exc)
    for c in accepted:
        if c is not best:
            c.program.close()
    best.versions = writer.versions
    return best


def reward_matrix(program: SandboxedProgram, states: Sequence[Any], n_actions: int) -> np.ndarray:
    """``R[s, a, s']`` of a written ``reward(state, next_state)`` on a tabular MDP.

    Args:
        program: the loaded program.
        states: the state dict of each of the MDP's states (index = state id).
        n_actions: the MDP's action count (the written reward ignores the action).

    Returns:
        An ``(S, A, S)`` array to give :func:`rewardgym.shaping.analysis.starc_distance`.
    """
    n = len(states)
    table = np.zeros((n, n))
    for s in range(n):
        for t in range(n):
            table[s, t] = float(program(states[s], states[t]))
    return np.repeat(table[:, None, :], n_actions, axis=1)

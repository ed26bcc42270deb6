"""Agents and prompt helpers for the code execution family.

:class:`ReferenceSolutionAgent` (``"code-oracle"``) is a *privileged* baseline: it looks the
current task up by ``info["task_id"]`` and submits the task's reference solution, so it shows
the ceiling of an env (1.0 on HumanEval and the bank, 0.0 on impossible tasks).
:func:`code_prompt` turns a code observation into the text an LLM agent is asked.
"""

from __future__ import annotations

from typing import Any

from rewardgym.envs.code import CodeTask, find_task, render_observation

__all__ = ["ReferenceSolutionAgent", "code_prompt", "make_reference_agent"]


def code_prompt(observation: dict[str, str] | str, entry_point: str | None = None) -> str:
    """The instruction an LLM agent gets for a code observation (dict or text form)."""
    name = f"`{entry_point}`" if entry_point else "the requested function"
    return (
        f"Solve the Python programming task below. Reply with one ```python code block that "
        f"defines {name} (and any imports or helpers it needs); the block is run against "
        f"hidden unit tests.\n\n{render_observation(observation)}"
    )


class ReferenceSolutionAgent:
    """Submits the reference solution of the current task (a privileged oracle baseline).

    Args:
        tasks: tasks to look ids up in first (e.g. the env's own ``tasks``); ids not found
            there are looked up in HumanEval and the bank via
            :func:`rewardgym.envs.code.find_task`.
        tasks_path: a JSONL task file to search as well.
    """

    name = "code-oracle"

    def __init__(
        self, tasks: tuple[CodeTask, ...] | None = None, tasks_path: str | None = None
    ) -> None:
        self._tasks = {task.task_id: task for task in tasks or ()}
        self._tasks_path = tasks_path

    def reset(self, seed: int | None = None) -> None:
        """Deterministic; nothing to reset."""

    def act(self, observation: Any, info: dict[str, Any]) -> str:
        """The reference solution of ``info["task_id"]`` in a ```python fence."""
        task_id = info["task_id"]
        task = self._tasks.get(task_id) or find_task(task_id, self._tasks_path)
        return f"```python\n{task.reference_solution.rstrip()}\n```\n"


def make_reference_agent(env: Any, arg: str | None = None, **kwargs: Any) -> ReferenceSolutionAgent:
    """Registry factory: ``make_agent("code-oracle", env)`` (``"code-oracle:<tasks.jsonl>"``)."""
    unwrapped = getattr(env, "unwrapped", env)
    tasks = getattr(unwrapped, "tasks", None)
    return ReferenceSolutionAgent(tasks=tasks, tasks_path=arg, **kwargs)

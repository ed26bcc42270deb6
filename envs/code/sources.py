"""One loader interface over every code task source: HumanEval, our bank, user JSONL files.

:func:`load_tasks` is what the env calls; :func:`load_bank` and
:func:`~rewardgym.envs.code.humaneval.load_humaneval` are the sources behind it, and
:func:`~rewardgym.envs.code.schema.load_jsonl` reads user files in the documented schema.
"""

from __future__ import annotations

import functools
import pathlib
from collections.abc import Sequence
from typing import Literal

from rewardgym.envs.code.humaneval import load_humaneval
from rewardgym.envs.code.impossible import make_impossible
from rewardgym.envs.code.schema import load_jsonl
from rewardgym.envs.code.tasks import CodeTask
from rewardgym.errors import ConfigError, TaskDataError

__all__ = ["BANK_PATH", "Source", "find_task", "load_bank", "load_tasks"]

Source = Literal["humaneval", "bank", "jsonl"]

#: Our own problem bank, shipped as package data.
BANK_PATH = pathlib.Path(__file__).with_name("data") / "bank.jsonl"

#: The bank's promises: task ids under ``bank/``, a reference solution and a difficulty tag.
BANK_PREFIX = "bank/"


@functools.cache
def load_bank() -> tuple[CodeTask, ...]:
    """Our own problem bank (``envs/code/data/bank.jsonl``), validated; cached.

    Beyond the JSONL schema, every bank task must have an id under ``bank/``, a reference
    solution and a difficulty tag.

    Raises:
        TaskDataError: if the file is missing or breaks the schema.
    """
    tasks = load_jsonl(BANK_PATH, source="bank")
    problems = []
    for task in tasks:
        if not task.task_id.startswith(BANK_PREFIX):
            problems.append(f"{task.task_id}: bank task ids start with {BANK_PREFIX!r}")
        if not task.reference_solution:
            problems.append(f"{task.task_id}: bank tasks need a reference_solution")
        if task.difficulty is None:
            problems.append(f"{task.task_id}: bank tasks need a difficulty")
    if problems:
        raise TaskDataError(f"{BANK_PATH}:\n" + "\n".join(problems))
    return tuple(tasks)


def load_tasks(
    source: Source = "humaneval",
    *,
    tasks_path: str | pathlib.Path | None = None,
    impossible: bool = False,
    task_ids: Sequence[str] | None = None,
) -> tuple[CodeTask, ...]:
    """The tasks of one source, optionally made impossible and filtered by id.

    Args:
        source: ``"humaneval"``, ``"bank"`` or ``"jsonl"`` (then ``tasks_path`` is required).
        tasks_path: the JSONL file of a ``"jsonl"`` source.
        impossible: replace each task by its impossible variant
            (:func:`~rewardgym.envs.code.impossible.make_impossible`), dropping tasks that
            have none.
        task_ids: keep only these ids, in this order (ids of the variants, e.g.
            ``"impossible/HumanEval/0"``, when ``impossible``).

    Raises:
        ConfigError: on an inconsistent source/path or an unknown task id.
        TaskDataError: if the data breaks its schema.
    """
    if source == "jsonl":
        if tasks_path is None:
            raise ConfigError("source='jsonl' needs tasks_path=<path to a .jsonl task file>")
        tasks: tuple[CodeTask, ...] = tuple(load_jsonl(tasks_path))
    elif tasks_path is not None:
        raise ConfigError(f"tasks_path is only used with source='jsonl', not {source!r}")
    elif source == "humaneval":
        tasks = load_humaneval()
    elif source == "bank":
        tasks = load_bank()
    else:
        raise ConfigError(f"unknown task source {source!r}; use 'humaneval', 'bank' or 'jsonl'")
    if impossible:
        tasks = tuple(v for v in map(make_impossible, tasks) if v is not None)
        if not tasks:
            raise TaskDataError(
                "no task of this source has a test of the form `assert candidate(...) == "
                "<literal>`, so none can be made impossible"
            )
    if task_ids is not None:
        by_id = {t.task_id: t for t in tasks}
        missing = [i for i in task_ids if i not in by_id]
        if missing:
            raise ConfigError(
                f"unknown task ids {missing[:5]} for source {source!r}; "
                f"examples of valid ids: {list(by_id)[:3]}"
            )
        tasks = tuple(by_id[i] for i in task_ids)
        if not tasks:
            raise ConfigError("task_ids is empty; give at least one id or leave it unset")
    return tasks


def find_task(task_id: str, tasks_path: str | pathlib.Path | None = None) -> CodeTask:
    """Look a task up by id across HumanEval, the bank and (if given) a JSONL file.

    ``"impossible/<id>"`` finds the impossible variant of ``<id>``.

    Raises:
        ConfigError: if no source holds ``task_id``.
    """
    base = task_id.removeprefix("impossible/")
    if base.startswith(BANK_PREFIX):
        candidates: tuple[CodeTask, ...] = load_bank()
    elif base.startswith("HumanEval/"):
        candidates = load_humaneval()
    else:
        candidates = ()
    if tasks_path is not None:
        candidates = (*candidates, *load_jsonl(tasks_path))
    for task in candidates:
        if task.task_id == base:
            if base == task_id:
                return task
            variant = make_impossible(task)
            if variant is not None:
                return variant
    raise ConfigError(f"no known task source holds task id {task_id!r}")

"""The code execution family: programming tasks with verifiable, per-test rewards.

``rewardgym/CodeExec-v0`` (HumanEval), ``-Bank-v0`` (our bank), ``-Repair-v0`` (three attempts
with feedback) and ``-Impossible-v0`` (a contradicting test: the cheating canary) are all
:class:`CodeExecEnv`; tasks come from :func:`load_tasks` (HumanEval, the bank, or a JSONL file
in the schema of :mod:`rewardgym.envs.code.schema`).
"""

from __future__ import annotations

from rewardgym.envs.code.env import CodeExecConfig, CodeExecEnv, render_observation
from rewardgym.envs.code.extract import Extraction, extract_code
from rewardgym.envs.code.humaneval import load_humaneval, split_check
from rewardgym.envs.code.impossible import make_impossible
from rewardgym.envs.code.schema import load_jsonl
from rewardgym.envs.code.sources import find_task, load_bank, load_tasks
from rewardgym.envs.code.tasks import CodeTask, TaskTest

__all__ = [
    "CodeExecConfig",
    "CodeExecEnv",
    "CodeTask",
    "Extraction",
    "TaskTest",
    "extract_code",
    "find_task",
    "load_bank",
    "load_humaneval",
    "load_jsonl",
    "load_tasks",
    "make_impossible",
    "render_observation",
    "split_check",
]

"""The task model shared by every code task source (HumanEval, the bank, user JSONL files).

A :class:`CodeTask` is plain, immutable data: the statement the agent reads, the tests the grader
runs, and the trusted code those tests need. Loaders (:mod:`.humaneval`, :mod:`.schema`) build
them; the env (:mod:`.env`) turns their tests into :class:`rewardgym.sandbox.grading.TestCase`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["CodeTask", "Difficulty", "TaskTest"]

Difficulty = Literal["easy", "medium", "hard"]


@dataclass(frozen=True)
class TaskTest:
    """One unit test of a task.

    Attributes:
        id: stable id within the task (e.g. ``"t01"``); ``f"{task_id}#{id}"`` is global.
        code: trusted Python statements that call ``candidate(...)`` and ``assert`` on the
            results; they run in the grader process, never in the candidate's.
        visible: whether the agent sees this test in its observation. Hidden tests never
            appear in observations or feedback.
    """

    id: str
    code: str
    visible: bool = False


@dataclass(frozen=True)
class CodeTask:
    """One programming task.

    Attributes:
        task_id: stable id, e.g. ``"HumanEval/0"`` or ``"bank/two-sum"``.
        prompt: the problem statement.
        entry_point: the name of the function the submission must define.
        starter_code: the signature (and docstring) the agent starts from.
        tests: the unit tests, in a stable order (the order of ``info["test_results"]``).
        setup: trusted code run in the grader's namespace before each test (imports, helpers
            such as HumanEval's ``poly``); it never enters the sandbox.
        prelude: public code placed before the submission in the candidate's program (the
            imports and helper functions the starter code already gives, e.g. HumanEval's
            ``encode_cyclic``); empty for most tasks.
        reference_solution: a complete program that passes every test (privileged: only the
            oracle agent and the data tests read it).
        difficulty: ``"easy"``, ``"medium"`` or ``"hard"`` (None when the source has no tag).
        tags: free-form topic tags.
        time_limit_s: the wall-clock limit of one call of the candidate function.
        source: ``"humaneval"``, ``"bank"``, ``"jsonl"`` (``"impossible/..."`` for variants).
    """

    task_id: str
    prompt: str
    entry_point: str
    starter_code: str
    tests: tuple[TaskTest, ...]
    setup: str = ""
    prelude: str = ""
    reference_solution: str = ""
    difficulty: Difficulty | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    time_limit_s: float = 3.0
    source: str = "jsonl"

    @property
    def visible_tests(self) -> tuple[TaskTest, ...]:
        """The tests the agent may see."""
        return tuple(t for t in self.tests if t.visible)

    @property
    def hidden_tests(self) -> tuple[TaskTest, ...]:
        """The tests only the grader sees."""
        return tuple(t for t in self.tests if not t.visible)

    def program(self, submission: str) -> str:
        """The program the sandbox runs for ``submission``: the task's prelude, then it."""
        if not self.prelude:
            return submission
        return f"{self.prelude.rstrip()}\n\n\n{submission}"

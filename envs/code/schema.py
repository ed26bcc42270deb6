"""The JSONL task schema (our bank and user-supplied tasks) and its validating loader.

One task per line::

    {"task_id": "bank/two-sum", "prompt": "problem statement", "entry_point": "two_sum",
     "starter_code": "def two_sum(nums, target):\\n    ...",
     "reference_solution": "def two_sum(nums, target): ...",
     "difficulty": "easy", "tags": ["arrays"], "time_limit_s": 2.0,
     "setup": "optional trusted code for the tests (imports, helpers)",
     "tests": [{"id": "t01", "code": "assert candidate([2, 7], 9) == (0, 1)", "visible": true},
               {"id": "t02", "code": "assert candidate([3, 3], 6) == (0, 1)"}]}

Required: ``task_id``, ``prompt``, ``entry_point``, ``starter_code``, ``tests`` (at least one
hidden test: with every test visible, hard-coding the examples would pass). Optional:
``reference_solution`` (required in our bank), ``difficulty`` (``easy``/``medium``/``hard``),
``tags``, ``time_limit_s`` (per call of the candidate, default 3 s), ``setup``, and per test
``visible`` (default false). Unknown fields are errors (they are usually typos). Every code
field must parse as Python; test code must call ``candidate``; the starter code and the
reference solution must define ``entry_point`` at top level.

:func:`load_jsonl` raises :class:`~rewardgym.errors.TaskDataError` naming the file, the line and
the field of every problem found.
"""

from __future__ import annotations

import ast
import json
import keyword
import pathlib
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rewardgym.envs.code.tasks import CodeTask, TaskTest
from rewardgym.errors import TaskDataError

__all__ = ["TaskRecord", "TestRecord", "load_jsonl", "parse_task_line"]


def _check_python(source: str, what: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError as exc:
        raise ValueError(f"{what} is not valid Python: {exc.msg} (line {exc.lineno})") from None


def _defines(module: ast.Module, name: str) -> bool:
    for node in module.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name == name:
                return True
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return True
    return False


class TestRecord(BaseModel):
    """One test of a JSONL task."""

    __test__ = False  # not a pytest test class
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=1)
    visible: bool = False

    @field_validator("code")
    @classmethod
    def _code_calls_candidate(cls, code: str) -> str:
        module = _check_python(code, "test code")
        if not any(isinstance(n, ast.Name) and n.id == "candidate" for n in ast.walk(module)):
            raise ValueError("test code never calls `candidate(...)`, so it cannot test anything")
        return code


class TaskRecord(BaseModel):
    """One line of a task JSONL file (see the module docstring for the schema)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task_id: str = Field(min_length=1, max_length=200)
    prompt: str = Field(min_length=1)
    entry_point: str
    starter_code: str
    reference_solution: str = ""
    difficulty: Literal["easy", "medium", "hard"] | None = None
    tags: list[str] = Field(default_factory=list)
    time_limit_s: float = Field(default=3.0, gt=0, le=60)
    setup: str = ""
    tests: list[TestRecord] = Field(min_length=1)

    @field_validator("task_id")
    @classmethod
    def _no_whitespace(cls, task_id: str) -> str:
        if task_id != task_id.strip() or any(ch.isspace() for ch in task_id):
            raise ValueError("task_id must not contain whitespace")
        return task_id

    @field_validator("entry_point")
    @classmethod
    def _identifier(cls, name: str) -> str:
        if not name.isidentifier() or keyword.iskeyword(name):
            raise ValueError(f"{name!r} is not a Python identifier")
        return name

    @field_validator("setup")
    @classmethod
    def _setup_parses(cls, setup: str) -> str:
        _check_python(setup, "setup")
        return setup

    @model_validator(mode="after")
    def _consistent(self) -> TaskRecord:
        starter = _check_python(self.starter_code, "starter_code")
        if not _defines(starter, self.entry_point):
            raise ValueError(f"starter_code does not define entry_point {self.entry_point!r}")
        if self.reference_solution:
            reference = _check_python(self.reference_solution, "reference_solution")
            if not _defines(reference, self.entry_point):
                raise ValueError(
                    f"reference_solution does not define entry_point {self.entry_point!r}"
                )
        ids = [t.id for t in self.tests]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate test ids {duplicates}")
        if all(t.visible for t in self.tests):
            raise ValueError(
                "every test is visible; mark at least one test hidden (visible: false), "
                "otherwise hard-coding the visible examples passes the task"
            )
        return self

    def to_task(self, source: str) -> CodeTask:
        """The immutable :class:`CodeTask` this record describes."""
        return CodeTask(
            task_id=self.task_id,
            prompt=self.prompt,
            entry_point=self.entry_point,
            starter_code=self.starter_code,
            tests=tuple(TaskTest(id=t.id, code=t.code, visible=t.visible) for t in self.tests),
            setup=self.setup,
            reference_solution=self.reference_solution,
            difficulty=self.difficulty,
            tags=tuple(self.tags),
            time_limit_s=self.time_limit_s,
            source=source,
        )


def _format_errors(where: str, error: ValidationError) -> list[str]:
    lines = []
    for item in error.errors():
        loc = ".".join(str(part) for part in item["loc"]) or "(task)"
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"{where}: field {loc!r}: {message}")
    return lines


def parse_task_line(line: str, *, where: str = "<line>", source: str = "jsonl") -> CodeTask:
    """Validate one JSONL line and return its task.

    Raises:
        TaskDataError: naming ``where`` and every invalid field.
    """
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise TaskDataError(f"{where}: not valid JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(data, dict):
        raise TaskDataError(f"{where}: expected a JSON object, got {type(data).__name__}")
    try:
        record = TaskRecord.model_validate(data)
    except ValidationError as exc:
        raise TaskDataError("\n".join(_format_errors(where, exc))) from None
    return record.to_task(source)


def load_jsonl(path: str | pathlib.Path, *, source: str = "jsonl") -> list[CodeTask]:
    """Load and validate every task of a JSONL file (blank lines are skipped).

    Args:
        path: the file, one JSON object per line.
        source: the ``source`` recorded on each task.

    Returns:
        The tasks, in file order.

    Raises:
        TaskDataError: listing every invalid line and field (``file:line: field 'x': why``),
            duplicate task ids, or an empty or missing file.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise TaskDataError(f"task file {str(path)!r} does not exist; pass a JSONL file path")
    return _load_lines(path.read_text(encoding="utf-8").splitlines(), str(path), source)


def _load_lines(lines: Iterable[str], name: str, source: str) -> list[CodeTask]:
    tasks: list[CodeTask] = []
    problems: list[str] = []
    first_line: dict[str, int] = {}
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{name}:{lineno}"
        try:
            task = parse_task_line(line, where=where, source=source)
        except TaskDataError as exc:
            problems.append(str(exc))
            continue
        if task.task_id in first_line:
            problems.append(
                f"{where}: field 'task_id': duplicate id {task.task_id!r} "
                f"(first on line {first_line[task.task_id]})"
            )
            continue
        first_line[task.task_id] = lineno
        tasks.append(task)
    if problems:
        raise TaskDataError(f"{len(problems)} problem(s) in {name}:\n" + "\n".join(problems[:50]))
    if not tasks:
        raise TaskDataError(f"{name} holds no tasks; write one JSON object per line")
    return tasks

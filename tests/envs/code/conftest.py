"""Shared fixtures of the code env tests: a small user JSONL task file and env factories."""

from __future__ import annotations

import copy
import json

import pytest

USER_TASKS = [
    {
        "task_id": "user/add-pairs",
        "prompt": "Return the list of element-wise sums of two equally long lists.",
        "entry_point": "add_pairs",
        "starter_code": "def add_pairs(xs, ys):\n    ...",
        "reference_solution": "def add_pairs(xs, ys):\n    return [x + y for x, y in zip(xs, ys)]",
        "difficulty": "easy",
        "tags": ["lists"],
        "time_limit_s": 2.0,
        "tests": [
            {"id": "t01", "code": "assert candidate([1, 2], [3, 4]) == [4, 6]", "visible": True},
            {"id": "t02", "code": "assert candidate([], []) == []"},
            {"id": "t03", "code": "assert candidate([-1], [1]) == [0]"},
            {"id": "t04", "code": "assert candidate(list(range(1000)), [1] * 1000)[-1] == 1000"},
        ],
    },
    {
        "task_id": "user/is-even",
        "prompt": "Say whether n is even.",
        "entry_point": "is_even",
        "starter_code": "def is_even(n: int) -> bool:\n    ...",
        "reference_solution": "def is_even(n):\n    return n % 2 == 0",
        "setup": "import math\nBIG = 10 ** 30",
        "tests": [
            {"id": "small", "code": "assert candidate(2) is True", "visible": True},
            {"id": "odd", "code": "assert candidate(3) == False"},
            {"id": "big", "code": "assert candidate(BIG) == True"},
        ],
    },
]


@pytest.fixture(scope="session")
def user_tasks_path(tmp_path_factory):
    """A valid user JSONL task file with two tasks."""
    path = tmp_path_factory.mktemp("tasks") / "tasks.jsonl"
    path.write_text("".join(json.dumps(t) + "\n" for t in USER_TASKS), encoding="utf-8")
    return path


@pytest.fixture
def user_tasks():
    """The records of :data:`USER_TASKS` (a fresh deep copy, free to edit)."""
    return copy.deepcopy(USER_TASKS)

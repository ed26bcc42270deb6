"""HumanEval loading: the AST split of ``check`` and every canonical solution scoring 1."""

from __future__ import annotations

import pytest

from rewardgym.envs.code import CodeExecEnv, load_humaneval, split_check
from rewardgym.envs.code.humaneval import HUMANEVAL_SIZE

CHECK = '''
METADATA = {"author": "x"}

def helper(v):
    return v * 2

def check(candidate):
    """docstring is not a statement to keep"""
    import math
    assert candidate(1) == 2
    assert True, "debugging aid"
    data = [1, 2, 3]
    for x in data:
        assert candidate(x) == helper(x)
    assert candidate(2) == f(2)
'''


def test_split_check_makes_self_contained_tests():
    setup, tests = split_check(CHECK, entry_point="f")
    assert "METADATA" in setup and "def helper" in setup and "def check" not in setup
    assert tests == [
        "import math\nassert candidate(1) == 2",
        "import math\ndata = [1, 2, 3]\nfor x in data:\n    assert candidate(x) == helper(x)",
        "f = candidate\nimport math\ndata = [1, 2, 3]\nassert candidate(2) == f(2)",
    ]


def test_split_check_rejects_sources_without_check():
    from rewardgym.errors import TaskDataError

    with pytest.raises(TaskDataError, match="no check"):
        split_check("def test():\n    pass\n")
    with pytest.raises(TaskDataError, match="does not parse"):
        split_check("def check(:\n")


def test_humaneval_tasks_are_split_per_assertion():
    tasks = load_humaneval()
    assert len(tasks) == HUMANEVAL_SIZE
    by_id = {t.task_id: t for t in tasks}
    first = by_id["HumanEval/0"]
    assert first.entry_point == "has_close_elements"
    assert [t.id for t in first.tests] == [f"t{i:02d}" for i in range(1, 8)]
    assert [t.visible for t in first.tests] == [True] + [False] * 6
    assert first.tests[0].code == "assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3) == True"
    assert "Check if in given list of numbers" in first.prompt
    assert first.starter_code.startswith("from typing import List")
    # helpers of the prompt reach both the grader (setup) and the candidate (prelude)
    zero = by_id["HumanEval/32"]
    assert "def poly" in zero.setup and "def poly" in zero.prelude
    assert len(zero.tests) == 1 and not zero.tests[0].visible  # a lone test stays hidden
    # HumanEval's "assert True" debugging aids are not tests
    assert all("candidate" in t.code for task in tasks for t in task.tests)
    assert sum(len(t.tests) for t in tasks) == 1133
    # every task keeps at least one hidden test
    assert all(task.hidden_tests for task in tasks)


@pytest.mark.slow
def test_every_canonical_solution_scores_task_1():
    env = CodeExecEnv()
    failures = []
    try:
        for task in env.tasks:
            _, info = env.reset(seed=0, options={"task_id": task.task_id})
            _, reward, terminated, _, info = env.step(task.reference_solution)
            if reward != 1.0 or info["reward_components"]["task"] != 1.0 or not terminated:
                failures.append((task.task_id, info["test_results"]))
    finally:
        env.close()
    assert not failures, failures[:5]
    assert len(env.tasks) == HUMANEVAL_SIZE


@pytest.mark.slow
def test_a_wrong_solution_fails_hidden_tests_only_partly():
    env = CodeExecEnv(task_ids=["HumanEval/0"])
    try:
        env.reset(seed=0)
        wrong = "def has_close_elements(numbers, threshold):\n    return True\n"
        _, reward, _, _, info = env.step(wrong)
    finally:
        env.close()
    passed = [r["passed"] for r in info["test_results"]]
    assert reward == 0.0 and info["reward_components"]["task"] == 0.0
    assert passed == [True, False, True, False, True, True, False]
    assert info["reward_components"]["tests_passed"] == pytest.approx(4 / 7)

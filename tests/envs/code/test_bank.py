"""Our own problem bank: it follows its schema and every reference solution passes."""

from __future__ import annotations

import pytest

from rewardgym.envs.code import CodeExecEnv, load_bank
from rewardgym.envs.code.sources import BANK_PATH

pytestmark = pytest.mark.skipif(
    not BANK_PATH.is_file(), reason=f"the bank file {BANK_PATH} is not written yet"
)


def test_bank_promises():
    tasks = load_bank()
    assert len(tasks) >= 60, f"the bank holds {len(tasks)} problems; the issue asks for >= 60"
    for task in tasks:
        assert task.task_id.startswith("bank/")
        assert task.difficulty in ("easy", "medium", "hard")
        assert len(task.tests) >= 8, f"{task.task_id} has {len(task.tests)} tests, needs >= 8"
        assert task.visible_tests and task.hidden_tests, task.task_id
        assert task.reference_solution


@pytest.mark.slow
def test_every_bank_reference_solution_passes():
    # A generous call limit: on a loaded 2-core machine, moving a 200k-element input through
    # the sandbox takes close to the tasks' own 2 s limits (what is tested is correctness).
    env = CodeExecEnv(source="bank", call_timeout_s=10)
    failures = []
    try:
        for task in env.tasks:
            env.reset(seed=0, options={"task_id": task.task_id})
            reply = f"```python\n{task.reference_solution}\n```"
            observation, reward, terminated, _, info = env.step(reply)
            if reward != 1.0 or not terminated:
                failed = [r["id"] for r in info["test_results"] if not r["passed"]]
                failures.append((task.task_id, failed, observation["feedback"][:300]))
    finally:
        env.close()
    assert not failures, failures[:5]

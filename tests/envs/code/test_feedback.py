"""Feedback never reveals hidden tests and says each fact once (issue 12, items 5-7).

A candidate sees the arguments of every call it answers; whatever it prints, raises or reads
from its channel while a hidden test calls it must not reach an observation. These candidates
try every way to carry hidden inputs into what feedback quotes.
"""

from __future__ import annotations

import json

import gymnasium as gym
import pytest

import rewardgym  # noqa: F401  (registers the ids)
from rewardgym.envs.code import CodeExecEnv
from rewardgym.sandbox import _guest
from rewardgym.sandbox.grading import REASONS, prefetchable_call

#: prints every call's arguments to stderr and stdout, remembers them, and quotes all it has
#: seen (and whatever else waits in its request pipe) in the exception it raises.
LEAKER = """
import os, sys
seen = []

def {name}(*args, **kwargs):
    seen.append(repr(args))
    print("ARGS", repr(args), file=sys.stderr)
    print("ARGS", repr(args))
    try:
        os.set_blocking(3, False)
        seen.append(os.read(3, 1 << 16).decode(errors="replace"))
    except OSError:
        pass
    raise ValueError("seen: " + " | ".join(seen))
"""


def _shown(args: tuple) -> list[str]:
    """How a candidate shows ``args``: printed, and as its request's raw text."""
    return [repr(args), json.dumps(_guest.encode(args), separators=(",", ":"))]


def _hidden_arguments(task) -> list[str]:
    """The literal arguments of the task's hidden tests, as a candidate would show them
    (those of a visible test left out)."""
    calls = {t.visible: [] for t in task.tests}
    for test in task.tests:
        call = prefetchable_call(test.code)
        if call is not None and call[0]:
            calls[test.visible] += _shown(call[0])
    return [text for text in calls.get(False, []) if text not in calls.get(True, [])]


def _visible_text(obs) -> str:
    return "\n".join(obs.values()) if isinstance(obs, dict) else obs


def test_repair_feedback_carries_no_hidden_input():
    env = gym.make("rewardgym/CodeExec-Repair-v0")
    try:
        obs, info = env.reset(seed=0, options={"task_id": "HumanEval/0"})
        task = env.unwrapped.task
        secrets = _hidden_arguments(task)
        assert len(secrets) >= 6
        program = LEAKER.format(name=info["entry_point"])
        for _attempt in range(2):
            obs, reward, terminated, _, info = env.step(f"```python\n{program}```")
            feedback = obs["feedback"]
            assert reward == 0.0 and not terminated
            assert "ARGS" in feedback  # the visible test's output is shown ...
            assert "Failed visible test" in feedback and "seen:" in feedback
            for secret in secrets:  # ... and nothing of a hidden one
                assert secret not in _visible_text(obs), secret
            assert f"{len(task.hidden_tests)} hidden tests failed (" in feedback
            assert "raised an exception" in feedback  # (reading its pipe breaks its channel)
    finally:
        env.close()


HIDDEN_FIRST = {
    "task_id": "user/hidden-first",
    "prompt": "Return x + 1.",
    "entry_point": "inc",
    "starter_code": "def inc(x):\n    ...",
    "reference_solution": "def inc(x):\n    return x + 1",
    "tests": [
        {"id": "h1", "code": "assert candidate(424242) == 424243"},
        {"id": "h2", "code": "assert candidate(-97531) == -97530"},
        {"id": "v1", "code": "assert candidate(1) == 2", "visible": True},
        {"id": "h3", "code": "x = candidate(8642)\nassert x == 8643"},
    ],
}


@pytest.fixture(scope="module", params=["process", "bwrap"])
def hidden_first_env(request, tmp_path_factory):
    """The hidden-first task on each backend the env can build here (the docker engine of the
    test session is private: the grader's side is the same code on every backend)."""
    if request.param == "bwrap":
        from rewardgym.sandbox.bwrap import bwrap_problem

        if (why := bwrap_problem()) is not None:
            pytest.skip(f"skipped: {why}")
    path = tmp_path_factory.mktemp("hidden") / "tasks.jsonl"
    path.write_text(json.dumps(HIDDEN_FIRST) + "\n", encoding="utf-8")
    env = CodeExecEnv(
        tasks_path=str(path), max_attempts=5, call_timeout_s=1.0, sandbox=request.param
    )
    yield env
    env.close()


def test_a_visible_test_after_hidden_ones_sees_no_hidden_state(hidden_first_env):
    """A stateful candidate answers the visible test after two hidden ones in the task's order:
    the grader runs the visible test first, in a process that never saw a hidden input."""
    env = hidden_first_env
    obs, info = env.reset(seed=0)
    obs, _, _, _, info = env.step(LEAKER.format(name="inc"))
    text = _visible_text(obs)
    for secret in ("424242", "97531", "8642"):
        assert secret not in text, text
    assert "Failed visible test v1" in text and "(1,)" in text
    assert [r["passed"] for r in info["test_results"]] == [False] * 4
    assert "3 hidden tests failed (" in text and "raised an exception" in text


def test_hidden_failures_are_counted_by_generic_reason(hidden_first_env):
    env = hidden_first_env
    env.reset(seed=0)
    program = (
        "import time\n"
        "def inc(x):\n"
        "    if x == 424242:\n        return 0\n"  # wrong answer
        "    if x == -97531:\n        time.sleep(5)\n"  # time limit
        "    if x == 8642:\n        raise KeyError('the hidden input was ' + str(x))\n"
        "    return x + 1\n"
    )
    obs, _, _, _, info = env.step(program)
    feedback = obs["feedback"]
    assert feedback.startswith("1/4 tests passed.")
    assert "3 hidden tests failed (" in feedback
    for reason in ("1 wrong answer", "1 time limit", "1 raised an exception"):
        assert reason in feedback
    assert "8642" not in feedback and "KeyError" not in feedback
    assert info["timed_out"] is True and info["attempt_timed_out"] is False


def test_each_fact_is_said_once(hidden_first_env):
    env = hidden_first_env
    env.reset(seed=0)
    obs, *_ = env.step("raise RuntimeError('boom at import')\ndef inc(x): ...")
    feedback = obs["feedback"]
    assert feedback.count("failed to load") == 1 and feedback.count("boom at import") == 1
    assert "the program failed to load: the program" not in feedback.lower()
    assert feedback.startswith("0/4 tests passed.\nThe program failed to load: RuntimeError")


def test_the_attempt_cap_is_reported_in_info(tmp_path):
    path = tmp_path / "tasks.jsonl"
    path.write_text(json.dumps(HIDDEN_FIRST) + "\n", encoding="utf-8")
    env = CodeExecEnv(tasks_path=str(path), call_timeout_s=0.5, attempt_timeout_s=1.2)
    try:
        env.reset(seed=0)
        obs, reward, terminated, _, info = env.step("def inc(x):\n    while True:\n        pass\n")
        assert reward == 0.0 and terminated
        assert info["attempt_timed_out"] is True and info["timed_out"] is True
        assert "grading stopped: the attempt used up its wall-clock limit" in obs["feedback"]
        assert obs["feedback"].count("wall-clock") == 1
    finally:
        env.close()


def test_reasons_are_a_fixed_vocabulary():
    assert len(set(REASONS)) == len(REASONS)
    assert all(r == r.lower() and len(r) < 50 for r in REASONS)


def test_a_broken_sandbox_is_rebuilt_once(hidden_first_env, caplog):
    """The sandbox itself failing (its fork-server gone) is not the candidate's fault: the env
    starts a new sandbox and grades the attempt again."""
    env = hidden_first_env
    env.reset(seed=0)
    env.step("def inc(x):\n    return x + 1\n")
    broken = env._sandbox
    broken._kill_server()  # as if the fork-server had died
    env.reset(seed=0)
    with caplog.at_level("WARNING", logger="rewardgym.envs.code"):
        _, reward, terminated, *_ = env.step("def inc(x):\n    return x + 1\n")
    assert reward == 1.0 and terminated and env._sandbox is not broken
    assert "starting a new one" in caplog.text

"""Interpreter flags never change a verdict (issue 12, item 1).

Under ``python -O`` (or ``PYTHONOPTIMIZE``) code compiled with the host's flags loses its
``assert`` statements: the trusted tests are compiled with asserts kept, and our grading code has
no ``assert`` to lose. The verdicts are produced in a child interpreter started with the flag
(``optimized_battery.py``) and checked here, in a normal one.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rewardgym.sandbox.grading import TestCase, grade

ROOT = Path(__file__).resolve().parents[2]
BATTERY = Path(__file__).with_name("optimized_battery.py")
#: our code that decides verdicts or feedback: it must not rely on ``assert``
GRADER_CODE = sorted((ROOT / "sandbox").glob("*.py")) + sorted((ROOT / "envs/code").glob("*.py"))


def _optimized(code_or_args: list[str], flag: str, timeout: float) -> dict:
    """Run python with ``flag`` ("-O", or "PYTHONOPTIMIZE=2") on the given argv tail; parse the
    JSON it prints last."""
    env = dict(os.environ)
    argv = [sys.executable]
    if flag == "-O":
        argv.append("-O")
    else:
        env["PYTHONOPTIMIZE"] = flag.split("=", 1)[1]
    done = subprocess.run(
        [*argv, *code_or_args], capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["optimize"] >= 1 and result["debug"] is False  # the flag really was on
    return result


@pytest.mark.parametrize("path", GRADER_CODE, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_grader_code_has_no_assert_statements(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert)]
    assert lines == [], f"{path}: assert at lines {lines}"


QUICK = """
import json, sys
from rewardgym.envs.code import CodeExecEnv
from rewardgym.sandbox.grading import TestCase, grade

out = {"optimize": sys.flags.optimize, "debug": __debug__, "scores": {}}
for kwargs in ({}, {"impossible": True}):
    env = CodeExecEnv(**kwargs)
    for task in env.tasks[:12]:
        env.reset(seed=0, options={"task_id": task.task_id})
        program = f"def {task.entry_point}(*args, **kwargs):\\n    return None\\n"
        out["scores"][task.task_id] = env.step(program)[4]["reward_components"]["task"]
    env.close()
tests = [
    TestCase("plain", "assert candidate(1) == 2"),
    TestCase("exec", "exec('assert candidate(1) == 2')"),
    TestCase("compile", "exec(compile('assert candidate(1) == 2', 's', 'exec'))"),
    TestCase("debug", "if __debug__:\\n    assert candidate(1) == 2\\nelse:\\n    raise ValueError"),
    TestCase("eval", "if not eval('__debug__'):\\n    raise ValueError"),
]
report = grade("def f(x):\\n    return None", "f", tests)
out["none"] = report.results
out["honest"] = grade("def f(x):\\n    return x + 1", "f", tests).results
print(json.dumps(out))
"""


@pytest.mark.parametrize("flag", ["-O", "PYTHONOPTIMIZE=2"])
def test_return_none_scores_zero_under_optimize(flag):
    result = _optimized(["-c", QUICK], flag, timeout=120)
    assert len(result["scores"]) == 24
    assert sum(result["scores"].values()) == 0.0, result["scores"]
    # asserts in tests, in exec/compile/eval they call, and __debug__ all hold their meaning
    assert result["none"] == [False, False, False, False, True]
    assert result["honest"] == [True] * 5


def test_flags_of_the_host_are_not_what_tests_see():
    """In this (normal) interpreter the same tests give the same verdicts."""
    tests = [TestCase("plain", "assert candidate(1) == 2"),
             TestCase("exec", "exec('assert candidate(1) == 2')")]  # fmt: skip
    assert grade("def f(x):\n    return None", "f", tests).results == [False, False]


def _backend_args(kind: str, request) -> list[str]:
    if kind == "bwrap":
        from rewardgym.sandbox.bwrap import bwrap_problem

        if (why := bwrap_problem()) is not None:
            pytest.skip(f"skipped: {why}")
    if kind == "docker":
        base_url, tag = request.getfixturevalue("docker_engine")
        return ["--backend", "docker", "--docker-url", base_url, "--image", tag]
    return ["--backend", kind]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "flag"), [("process", "-O"), ("bwrap", "PYTHONOPTIMIZE=2"), ("docker", "-O")]
)
def test_the_hostile_battery_holds_under_optimize(kind, flag, request):
    result = _optimized([str(BATTERY), *_backend_args(kind, request)], flag, timeout=600)
    for part in ("hostile", "cheats", "forged"):
        assert result[part] and all(result[part].values()), (part, result[part])
    assert result["honest_passes"]


@pytest.mark.slow
def test_every_cheater_scores_zero_under_optimize(request):
    result = _optimized([str(BATTERY), "--backend", "process", "--env"], "-O", timeout=600)
    assert result["cheaters"] and sum(result["cheaters"].values()) == 0.0, result["cheaters"]
    assert result["return_none"] == {"humaneval": [0.0, 164], "impossible": [0.0, 154]}

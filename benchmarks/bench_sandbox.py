"""Sandbox latency and throughput, as ratios against floors measured in the same run.

- latency of a trivial program plus 3 tests (``grade``) per backend, median of N alternating
  repeats, against ``python -I -S -c pass`` (and, for docker, ``docker run --rm IMAGE true``);
- ``run_many`` throughput (programs/s) on small programs;
- back-to-back ``grade`` calls per second (process), ``close()`` time of a process sandbox, and
  the cost of moving a 200k-element list through a ``candidate(...)`` call.

Each timed latency sample is preceded by a 20 ms pause, so that background clean-up of the
previous sample (the fork-server reaping a child, forking its next spare) is not billed to the
next sample, ours or the floor's; back-to-back throughput is reported separately.

Writes ``runs/bench/sandbox.json``. ``BENCH_N`` (default 200) and ``BENCH_MANY`` (default 1000)
set the sizes; docker runs when an engine answers or one can be started (root).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rewardgym.sandbox import make
from rewardgym.sandbox.grading import TestCase, grade

N = int(os.environ.get("BENCH_N", "200"))
MANY = int(os.environ.get("BENCH_MANY", "1000"))
PROGRAM = "def add(a, b):\n    return a + b\n"
TESTS = [TestCase(f"add#{i}", f"assert candidate({i}, 1) == {i + 1}") for i in range(3)]


def _timed(fn, settle: float = 0.02) -> float:
    time.sleep(settle)
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    boxes = {"process": make("process"), "bwrap": make("bwrap")}
    engine = None
    docker_floor = None
    try:
        from rewardgym.sandbox.docker import docker_problem
        from rewardgym.sandbox.dockerd import PrivateEngine, ensure_image

        base_url = None
        if docker_problem() is not None:
            engine = PrivateEngine().start()
            base_url = engine.base_url
        import docker

        client = docker.DockerClient(base_url=base_url) if base_url else docker.from_env()
        tag = ensure_image(client)
        boxes["docker"] = make("docker", base_url=base_url, image=tag)

        def docker_floor():
            return client.containers.run(tag, ["true"], remove=True, network_mode="none")
    except Exception as exc:
        print(f"docker skipped: {exc}", file=sys.stderr)
    floor_cmd = [sys.executable, "-I", "-S", "-c", "pass"]
    samples: dict[str, list[float]] = {k: [] for k in [*boxes, "python_floor", "docker_run_floor"]}
    for i in range(N):  # alternate every measurement so drift hits all alike
        samples["python_floor"].append(_timed(lambda: subprocess.run(floor_cmd, check=True)))
        for kind, box in boxes.items():
            if kind == "docker" and i >= max(20, N // 10):
                continue  # docker is ~100x slower; 10% of the repeats suffice for a median
            samples[kind].append(_timed(lambda b=box: grade(PROGRAM, "add", TESTS, sandbox=b)))
        if docker_floor and i < max(20, N // 10):
            samples["docker_run_floor"].append(_timed(docker_floor))
    med = {k: statistics.median(v) for k, v in samples.items() if v}
    out = {"n": N, "median_s": med, "ratios": {}, "throughput_per_s": {}}
    for kind in boxes:
        out["ratios"][f"{kind}/python_floor"] = med[kind] / med["python_floor"]
    if "docker" in med and "docker_run_floor" in med:
        out["ratios"]["docker/docker_run_floor"] = med["docker"] / med["docker_run_floor"]
    for kind, box in boxes.items():
        count = MANY if kind != "docker" else max(50, MANY // 10)
        programs = [f"print({i} * 2)" for i in range(count)]
        elapsed = _timed(lambda b=box, p=programs: b.run_many(p))
        out["throughput_per_s"][kind] = count / elapsed
    extra = out["process_extra"] = {}
    box = boxes["process"]
    count = max(50, N)
    start = time.perf_counter()
    for _ in range(count):
        grade(PROGRAM, "add", TESTS, sandbox=box)
    extra["back_to_back_grades_per_s"] = count / (time.perf_counter() - start)
    for name, setup in (
        ("200k_int_list_call_s", "big = list(range(200_000))"),
        ("200k_pairs_list_call_s", "big = [[i, i + 1] for i in range(200_000)]"),
    ):
        test = [TestCase("big", "assert candidate(big) == big")]
        times = [
            grade("def f(x):\n    return x\n", "f", test, sandbox=box, setup=setup)
            .outcomes[0]
            .wall_s
            for _ in range(5)
        ]
        extra[name] = statistics.median(times)
    closes = []
    for _ in range(10):
        fresh = make("process")
        fresh.run("print(1)")
        closes.append(_timed(fresh.close, settle=0.0))
    extra["close_s"] = statistics.median(closes)
    for box in boxes.values():
        box.close()
    if engine is not None:
        engine.stop()
    Path("runs/bench").mkdir(parents=True, exist_ok=True)
    Path("runs/bench/sandbox.json").write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

"""Sandbox soak: thousands of hostile grading steps in a row in one code env, then count leaks.

One :class:`CodeExecEnv` (one sandbox, never rebuilt) grades a rotation of the hostile battery
(``tests/sandbox/test_hostile.py``: the resource attacks at load and the grading cheats;
``tests/sandbox/test_hardening.py``: answers forged into the channel), every cheating agent of
``rewardgym.agents.cheaters`` and an honest solution, on a small task (one visible and three
hidden tests). Every ``--every`` steps it records this process's resident memory, open fds and
threads, the fork-server's processes and memory, and the fork-server's own account of its uids,
live runs and work dirs (:meth:`ProcessSandbox.stats`). At the end nothing may be in use, and
RSS may not have grown by more than ``--rss-bound-mb`` after the warm-up.

Writes ``runs/bench/soak-<backend>.json``. Run:
``.venv/bin/python benchmarks/bench_soak.py [--steps 2000] [--backend process]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "sandbox")]

TASK = {
    "task_id": "soak/inc",
    "prompt": "Return x + 1.",
    "entry_point": "f",
    "starter_code": "def f(x):\n    ...",
    "reference_solution": "def f(x):\n    return x + 1",
    "time_limit_s": 0.5,
    "tests": [
        {"id": "v1", "code": "assert candidate(1) == 2", "visible": True},
        {"id": "h1", "code": "assert candidate(2) == 3"},
        {"id": "h2", "code": "assert candidate(-5) == -4"},
        {"id": "h3", "code": "assert candidate(10**6) == 10**6 + 1"},
    ],
}
HONEST = "def f(x):\n    return x + 1\n"


def battery() -> list[tuple[str, str | None]]:
    """``(name, program)`` of every hostile program; None: a cheating agent writes it."""
    from test_hardening import FORGED
    from test_hostile import CHEATS, HOSTILE

    from rewardgym.agents.cheaters import CHEATS as AGENT_CHEATS

    mix: list[tuple[str, str | None]] = []
    for name, (program, _verdict) in HOSTILE.items():  # a resource attack while loading
        mix.append((f"load:{name}", f"{program}\n\ndef f(x):\n    return x + 1\n"))
    for name, program in CHEATS.items():
        mix.append((f"cheat:{name}", program.replace("def add(a, b)", "def f(a, b=0)")))
    for name, (program, _word) in FORGED.items():
        mix.append((f"forged:{name}", program))
    mix += [(f"agent:{name}", None) for name in AGENT_CHEATS]
    mix.append(("honest", HONEST))
    return mix


def _rss_kb(pid: int | str = "self") -> int:
    try:
        status = pathlib.Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    line = next((x for x in status.splitlines() if x.startswith("VmRSS:")), "VmRSS: 0 kB")
    return int(line.split()[1])


def _live_descendants(pid: int) -> list[int]:
    """The descendants of ``pid`` that are not zombies (being reaped)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            kids = [
                int(k) for k in pathlib.Path(f"/proc/{p}/task/{p}/children").read_text().split()
            ]
        except OSError:
            continue
        todo += kids
        for kid in kids:
            try:
                state = pathlib.Path(f"/proc/{kid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z":
                out.append(kid)
    return out


def probe(env, step: int, start: float) -> dict:
    box = env.unwrapped._get_sandbox()
    stats, family = {}, []
    for _ in range(100):  # closed sessions are killed without waiting: let the last one go
        stats = box.stats()
        family = _live_descendants(box._proc.pid)
        if stats["runs"] == 0 and len(family) <= 3:  # the shim, pid 1 and the spare
            break
        time.sleep(0.02)
    return {
        "step": step,
        "elapsed_s": round(time.perf_counter() - start, 1),
        "rss_mb": round(_rss_kb() / 1024, 1),
        "fds": len(os.listdir("/proc/self/fd")),
        "threads": len(os.listdir("/proc/self/task")),
        "server_processes": len(family),
        "server_rss_mb": round(sum(_rss_kb(p) for p in family) / 1024, 1),
        **stats,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--backend", default="process", choices=["process", "bwrap"])
    parser.add_argument("--every", type=int, default=250)
    parser.add_argument("--warmup", type=int, default=250, help="steps before the RSS baseline")
    parser.add_argument("--rss-bound-mb", type=float, default=40.0)
    args = parser.parse_args()

    import tempfile

    from rewardgym.agents import make_agent
    from rewardgym.envs.code import CodeExecEnv

    rebuilds: list[str] = []

    class _Rebuilds(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            rebuilds.append(record.getMessage())

    logging.getLogger("rewardgym.envs.code").addHandler(_Rebuilds(logging.WARNING))
    mix = battery()
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / "soak.jsonl"
        path.write_text(json.dumps(TASK) + "\n", encoding="utf-8")
        env = CodeExecEnv(tasks_path=str(path), sandbox=args.backend, attempt_timeout_s=1.5)
        agents = {name: make_agent(f"cheater:{name.split(':', 1)[1]}", env)
                  for name, program in mix if program is None}  # fmt: skip
        samples, scored, passed_honest = [], {}, 0
        start = time.perf_counter()
        baseline = None
        try:
            for step in range(1, args.steps + 1):
                name, program = mix[(step - 1) % len(mix)]
                obs, info = env.reset(seed=step)
                action = program if program is not None else agents[name].act(obs, info)
                _, _, _, _, info = env.step(action)
                task = info["reward_components"]["task"]
                scored[name] = max(scored.get(name, 0.0), task)
                passed_honest += name == "honest" and task == 1.0
                if step == args.warmup:
                    baseline = probe(env, step, start)
                    samples.append(baseline)
                elif step % args.every == 0 or step == args.steps:
                    samples.append(probe(env, step, start))
                    print(json.dumps(samples[-1]), flush=True)
            final = samples[-1]
        finally:
            env.close()
    baseline = baseline or samples[0]
    growth = final["rss_mb"] - baseline["rss_mb"]
    cheated = sorted(n for n, v in scored.items() if v > 0 and n not in ("honest",)
                     and not n.startswith("load:"))  # fmt: skip
    honest_runs = sum(1 for i in range(args.steps) if mix[i % len(mix)][0] == "honest")
    leaks = {
        "uids": final["n_uids"] - final["free_uids"],
        "runs": final["runs"],
        "workdirs": final["workdirs"],
        "server_processes_over_baseline": final["server_processes"] - baseline["server_processes"],
        "fds_over_baseline": final["fds"] - baseline["fds"],
        "threads_over_baseline": final["threads"] - baseline["threads"],
        "sandbox_rebuilds": len(rebuilds),
    }
    result = {
        "benchmark": "sandbox soak: hostile grading steps in one code env",
        "backend": args.backend,
        "steps": args.steps,
        "programs_in_rotation": len(mix),
        "elapsed_s": round(time.perf_counter() - start, 1),
        "rss_growth_after_warmup_mb": round(growth, 1),
        "rss_bound_mb": args.rss_bound_mb,
        "leaks": leaks,
        "cheats_that_scored": cheated,
        "honest_passed": f"{passed_honest}/{honest_runs}",
        "samples": samples,
        "ok": growth <= args.rss_bound_mb and not any(leaks.values()) and not cheated
        and passed_honest == honest_runs,
    }  # fmt: skip
    out = ROOT / "runs" / "bench" / f"soak-{args.backend}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "samples"}, indent=2))
    if not result["ok"]:
        sys.exit(1)


if __name__ == "__main__":
    main()

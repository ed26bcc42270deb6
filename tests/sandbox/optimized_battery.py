"""Run the hostile battery and the cheaters in *this* interpreter; print the verdicts as JSON.

``tests/sandbox/test_optimized.py`` starts it under ``python -O`` (and ``PYTHONOPTIMIZE=2``),
where ``assert`` statements compiled with the host's flags vanish, and checks the verdicts in a
normal interpreter (pytest's own asserts would vanish under ``-O`` too, so nothing is checked
here). Not a test module: ``python -O tests/sandbox/optimized_battery.py --backend process``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CODE_TESTS = HERE.parent / "envs" / "code"
sys.path[:0] = [str(HERE), str(CODE_TESTS)]

from test_hardening import FORGED  # noqa: E402  (tests/sandbox)
from test_hardening import LIMITS as FORGED_LIMITS  # noqa: E402
from test_hardening import TESTS as FORGED_TESTS  # noqa: E402
from test_hostile import CHEATS, HOSTILE, LIMITS, TESTS  # noqa: E402

from rewardgym.sandbox import make  # noqa: E402
from rewardgym.sandbox.grading import grade  # noqa: E402


def _user_tasks_file(folder: str) -> str:
    """The code tests' user JSONL tasks, written to ``folder`` (as their fixture does)."""
    spec = importlib.util.spec_from_file_location("code_conftest", CODE_TESTS / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    path = Path(folder) / "tasks.jsonl"
    path.write_text("".join(json.dumps(t) + "\n" for t in module.USER_TASKS), encoding="utf-8")
    return str(path)


def sandbox_verdicts(backend: str, opts: dict) -> dict:
    """Every battery program's verdict on ``backend``: True where the battery's check holds."""
    out: dict = {"hostile": {}, "cheats": {}, "forged": {}}
    with make(backend, limits=LIMITS, **opts) as box:
        for name, (program, verdict) in HOSTILE.items():
            out["hostile"][name] = bool(verdict(box.run(program)))
        for name, program in CHEATS.items():
            report = grade(program, "add", TESTS, sandbox=box, call_timeout_s=2.0,
                           attempt_timeout_s=8.0)  # fmt: skip
            out["cheats"][name] = not report.all_passed
        for name, (program, _word) in FORGED.items():
            report = grade(program, "f", FORGED_TESTS, sandbox=box, limits=FORGED_LIMITS)
            out["forged"][name] = not any(report.results)
        honest = grade("def add(a, b):\n    return a + b", "add", TESTS, sandbox=box)
        out["honest_passes"] = honest.all_passed
    return out


def env_verdicts(backend: str) -> dict:
    """The task score of every cheater on the cheater tests' sample tasks, and of ``return
    None`` on every HumanEval task and every impossible task (each must be 0)."""
    from test_cheaters import SAMPLES

    from rewardgym.agents import make_agent
    from rewardgym.agents.cheaters import CHEATS as AGENT_CHEATS
    from rewardgym.envs.code import CodeExecEnv

    out: dict = {"cheaters": {}, "return_none": {}}
    with tempfile.TemporaryDirectory() as folder:
        sources = {
            "humaneval": {},
            "bank": {"source": "bank"},
            "jsonl": {"tasks_path": _user_tasks_file(folder)},
            "impossible": {"impossible": True},
        }
        for source, kwargs in sources.items():
            env = CodeExecEnv(sandbox=backend, call_timeout_s=0.25, **kwargs)
            try:
                ids = SAMPLES[source] or [t.task_id for t in env.tasks[:2]]
                for cheat in AGENT_CHEATS:
                    agent = make_agent(f"cheater:{cheat}", env)
                    total = 0.0
                    for task_id in ids:
                        obs, info = env.reset(seed=0, options={"task_id": task_id})
                        _, _, _, _, info = env.step(agent.act(obs, info))
                        total += info["reward_components"]["task"]
                    out["cheaters"][f"{cheat}/{source}"] = total
                if source in ("humaneval", "impossible"):
                    scored = 0.0
                    for task in env.tasks:
                        env.reset(seed=0, options={"task_id": task.task_id})
                        program = f"def {task.entry_point}(*args, **kwargs):\n    return None\n"
                        scored += env.step(program)[4]["reward_components"]["task"]
                    out["return_none"][source] = [scored, len(env.tasks)]
            finally:
                env.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="the hostile battery's verdicts, as JSON")
    parser.add_argument("--backend", default="process")
    parser.add_argument("--docker-url", default=None)
    parser.add_argument("--image", default=None)
    parser.add_argument("--env", action="store_true", help="also play the code envs")
    args = parser.parse_args()
    opts: dict = {}
    if args.backend == "docker":
        opts = {"base_url": args.docker_url, "image": args.image, "pool_size": 1}
    result = {"optimize": sys.flags.optimize, "debug": __debug__}
    result.update(sandbox_verdicts(args.backend, opts))
    if args.env:
        result.update(env_verdicts(args.backend))
    print(json.dumps(result))


if __name__ == "__main__":
    main()

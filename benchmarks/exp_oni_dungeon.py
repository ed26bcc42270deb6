"""Experiment (not CI): PPO with ONI's LLM-derived intrinsic reward on a sparse dungeon task.

Arms, same PPO (``rewardgym.agents.sb3.train_ppo``, the ``rewardgym train ppo`` defaults: MLP
over the ``FlattenDungeon`` window, gamma 0.95), same step budget, same seeds:

- ``extrinsic``: the task reward alone (1 for descending the stairs);
- ``oni``: ``LLMIntrinsicReward(model="hash", c_ext=10, c_llm=0.4, beta=3)`` (ONI's sparse-task
  constants) whose annotator labels the env's messages over HTTP through the project's
  OpenAI-compatible server in front of the rule-based "LLM" (answering in 50 ms); PPO never
  waits for it, unlabelled messages are worth 0;
- ``potential``: ``PotentialShaping(stairs_distance, gamma=0.95, weight=5)``;
- ``extrinsic_x10`` (control, not run by default): the task reward with every weight times 10,
  ONI's ``c_ext`` without the intrinsic term, to separate the reward scale from the LLM signal.

Each (arm, seed) writes ``OUT/<arm>-s<seed>/result.json`` (training success curve in 20
windows, evaluation of the deterministic policy on unshaped episodes, the annotator's
statistics); runs already done are skipped. ``--plot`` gathers them into ``OUT/results.json``
and draws ``docs/img/oni_dungeon.png``.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/exp_oni_dungeon.py --steps 30000`` then
``... --plot``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")

ARMS = ("extrinsic", "oni", "potential", "extrinsic_x10")


def _smooth(curve: list[tuple[int, float]], steps: int, bins: int = 20) -> list[float | None]:
    """Mean success of the episodes ending in each of ``bins`` equal step windows."""
    edges = np.linspace(0, steps, bins + 1)
    out: list[float | None] = []
    for lo, hi in itertools.pairwise(edges):
        vals = [s for t, s in curve if lo < t <= hi]
        out.append(float(np.mean(vals)) if vals else None)
    return out


def run_one(args: argparse.Namespace, arm: str, seed: int, out: Path) -> None:
    from rewardgym.agents.sb3 import PPOConfig, train_ppo
    from rewardgym.llm.http import OpenAIClient
    from rewardgym.llm.server import OpenAICompatServer
    from rewardgym.shaping import PotentialShaping, ReweightComponents
    from rewardgym.shaping.llm import Annotator, LLMIntrinsicReward, RuleBasedLLM

    run_dir = out / f"{arm}-s{seed}"
    if (run_dir / "result.json").exists():
        print(f"{run_dir}: done already", flush=True)
        return
    config = PPOConfig(gamma=args.gamma)
    server = annotator = None
    shaping: Any = None
    if arm == "oni":
        server = OpenAICompatServer(RuleBasedLLM(delay_s=0.05)).start()
        client = OpenAIClient(server.url, "rule-based-v1", timeout_s=10, max_retries=1)
        annotator = Annotator(client, "dungeon", log_every_s=3600)

        def shaping(env):
            return LLMIntrinsicReward(env, annotator, model="hash", c_ext=10.0, c_llm=0.4, beta=3)
    elif arm == "potential":

        def shaping(env):
            return PotentialShaping(env, "stairs_distance", gamma=config.gamma, weight=5.0)
    elif arm == "extrinsic_x10":

        def shaping(env):
            weights = env.unwrapped.reward_weights
            return ReweightComponents(env, {k: 10.0 * w for k, w in weights.items()})

    started = time.monotonic()
    try:
        run = train_ppo(
            args.env, args.steps, shaping=shaping, seed=seed, out_dir=run_dir, config=config,
            tensorboard=False, env_kwargs=args.env_kwargs, overwrite=True,
            eval_episodes=args.eval,
        )  # fmt: skip
    finally:
        stats = annotator.stats() if annotator is not None else None
        if annotator is not None:
            annotator.close()
        if server is not None:
            server.stop()
    result = {
        "arm": arm,
        "seed": seed,
        "steps": args.steps,
        "gamma": config.gamma,
        "wall_s": round(time.monotonic() - started, 1),
        "training": run.training,
        "evaluation": run.evaluation,
        "curve": _smooth(run.curve, args.steps),
        "annotator": stats,
    }
    (run_dir / "result.json").write_text(json.dumps(result))
    print(json.dumps({k: result[k] for k in ("arm", "seed", "wall_s", "evaluation")}), flush=True)


def plot(args: argparse.Namespace, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(out.glob("*-s*/result.json")):
        res = json.loads(path.read_text())
        results.setdefault(res["arm"], []).append(res)
    fig, ax = plt.subplots(figsize=(6.4, 4))
    summary: dict[str, Any] = {"env": args.env, "env_kwargs": args.env_kwargs, "arms": {}}
    for arm in [a for a in ARMS if a in results]:
        runs = results[arm]
        steps = runs[0]["steps"]
        curves = np.array([[np.nan if v is None else v for v in r["curve"]] for r in runs])
        xs = np.linspace(0, steps, curves.shape[1] + 1)[1:]
        mean = np.nanmean(curves, axis=0)
        ax.plot(xs, mean, label=f"{arm} ({len(runs)} seeds)")
        ax.fill_between(xs, np.nanmin(curves, axis=0), np.nanmax(curves, axis=0), alpha=0.2)
        quarter = max(curves.shape[1] // 4, 1)
        summary["arms"][arm] = {
            "seeds": [r["seed"] for r in runs],
            "steps": steps,
            "first_quarter": float(np.nanmean(curves[:, :quarter])),
            "last_quarter": float(np.nanmean(curves[:, -quarter:])),
            "final_eval": [r["evaluation"]["success_rate"] for r in runs],
            "wall_s": [r["wall_s"] for r in runs],
            "labelled": [r["annotator"]["labelled"] for r in runs if r.get("annotator")],
        }
    ax.set_xlabel("environment steps")
    ax.set_ylabel("training success per episode")
    ax.set_title(f"{args.env.split('/')[-1]} {args.env_kwargs}", fontsize=8)
    ax.legend()
    fig.tight_layout()
    Path(args.figure).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.figure, dpi=100)
    (out / "results.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary["arms"], indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--env", default="rewardgym/Dungeon-Staircase-v0")
    parser.add_argument(
        "--env-kwargs",
        type=json.loads,
        default={"height": 8, "width": 8, "room_min": 6, "room_max": 6, "max_steps": 50},
        help="JSON gym.make kwargs overriding the registered level",
    )
    parser.add_argument("--arms", default="extrinsic,oni,potential", help=f"comma list of {ARMS}")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--steps", type=int, default=30_000)
    parser.add_argument("--gamma", type=float, default=0.95)
    parser.add_argument("--eval", type=int, default=50)
    parser.add_argument("--out", default="runs/exp_oni_dungeon")
    parser.add_argument("--figure", default="docs/img/oni_dungeon.png")
    parser.add_argument("--plot", action="store_true")
    args = parser.parse_args()
    out = Path(args.out)
    if args.plot:
        plot(args, out)
        return
    for seed in [int(s) for s in args.seeds.split(",")]:
        for arm in args.arms.split(","):
            run_one(args, arm, seed, out)


if __name__ == "__main__":
    main()

"""Experiment (not CI): PPO with potential shaping vs PPO on the sparse reward alone.

Trains PPO on a harder dungeon task than the learning test's one-room level (default: the
Staircase task on a two-room 10x24 level, no monsters or traps, 150 steps) with and without
``PotentialShaping(stairs_distance, gamma=PPO's gamma, weight=W)``, 3 seeds each, records the
success of every training episode, evaluates each final model on 50 unshaped episodes, plots
success-rate curves over steps to ``runs/exp_dungeon_shaping/curves.png`` and writes
``runs/exp_dungeon_shaping/results.json``.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/exp_dungeon_shaping.py --steps 100000``.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np


def _smooth(curve: list[tuple[int, float]], steps: int, bins: int = 20) -> list[float]:
    """Mean success of the episodes ending in each of ``bins`` equal step windows."""
    edges = np.linspace(0, steps, bins + 1)
    out = []
    for lo, hi in itertools.pairwise(edges):
        vals = [s for t, s in curve if lo < t <= hi]
        out.append(float(np.mean(vals)) if vals else float("nan"))
    return out


def main() -> None:
    import torch

    from rewardgym.agents.sb3 import PPOAgent, PPOConfig, evaluate_success, train_ppo

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--env", default="rewardgym/Dungeon-Staircase-M-v0")
    parser.add_argument(
        "--env-kwargs",
        type=json.loads,
        default={
            "height": 10,
            "width": 24,
            "rooms": 2,
            "monsters": 0,
            "traps": 0,
            "max_steps": 150,
        },
        help="JSON gym.make kwargs overriding the registered level ('{}' = as registered)",
    )
    parser.add_argument(
        "--weight", type=float, default=5.0, help="weight of the potential term (scales Phi)"
    )
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = PPOConfig()
    out = Path("runs/exp_dungeon_shaping")
    arms = {
        "sparse": None,
        "potential": [
            {
                "name": "PotentialShaping",
                "potential": "stairs_distance",
                "gamma": config.gamma,
                "weight": args.weight,
            }
        ],
    }
    results: dict[str, dict[str, list]] = {}
    for arm, shaping in arms.items():
        results[arm] = {"curves": [], "final_success": []}
        for seed in range(args.seeds):
            run = train_ppo(
                args.env, args.steps, shaping=shaping, seed=seed,
                out_dir=out / f"{arm}-s{seed}", config=config, tensorboard=False,
                env_kwargs=args.env_kwargs,
            )  # fmt: skip
            results[arm]["curves"].append(_smooth(run.curve, args.steps))
            results[arm]["final_success"].append(
                evaluate_success(PPOAgent(run.out_dir), args.env, 50, env_kwargs=args.env_kwargs)
            )
    (out / "results.json").write_text(
        json.dumps({"env": args.env, "env_kwargs": args.env_kwargs, "steps": args.steps, **results})
    )
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = np.linspace(0, args.steps, 21)[1:]
    fig, ax = plt.subplots(figsize=(6, 4))
    for arm, res in results.items():
        curves = np.array(res["curves"], dtype=float)
        mean = np.nanmean(curves, axis=0)
        ax.plot(xs, mean, label=f"{arm} (final {np.mean(res['final_success']):.2f})")
        ax.fill_between(xs, np.nanmin(curves, axis=0), np.nanmax(curves, axis=0), alpha=0.2)
    ax.set_xlabel("environment steps")
    ax.set_ylabel("training success rate")
    ax.set_title(f"PPO on {args.env.split('/')[-1]}: {args.seeds} seeds")
    ax.legend()
    fig.savefig(out / "curves.png", dpi=120, bbox_inches="tight")
    print(json.dumps({arm: res["final_success"] for arm, res in results.items()}))


if __name__ == "__main__":
    main()

"""Experiment (not CI): does potential shaping make PPO solve a sparse dungeon task sooner?

Arms (every potential term on PPO's own discount, so each keeps the optimal policy):

- ``sparse``: the task reward alone (1 for descending the stairs);
- ``potential``: ``PotentialShaping`` with the env's ``stairs_distance``, Phi = -d / (h + w) <= 0
  (the ``potential-stairs`` recipe): with gamma < 1 a step that stays put is *paid*
  ``(1 - gamma) * |Phi|``, the more the farther from the stairs;
- ``offset``: the same potential shifted up by the largest distance in the room,
  Phi = c - d / (h + w) with c = (max(h, w) - 3) / (h + w) (so Phi >= 0 on the level): staying
  put now *costs* ``(1 - gamma) * Phi``, approaching still pays, and the terminal step pays
  ``-weight * c`` against the task's +1 (``--offset-weight``, default 2, keeps it positive);
- ``value``: Phi = gamma ** d, the optimal value itself (Ng et al.'s best case: every step of a
  shortest path gets shaped reward 0, every other step less).

Each (arm, seed) trains ``rewardgym.agents.sb3.train_ppo`` (``--policy cnn``: the
``GlyphCNN`` features extractor over the glyph window) into ``OUT/<arm>-s<seed>`` and writes its
``result.json`` there (training success curve, evaluation of the deterministic policy on
``--eval`` unshaped episodes); runs already done are skipped, so arms can run in separate
processes. ``--plot`` gathers every result into ``OUT/results.json`` and draws the success
curves (mean and min-max over seeds) to ``OUT/curves.png`` (``--compare DIR ...``: one more panel
per folder, e.g. the same arms with ``--policy mlp``).

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/exp_dungeon_shaping.py --arms sparse,offset
--steps 40000 --policy cnn`` then ``... --plot``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

ARMS = ("sparse", "potential", "offset", "value")


class StairsPotential:
    """A potential built from the env's ``stairs_distance`` (Phi0 = -d / (h + w)).

    ``kind``: ``"linear"`` gives ``offset + Phi0`` (``offset < 0``: the least shift that keeps
    it >= 0 in a room); ``"value"`` gives ``gamma ** d``.
    """

    def __init__(self, env: Any, kind: str, offset: float = 0.0, gamma: float = 0.95) -> None:
        self.env = env
        self.kind = kind
        cfg = env.unwrapped.level_config
        if offset < 0:  # "auto": the least shift that keeps Phi >= 0 inside one room of the map
            offset = (max(cfg.height, cfg.width) - 3) / (cfg.height + cfg.width)
        self.offset = offset
        self.gamma = gamma
        self.base = env.unwrapped.named_potentials()["stairs_distance"]
        self.__qualname__ = repr(self)

    def __repr__(self) -> str:
        if self.kind == "value":
            return f"gamma**stairs_distance(gamma={self.gamma})"
        return f"stairs_distance{self.offset:+.3f}"

    def __call__(self, obs: Any, info: Any) -> float:
        phi0 = self.base(obs, info)
        if self.kind == "value":
            cfg = self.env.unwrapped.level_config
            return self.gamma ** (-phi0 * (cfg.height + cfg.width))
        return self.offset + phi0


def shaping_for(arm: str, gamma: float, weight: float, offset_weight: float = 2.0) -> Any:
    """The ``shaping`` argument of ``train_ppo`` for ``arm`` (a wrapper factory or None)."""
    from rewardgym.shaping import PotentialShaping

    if arm == "sparse":
        return None
    if arm == "potential":
        return lambda env: PotentialShaping(env, "stairs_distance", gamma=gamma, weight=weight)
    if arm == "offset":
        return lambda env: PotentialShaping(
            env, StairsPotential(env, "linear", offset=-1.0), gamma=gamma, weight=offset_weight
        )
    if arm == "value":
        return lambda env: PotentialShaping(
            env, StairsPotential(env, "value", gamma=gamma), gamma=gamma, weight=1.0
        )
    raise SystemExit(f"unknown arm {arm!r}; valid: {ARMS}")


def _smooth(curve: list[tuple[int, float]], steps: int, bins: int = 20) -> list[float]:
    """Mean success of the episodes ending in each of ``bins`` equal step windows."""
    edges = np.linspace(0, steps, bins + 1)
    out = []
    for lo, hi in itertools.pairwise(edges):
        vals = [s for t, s in curve if lo < t <= hi]
        out.append(float(np.mean(vals)) if vals else float("nan"))
    return out


def run_one(args: argparse.Namespace, arm: str, seed: int, out: Path) -> None:
    from rewardgym.agents.sb3 import PPOConfig, train_ppo

    run_dir = out / f"{arm}-s{seed}"
    if (run_dir / "result.json").exists():
        print(f"{run_dir}: done already", flush=True)
        return
    config = PPOConfig(policy=args.policy, gamma=args.gamma)
    started = time.monotonic()
    shaping = shaping_for(arm, config.gamma, args.weight, args.offset_weight)
    run = train_ppo(
        args.env, args.steps, shaping=shaping, seed=seed,
        out_dir=run_dir, config=config, tensorboard=False, env_kwargs=args.env_kwargs,
        overwrite=True, eval_episodes=args.eval,
    )  # fmt: skip
    result = {
        "arm": arm,
        "seed": seed,
        "steps": args.steps,
        "policy": args.policy,
        "gamma": config.gamma,
        "weight": {"potential": args.weight, "offset": args.offset_weight}.get(arm, 1.0),
        "wall_s": round(time.monotonic() - started, 1),
        "training": run.training,
        "evaluation": run.evaluation,
        "curve": _smooth(run.curve, args.steps),
    }
    (run_dir / "result.json").write_text(json.dumps(result))
    print(json.dumps({k: result[k] for k in ("arm", "seed", "wall_s", "evaluation")}), flush=True)


def _first_above(xs: np.ndarray, curve: np.ndarray, level: float) -> int | None:
    """End of the first step window whose training success reaches ``level`` (None: never)."""
    hits = np.flatnonzero(np.nan_to_num(curve) >= level)
    return int(xs[hits[0]]) if hits.size else None


def _gather(out: Path) -> dict[str, list[dict[str, Any]]]:
    results: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(out.glob("*-s*/result.json")):
        res = json.loads(path.read_text())
        results.setdefault(res["arm"], []).append(res)
    return results


def plot(args: argparse.Namespace, out: Path) -> None:
    """Gather ``out`` (and each ``--compare`` folder, one panel each) into results and curves."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folders = [out, *(Path(p) for p in args.compare)]
    fig, axes = plt.subplots(
        1, len(folders), figsize=(6.4 * len(folders), 4), sharey=True, squeeze=False
    )
    summary: dict[str, Any] = {"env": args.env, "env_kwargs": args.env_kwargs}
    for folder, ax in zip(folders, axes[0]):
        results = _gather(folder)
        arms: dict[str, Any] = {}
        policy = "?"
        for arm in [a for a in ARMS if a in results]:
            runs = results[arm]
            policy = runs[0]["policy"]
            steps = runs[0]["steps"]
            curves = np.array([r["curve"] for r in runs], dtype=float)
            finals = [r["evaluation"]["success_rate"] for r in runs]
            xs = np.linspace(0, steps, curves.shape[1] + 1)[1:]
            label = f"{arm} (eval {np.mean(finals):.2f}, {len(runs)} seeds)"
            ax.plot(xs, np.nanmean(curves, axis=0), label=label, color=f"C{ARMS.index(arm)}")
            ax.fill_between(
                xs, np.nanmin(curves, axis=0), np.nanmax(curves, axis=0), alpha=0.2,
                color=f"C{ARMS.index(arm)}",
            )  # fmt: skip
            arms[arm] = {
                "seeds": [r["seed"] for r in runs],
                "steps": steps,
                "eval_success": finals,
                "train_first_quarter": [float(np.nanmean(c[: len(c) // 4])) for c in curves],
                "train_last_quarter": [float(np.nanmean(c[-len(c) // 4 :])) for c in curves],
                "steps_to_half": [_first_above(xs, c, 0.5) for c in curves],
                "wall_s": [r["wall_s"] for r in runs],
            }
        summary[str(folder)] = {"policy": policy, "arms": arms}
        ax.set_xlabel("environment steps")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(f"PPO, {policy} policy", fontsize=9)
        ax.legend(fontsize=8, loc="center right")
    axes[0][0].set_ylabel("training success rate (sampled actions)")
    fig.suptitle(f"{args.env.split('/')[-1]} {args.env_kwargs}", fontsize=8)
    fig.savefig(out / "curves.png", dpi=110, bbox_inches="tight")
    (out / "results.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--env", default="rewardgym/Dungeon-Staircase-v0")
    parser.add_argument(
        "--env-kwargs",
        type=json.loads,
        default={"height": 8, "width": 8, "room_min": 6, "room_max": 6, "max_steps": 50},
        help="JSON gym.make kwargs overriding the registered level ('{}' = as registered)",
    )
    parser.add_argument("--arms", default="sparse,offset", help=f"comma list of {ARMS}")
    parser.add_argument("--weight", type=float, default=5.0, help="weight of the 'potential' arm")
    parser.add_argument("--offset-weight", type=float, default=2.0, help="weight of 'offset'")
    parser.add_argument("--steps", type=int, default=30_000)
    parser.add_argument("--seeds", default="0,1,2", help="comma list of seeds")
    parser.add_argument("--policy", default="cnn", choices=("mlp", "cnn"))
    parser.add_argument("--gamma", type=float, default=0.95)
    parser.add_argument("--eval", type=int, default=50, help="unshaped evaluation episodes")
    parser.add_argument("--out", default="runs/exp_dungeon_shaping")
    parser.add_argument("--plot", action="store_true", help="gather the results and plot")
    parser.add_argument(
        "--compare", nargs="*", default=[], help="with --plot: more result folders, one panel each"
    )
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    out = Path(args.out)
    if args.plot:
        plot(args, out)
        return
    for arm in args.arms.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            run_one(args, arm, seed, out)


if __name__ == "__main__":
    main()

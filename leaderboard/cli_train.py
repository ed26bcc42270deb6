"""``rewardgym train``: train agents on rewardgym envs (PPO through Stable-Baselines3)."""

from __future__ import annotations

import json

import typer
from rich.console import Console

from rewardgym.errors import RewardGymError

app = typer.Typer(help="Train agents on rewardgym envs.", no_args_is_help=True)
console = Console()


@app.command("ppo")
def ppo(
    env: str = typer.Option(..., "--env", help="Env id, e.g. rewardgym/Dungeon-Staircase-v0."),
    steps: int = typer.Option(50_000, "--steps", help="Environment steps to train."),
    shaping: str | None = typer.Option(
        None, "--shaping", help="Shaping recipe name or YAML path (e.g. potential-stairs)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of PPO, torch and the env."),
    out: str | None = typer.Option(
        None, "--out", help="Output folder (default runs/ppo/<env name>-s<seed>)."
    ),
    eval_episodes: int = typer.Option(
        50, "--eval-episodes", help="Unshaped episodes to evaluate the saved model on (0: skip)."
    ),
) -> None:
    """Train PPO, save the model (evaluate it later with `rewardgym bench --agent ppo:OUT`)."""
    from rewardgym.agents.sb3 import PPOAgent, evaluate_success, train_ppo

    out_dir = out or f"runs/ppo/{env.split('/')[-1]}-s{seed}"
    try:
        with console.status(f"training PPO on {env} for {steps} steps"):
            result = train_ppo(env, steps, shaping=shaping, seed=seed, out_dir=out_dir)
        summary = {"model": result.model_path, "episodes": len(result.curve)}
        if eval_episodes > 0:
            summary["success_rate"] = evaluate_success(PPOAgent(result.out_dir), env, eval_episodes)
    except RewardGymError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    console.print_json(json.dumps(summary))
    console.print(f"tensorboard logs: {result.out_dir}/tb")

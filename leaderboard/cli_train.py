"""``rewardgym train``: train agents on rewardgym envs (PPO through Stable-Baselines3).

``train ppo`` checks everything before the first step (env id, seed, output folder, shaping),
never replaces an earlier model without ``--force``, shows progress on a terminal (a bar) and
when piped (a line every tenth of the run or 30 s), and prints the training figures (shaped
reward, sampled actions) apart from the evaluation figures (unshaped env, deterministic policy),
which ``meta.json`` keeps too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console

from rewardgym.errors import RewardGymError

app = typer.Typer(help="Train agents on rewardgym envs.", no_args_is_help=True)
console = Console()

#: A piped run prints a progress line at least this often (and every tenth of the steps).
PIPED_EVERY_S = 30.0


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def progress_line(p: Any) -> str:
    """One line for a :class:`~rewardgym.agents.sb3.TrainProgress` (steps, episodes, ETA)."""
    share = p.steps / max(p.total_steps, 1)
    rate = "-" if p.recent_success is None else f"{p.recent_success:.2f}"
    return (
        f"steps {p.steps}/{p.total_steps} ({share:.0%})  episodes {p.episodes}  "
        f"success (last 100) {rate}  elapsed {_duration(p.elapsed_s)}  ETA {_duration(p.eta_s)}"
    )


class _PipedProgress:
    """Prints :func:`progress_line` every tenth of the run, every 30 s and at the end."""

    def __init__(self, every_s: float = PIPED_EVERY_S) -> None:
        self.every_s = every_s
        self.last_share = 0.0
        self.last_steps = -1
        self.last_time = time.monotonic()

    def __call__(self, p: Any) -> None:
        share = p.steps / max(p.total_steps, 1)
        now = time.monotonic()
        if p.steps == self.last_steps:
            return
        if share >= 1.0 or share - self.last_share >= 0.1 or now - self.last_time >= self.every_s:
            self.last_share, self.last_steps, self.last_time = share, p.steps, now
            console.print(progress_line(p), highlight=False, soft_wrap=True)


def _train_with_progress(run: Callable[[Callable[[Any], None]], Any], label: str) -> Any:
    """Call ``run(progress_callback)`` with a bar on a terminal, plain lines otherwise."""
    if not console.is_terminal:
        console.print(label, highlight=False, soft_wrap=True)
        return run(_PipedProgress())
    from rich.progress import BarColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[line]}"),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task(label, total=None, line="starting")

        def update(p: Any) -> None:
            bar.update(task, total=p.total_steps, completed=p.steps, line=progress_line(p))

        return run(update)


@app.command("ppo")
def ppo(
    env: str = typer.Option(
        ..., "--env", help="Dungeon env id, e.g. rewardgym/Dungeon-Staircase-v0."
    ),
    steps: int = typer.Option(50_000, "--steps", min=1, help="Environment steps to train."),
    shaping: str | None = typer.Option(
        None,
        "--shaping",
        help="Shaping recipe name or YAML path (e.g. potential-stairs); a potential term uses "
        "PPO's --gamma.",
    ),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of PPO, torch and the env."),
    out: str | None = typer.Option(
        None,
        "--out",
        help="Output folder (default runs/ppo/<env name>-<shaping>-<steps>-s<seed>).",
    ),
    force: bool = typer.Option(
        False, "--force", help="Replace the model already in the output folder."
    ),
    gamma: float = typer.Option(
        0.95, "--gamma", min=0.0, max=1.0, help="PPO's discount (and the shaping potential's)."
    ),
    policy: str = typer.Option(
        "mlp", "--policy", help="'mlp' over the flat glyph window, or 'cnn' over the glyphs."
    ),
    eval_episodes: int = typer.Option(
        50,
        "--eval-episodes",
        min=0,
        help="Unshaped episodes to evaluate the saved model on (0: skip); kept in meta.json.",
    ),
) -> None:
    """Train PPO on a dungeon env and save the model; score it later with
    `rewardgym bench --agents ppo:OUT --envs ENV`."""
    from rewardgym.agents.sb3 import PPOConfig, train_ppo

    try:
        config = PPOConfig(gamma=gamma, policy=policy)
        result = _train_with_progress(
            lambda progress: train_ppo(
                env,
                steps,
                shaping=shaping,
                seed=seed,
                out_dir=out,
                config=config,
                overwrite=force,
                eval_episodes=eval_episodes,
                progress=progress,
            ),
            f"training PPO on {env} for {steps} steps",
        )
    except RewardGymError as exc:
        console.print(f"[red]error:[/] {exc}", soft_wrap=True)
        raise typer.Exit(2) from None
    except OSError as exc:
        console.print(f"[red]error:[/] could not write the run: {exc}")
        raise typer.Exit(1) from None
    summary = {
        "model": result.model_path,
        "training": result.training,
        "evaluation": result.evaluation,
    }
    console.print_json(json.dumps(summary))
    console.print(f"tensorboard logs: {result.out_dir}/tb", highlight=False, soft_wrap=True)
    console.print(
        f"score it: rewardgym bench --agents ppo:{result.out_dir} --envs {env}",
        highlight=False,
        soft_wrap=True,
    )

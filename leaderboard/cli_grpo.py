"""``rewardgym train grpo``: train a language policy on a text env with GRPO.

Everything is checked before a model loads (the config file, its fields, the env, the
transform, the model path). A run resumes from its newest checkpoint by default; ``--no-resume``
refuses to touch an earlier run unless ``--force`` is given. Progress shows on a terminal as a
bar and, when piped, as one line per update.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import typer
from rich.console import Console

from rewardgym.errors import RewardGymError

__all__ = ["grpo"]

console = Console()


def grpo(
    config: str = typer.Option(..., "--config", "-c", help="YAML file of a GRPOConfig."),
    out: str | None = typer.Option(None, "--out", help="Output folder (overrides out_dir)."),
    steps: int | None = typer.Option(None, "--steps", help="Updates in the whole run.", min=1),
    resume: bool = typer.Option(
        True, "--resume/--no-resume", help="Continue from the newest checkpoint in the folder."
    ),
    force: bool = typer.Option(
        False, "--force", help="With --no-resume: delete an earlier run in the folder."
    ),
) -> None:
    """Train a causal LM on a rewardgym text env (multi-turn GRPO; see docs/training.md)."""
    from rewardgym.agents.grpo import GRPOTrainer, load_config

    try:
        cfg = load_config(config, out_dir=out, steps=steps)
        trainer = GRPOTrainer(cfg, resume=resume, force=force)
    except RewardGymError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    start_step = trainer.step
    if start_step >= cfg.steps:
        console.print(f"{cfg.out_dir}: already trained for {start_step} updates; nothing to do")
        trainer.close()
        return
    console.print(
        f"GRPO on {cfg.env_id}: model {cfg.model}, G={cfg.group_size}, "
        f"{cfg.tasks_per_step} tasks/update, transform {cfg.transform.get('name') or 'recipe ' + cfg.transform['recipe']}, "
        f"updates {start_step}->{cfg.steps}, out {cfg.out_dir}"
    )
    t0 = time.perf_counter()

    def line(step: int, m: dict[str, Any]) -> str:
        done = step - start_step
        eta = (time.perf_counter() - t0) / done * (cfg.steps - step)
        return (
            f"update {step}/{cfg.steps}: task {m.get('reward/task', 0.0):.3f}, "
            f"success {m['episode/success_rate']:.2f}, loss {m['loss/policy']:.4f}, "
            f"kl {m['kl']:.4f}, {m['throughput/tokens_per_s']:.0f} tok/s, ETA {eta:.0f}s"
        )

    try:
        if sys.stdout.isatty():
            from rich.progress import Progress

            with Progress(console=console, transient=False) as bar:
                task = bar.add_task("GRPO", total=cfg.steps, completed=start_step)
                trainer.fit(lambda s, m: bar.update(task, completed=s, description=line(s, m)))
        else:
            trainer.fit(lambda s, m: print(line(s, m), flush=True))
    except KeyboardInterrupt:
        console.print("interrupted: rerun the same command to resume from the last checkpoint")
        raise typer.Exit(130) from None
    finally:
        trainer.close()
    console.print(
        f"done: {cfg.steps} updates; model in {cfg.out_dir}/model "
        f"(bench it with --agents llm-local:{cfg.out_dir}/model)"
    )

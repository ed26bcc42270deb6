"""``rewardgym gui``: build the offline GUI trajectory dataset (JSONL + PNG frames)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="GUI family tools: the offline expert-trajectory dataset.")
console = Console()
err_console = Console(stderr=True, soft_wrap=True)


@app.command("build-dataset")
def build_dataset_command(
    out: Annotated[
        Path | None,
        typer.Option(help="Output directory (default: a cache directory named after the request)."),
    ] = None,
    instances: int = typer.Option(5, min=1, help="Seeds per task template."),
    template: Annotated[
        list[str] | None,
        typer.Option("--template", help="Only this template (repeatable); default all."),
    ] = None,
    width: int = typer.Option(540, min=54, help="Screenshot width in pixels."),
    height: int = typer.Option(1200, min=120, help="Screenshot height in pixels."),
    force: bool = typer.Option(False, help="Rebuild even if a matching dataset exists."),
) -> None:
    """Record the scripted experts on every task instance and write trajectories.jsonl + images/."""
    from rewardgym.envs.gui.dataset import build_dataset, load_dataset
    from rewardgym.envs.gui.tasks import TEMPLATES

    unknown = [t for t in template or [] if t not in TEMPLATES]
    if unknown:
        err_console.print(f"[red]error:[/] unknown templates {unknown}; known: {sorted(TEMPLATES)}")
        raise typer.Exit(2)
    path = build_dataset(
        out, templates=template or None, instances=instances, size=(width, height), force=force
    )
    trajectories, _ = load_dataset(path)
    steps = sum(len(t.steps) for t in trajectories)
    console.print(f"{len(trajectories)} trajectories, {steps} steps in {path}")

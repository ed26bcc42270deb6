"""Expert trajectories of the phone tasks: recorded from the live simulator, kept in memory or on disk.

:func:`record_trajectory` runs a task's scripted expert on a fresh phone and keeps, for every
step, the screen the expert saw (an RGB frame and the accessibility text), the expert's action
and thought, and the candidate boxes of its target. :func:`build_dataset` writes many of them as
JSONL plus one PNG per frame, the layout offline GUI datasets use; it is deterministic and
cached (a directory whose manifest matches the request is reused). :func:`load_dataset` reads
it back, decoding frames only when a step is shown.

On disk, a swipe is stored the way datasets such as AndroidControl store it, as the direction
the content *scrolls* (``{"action": "scroll", "direction": "down"}`` for a finger swiping up);
reading flips it back (:func:`~rewardgym.envs.gui.matching.finger_direction`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rewardgym.envs.gui.actions import GuiAction, build_action
from rewardgym.envs.gui.expert import expert_step
from rewardgym.envs.gui.matching import finger_direction, scroll_direction
from rewardgym.envs.gui.tasks import TEMPLATES, make_task, parse_task_id
from rewardgym.envs.gui.widgets import DEVICE_HEIGHT, DEVICE_WIDTH

__all__ = [
    "DATASET_VERSION",
    "GoldStep",
    "Trajectory",
    "build_dataset",
    "default_cache_dir",
    "load_dataset",
    "record_trajectory",
    "task_ids",
]

log = logging.getLogger("rewardgym.envs.gui.dataset")

#: Bumped when the simulator, the tasks or the file layout change what a dataset holds.
DATASET_VERSION = 1
MAX_EXPERT_STEPS = 40


@dataclass
class GoldStep:
    """One expert step: what was on screen, what the expert did, and where it aimed."""

    action: GuiAction
    boxes: list[tuple[int, int, int, int]]
    a11y: str
    frame_array: np.ndarray | None = None
    frame_path: Path | None = None
    size: tuple[int, int] | None = None

    def frame(self) -> np.ndarray | None:
        """The screenshot as an RGB array (decoded from its PNG when the dataset is on disk)."""
        if self.frame_array is not None:
            return self.frame_array
        if self.frame_path is None:
            return None
        from PIL import Image

        with Image.open(self.frame_path) as image:
            return np.asarray(image.convert("RGB"), dtype=np.uint8)


@dataclass
class Trajectory:
    """A task instance solved by the expert, step by step."""

    task_id: str
    goal: str
    steps: list[GoldStep] = field(default_factory=list)
    answer: str | None = None


def task_ids(templates: Iterable[str] | None = None, instances: int = 5) -> list[str]:
    """``"<template>#<seed>"`` for every template (all by default) and seeds ``0..instances-1``."""
    names = list(templates) if templates is not None else list(TEMPLATES)
    return [f"{name}#{seed}" for name in names for seed in range(instances)]


def record_trajectory(task_id: str, size: tuple[int, int] | None = (540, 1200)) -> Trajectory:
    """Run the expert on task ``task_id`` and record it (``size=None``: no screenshots).

    Raises:
        RuntimeError: if the expert does not solve the task (a bug in a template).
    """
    name, seed = parse_task_id(task_id)
    phone, spec = make_task(name, seed)
    trajectory = Trajectory(task_id, spec.goal, answer=spec.answer)
    index = 0
    for _ in range(MAX_EXPERT_STEPS):
        step = expert_step(phone, spec.plan[index])
        frame = phone.screenshot(*size) if size is not None else None
        trajectory.steps.append(
            GoldStep(step.action, [step.box] if step.box else [], phone.a11y(), frame, size=size)
        )
        if step.action.type == "terminate":
            if not spec.check(phone):
                raise RuntimeError(f"the expert of {task_id} terminated without solving it")
            return trajectory
        phone.perform(step.action)
        index += step.advances
    raise RuntimeError(f"the expert of {task_id} did not finish in {MAX_EXPERT_STEPS} steps")


# -- on disk ------------------------------------------------------------------------------------


def action_record(action: GuiAction) -> dict[str, Any]:
    """An action as a dataset record (swipes as the scroll direction)."""
    args = action.arguments()
    if action.type == "swipe":
        return {"action": "scroll", "direction": scroll_direction(action.direction or "up")}
    return args


def action_from_record(record: dict[str, Any], thought: str = "") -> GuiAction:
    """The inverse of :func:`action_record`."""
    record = dict(record)
    if record.get("action") == "scroll":
        record = {"action": "swipe", "direction": finger_direction(record["direction"])}
    return build_action(
        record, thought=thought, width=DEVICE_WIDTH, height=DEVICE_HEIGHT, max_text=10_000
    )


def default_cache_dir() -> Path:
    """``$REWARDGYM_CACHE`` (or ``~/.cache/rewardgym``) ``/gui``."""
    root = os.environ.get("REWARDGYM_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "rewardgym"
    )
    return Path(root) / "gui"


def _manifest(ids: Sequence[str], size: tuple[int, int]) -> dict[str, Any]:
    digest = hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]
    return {"version": DATASET_VERSION, "screen": [DEVICE_WIDTH, DEVICE_HEIGHT],
            "screenshot": list(size), "count": len(ids), "tasks_digest": digest}  # fmt: skip


def _slug(task_id: str) -> str:
    return task_id.replace("#", "_").replace(".", "_")


def build_dataset(
    out: str | os.PathLike[str] | None = None,
    *,
    templates: Iterable[str] | None = None,
    instances: int = 5,
    size: tuple[int, int] = (540, 1200),
    force: bool = False,
) -> Path:
    """Write the expert trajectories as ``trajectories.jsonl`` + ``images/`` under ``out``.

    ``out`` defaults to a directory of :func:`default_cache_dir` named after the request. A
    directory whose ``manifest.json`` matches the request is reused unless ``force``. The
    output is byte-for-byte deterministic. Returns the directory.
    """
    from PIL import Image

    ids = task_ids(templates, instances)
    manifest = _manifest(ids, size)
    if out is None:
        out = (
            default_cache_dir()
            / f"v{DATASET_VERSION}-{manifest['tasks_digest']}-{size[0]}x{size[1]}"
        )
    out = Path(out)
    manifest_path = out / "manifest.json"
    if not force and manifest_path.exists():
        try:
            if json.loads(manifest_path.read_text()) == manifest:
                log.info("GUI dataset at %s is up to date (%d trajectories)", out, len(ids))
                return out
        except (OSError, json.JSONDecodeError):
            pass
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".gui-dataset-", dir=out.parent))
    try:
        lines = []
        for task_id in ids:
            trajectory = record_trajectory(task_id, size)
            steps = []
            for t, step in enumerate(trajectory.steps):
                rel = f"images/{_slug(task_id)}/{t:02d}.png"
                (staging / rel).parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(step.frame_array).save(
                    staging / rel, format="PNG", compress_level=6
                )
                steps.append({"image": rel, "a11y": step.a11y, "action": action_record(step.action),
                              "thought": step.action.thought, "boxes": [list(b) for b in step.boxes]})  # fmt: skip
            lines.append(json.dumps({"task_id": task_id, "goal": trajectory.goal,
                                     "answer": trajectory.answer, "steps": steps}, ensure_ascii=False))  # fmt: skip
        (staging / "trajectories.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    log.info("wrote %d GUI trajectories to %s", len(ids), out)
    return out


def load_dataset(path: str | os.PathLike[str]) -> tuple[list[Trajectory], tuple[int, int]]:
    """Read a dataset written by :func:`build_dataset`: the trajectories and the frame size.

    Raises:
        FileNotFoundError: if ``path`` holds no ``trajectories.jsonl``/``manifest.json``.
    """
    root = Path(path)
    manifest = json.loads((root / "manifest.json").read_text())
    size = (int(manifest["screenshot"][0]), int(manifest["screenshot"][1]))
    trajectories = []
    with open(root / "trajectories.jsonl", encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            row = json.loads(line)
            steps = [
                GoldStep(action_from_record(s["action"], s.get("thought", "")),
                         [tuple(int(v) for v in b) for b in s.get("boxes", [])], s["a11y"],
                         frame_path=root / s["image"], size=size)
                for s in row["steps"]
            ]  # fmt: skip
            trajectories.append(Trajectory(row["task_id"], row["goal"], steps, row.get("answer")))
    return trajectories, size

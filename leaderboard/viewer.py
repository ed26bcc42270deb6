"""The leaderboard page's episode viewer: stored step records played back as frames.

Episodes benched with ``--record-steps`` keep every action. :func:`viewer_episodes` picks a few
of them per (agent, env) — a solved one and a failed one where there are both — and replays
their actions in a fresh env (same seed, ``render_mode="ansi"`` where the env has it) to get
what the agent saw at each step: the dungeon map for a dungeon episode, the task and the
grader's feedback for a code attempt. A replay whose ``task`` rewards differ from the stored
ones stops there and says so (an env that is not deterministic for a seed and actions).
:func:`render_viewer` turns them into one HTML ``<section>`` with a step slider (inline
JavaScript, nothing fetched).
"""

from __future__ import annotations

import html
import json
import logging
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import Any

from rewardgym.records import EpisodeRecord

__all__ = ["render_viewer", "replay_episode", "viewer_episodes"]

log = logging.getLogger("rewardgym.leaderboard.viewer")

#: At most this many characters of one frame (an observation can be long).
MAX_FRAME_CHARS = 6000


def _text(value: Any, limit: int = MAX_FRAME_CHARS) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, Mapping):
        text = "\n\n".join(f"[{k}]\n{_text(v, limit)}" for k, v in value.items())
    else:
        try:
            import numpy as np

            if isinstance(value, np.ndarray):
                return f"array shape={value.shape} dtype={value.dtype}"
        except ImportError:  # pragma: no cover
            pass
        text = repr(value)
    if len(text) > limit:
        text = text[:limit] + f"\n... [{len(text) - limit} characters cut]"
    return text


def _frame(env: Any, obs: Any, ansi: bool) -> str:
    if ansi:
        try:
            out = env.render()
            if isinstance(out, str):
                return _text(out)
        except Exception as exc:  # a broken renderer: show the observation instead
            log.debug("render failed during replay: %s", exc)
    return _text(obs)


def _make(env_id: str) -> tuple[Any, bool]:
    """``gym.make(env_id)``, with ``render_mode="ansi"`` when the env offers it."""
    import gymnasium as gym

    env = gym.make(env_id)
    if "ansi" not in env.unwrapped.metadata.get("render_modes", []):
        return env, False
    env.close()
    return gym.make(env_id, render_mode="ansi"), True


def collapse_repeated_head(previous: str, frame: str, *, min_chars: int = 200) -> str:
    """``frame`` with the lines it shares with ``previous`` at its start folded into one note.

    A text env repeats its task in every observation and appends the news (a code grader's
    feedback comes after the problem statement): folding the repeated head puts the news at
    the top. Frames that differ early (a dungeon map) are returned as they are.
    """
    cut = 0
    for old, new in zip(previous.splitlines(keepends=True), frame.splitlines(keepends=True)):
        if old != new:
            break
        cut += len(new)
    if cut < min_chars or cut < len(frame) // 2:
        return frame
    lines = frame[:cut].count("\n")
    return f"[... {lines} lines as in the previous frame ...]\n" + frame[cut:]


def replay_episode(record: EpisodeRecord) -> dict[str, Any]:
    """Replay ``record``'s actions on a fresh env with its seed; one frame per step.

    Returns:
        ``{"frames": [initial, after step 1, ...], "diverged": reason or None}``; the frames
        are text (the ``ansi`` render where the env has one, else the observation).
    """
    env, ansi = _make(record.env_id)
    frames: list[str] = []
    diverged = None
    try:
        obs, _ = env.reset(seed=record.seed)
        frames.append(_frame(env, obs, ansi))
        for step in record.steps:
            obs, _, terminated, truncated, info = env.step(step.action)
            frames.append(_frame(env, obs, ansi))
            got = float(info.get("reward_components", {}).get("task", 0.0))
            want = float(step.reward_components.get("task", 0.0))
            if not math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12):
                diverged = (
                    f"the replay's task reward at step {step.step} is {got:g}, the stored "
                    f"one {want:g}: the frames after it may not be what the agent saw"
                )
                break
            if (terminated or truncated) and step is not record.steps[-1]:
                diverged = f"the replay ended at step {step.step}, the stored episode did not"
                break
    finally:
        env.close()
    return {"frames": frames, "diverged": diverged}


def _pick(rows: Sequence[Mapping[str, Any]], recorded: set[tuple[Any, ...]], per_pair: int):
    by_pair: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for r in rows:
        key = (
            r["agent"],
            r["env_id"],
            r["env_version"],
            r["seed"],
            r["episode_index"],
            r["recipe"],
        )
        if key in recorded:
            by_pair[(r["agent"], r["env_id"])].append(r)
    for pair in sorted(by_pair):
        eps = by_pair[pair]
        solved = [r for r in eps if r["success"]]
        failed = [r for r in eps if not r["success"]]
        chosen: list[Mapping[str, Any]] = []
        for group in (solved, failed):  # one of each first, then whatever is left
            if group and len(chosen) < per_pair:
                chosen.append(group[0])
        chosen += [r for r in eps if r not in chosen][: per_pair - len(chosen)]
        yield from chosen


def viewer_episodes(
    store: Any, rows: Sequence[Mapping[str, Any]], *, per_pair: int = 2, max_total: int = 30
) -> list[dict[str, Any]]:
    """The episodes the page shows, replayed (see the module docstring).

    Args:
        store: the open ``ResultsStore`` the rows came from.
        rows: ``store.rows(...)``.
        per_pair: episodes per (agent, env), a solved and a failed one first.
        max_total: episodes in all.
    """
    from rewardgym.leaderboard.store import EpisodeKey

    recorded = store.recorded_keys()
    if not recorded:
        return []
    out: list[dict[str, Any]] = []
    for row in _pick(rows, recorded, per_pair):
        if len(out) >= max_total:
            break
        key = EpisodeKey(
            row["agent"], row["env_id"], row["env_version"], row["seed"], row["episode_index"],
            row["recipe"],
        )  # fmt: skip
        record = EpisodeRecord.from_json(store.record_json(key))
        try:
            replay = replay_episode(record)
        except Exception as exc:  # the env cannot be made here: show the steps without frames
            log.warning("cannot replay %s: %s", key, exc)
            replay = {"frames": [], "diverged": f"not replayed here ({type(exc).__name__}: {exc})"}
        frames = replay["frames"]
        frames = frames[:1] + [
            collapse_repeated_head(before, after) for before, after in pairwise(frames)
        ]
        steps = [
            {
                "step": s.step,
                "action": _text(s.action, 4000),
                "reward": s.reward,
                "components": s.reward_components,
                "invalid": s.invalid_action,
            }
            for s in record.steps
        ]
        out.append(
            {
                "agent": row["agent"],
                "env_id": row["env_id"],
                "seed": row["seed"],
                "episode_index": row["episode_index"],
                "task_id": row["task_id"],
                "success": row["success"],
                "task_return": row["task_return"],
                "steps": steps,
                "frames": frames,
                "diverged": replay["diverged"],
            }
        )
    return out


_VIEWER_JS = """
(function () {
  for (const box of document.querySelectorAll('.episode')) {
    const data = JSON.parse(box.querySelector('script.episode-data').textContent);
    const slider = box.querySelector('input.step');
    const frame = box.querySelector('pre.frame');
    const action = box.querySelector('pre.action');
    const meta = box.querySelector('.stepinfo');
    const show = function (i) {
      slider.value = i;
      frame.textContent = data.frames.length ? data.frames[Math.min(i, data.frames.length - 1)]
                                             : '(no frames: see the note above)';
      if (i === 0) {
        action.textContent = '(start of the episode: what the agent saw first)';
        meta.textContent = 'step 0 of ' + data.steps.length;
      } else {
        const s = data.steps[i - 1];
        action.textContent = s.action;
        const comps = Object.entries(s.components).map(function (kv) {
          return kv[0] + '=' + Number(kv[1]).toPrecision(3); }).join(', ');
        meta.textContent = 'step ' + i + ' of ' + data.steps.length + ': reward ' +
          Number(s.reward).toPrecision(3) + ' (' + comps + ')' +
          (s.invalid ? ' - invalid action: ' + s.invalid : '');
      }
    };
    slider.max = data.steps.length;
    slider.addEventListener('input', function () { show(Number(slider.value)); });
    box.querySelector('button.prev').addEventListener('click', function () {
      show(Math.max(0, Number(slider.value) - 1)); });
    box.querySelector('button.next').addEventListener('click', function () {
      show(Math.min(data.steps.length, Number(slider.value) + 1)); });
    show(0);
  }
})();
"""


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text).strip("-").lower()


def episode_anchor(ep: Mapping[str, Any]) -> str:
    """The HTML id of an episode's viewer box."""
    return _slug(f"ep-{ep['agent']}-{ep['env_id']}-{ep['seed']}-{ep['episode_index']}")


def render_viewer(episodes: Sequence[Mapping[str, Any]]) -> str:
    """One ``<section id="episodes">`` with a player per episode (or "" without episodes)."""
    if not episodes:
        return ""
    boxes = []
    for ep in episodes:
        verdict = {True: "solved", False: "not solved", None: "no verdict"}[ep["success"]]
        sample = f" sample {ep['episode_index']}" if ep["episode_index"] else ""
        data = json.dumps({"frames": ep["frames"], "steps": ep["steps"]})
        # JSON inside <script>: only "</" could end the element early
        data = data.replace("</", "<\\/")
        note = f'<p class="error">{html.escape(ep["diverged"])}</p>' if ep.get("diverged") else ""
        # long text lines (a task statement) wrap; grids (a dungeon map) keep their columns
        wrap = any(len(line) > 84 for f in ep["frames"] for line in f.splitlines())
        boxes.append(
            f'<div class="episode{" wrap" if wrap else ""}" id="{episode_anchor(ep)}">'
            f"<h3>{html.escape(ep['agent'])} on {html.escape(ep['env_id'])}, seed {ep['seed']}"
            f"{sample}: "
            f"{verdict}, task return {ep['task_return']:.3f}, {len(ep['steps'])} step{'' if len(ep['steps']) == 1 else 's'}</h3>"
            f"{note}"
            '<div class="controls"><button class="prev" type="button">&larr;</button>'
            '<input class="step" type="range" min="0" value="0">'
            '<button class="next" type="button">&rarr;</button> <span class="stepinfo"></span>'
            "</div>"
            '<div class="panes"><div><h4>what the agent saw</h4><pre class="frame"></pre></div>'
            '<div><h4>its action</h4><pre class="action"></pre></div></div>'
            f'<script type="application/json" class="episode-data">{data}</script>'
            "</div>"
        )
    return (
        '<section id="episodes"><h2>Episodes</h2>'
        '<p class="note">Episodes stored with <code>--record-steps</code>, replayed from their '
        "seed and actions: move through the steps with the slider or the arrows. The frame is "
        "what the env showed after the step (its text render, or the observation).</p>"
        + "".join(boxes)
        + f"<script>{_VIEWER_JS}</script></section>"
    )

"""GUI family speed, as ratios against a peer timed in the same run, and the UI-S1 claim.

Speed (default; medians of alternating repeats, so load changes on the shared machine hit
both arms alike):

1. **Phone steps/s** with screenshots vs a11y only: ``GUI-Online-v0`` replaying recorded
   expert actions (the expert's own cost is off the clock).
2. **Semi-online replay** steps/s over a dataset on disk (``build_dataset``; each step decodes
   its PNG frame) vs the floor of decoding one stored frame (PIL open + RGB array).
3. **MiniWoB++ step** latency vs raw Selenium on the same browser: a bare W3C click, and a
   click plus the reads an observation needs (reward flags, DOM info, screenshot) — the env's
   overhead is the last ratio. Skipped when Chromium is missing.

``--claim``: UI-S1's central claim measured on the phone. For agents of graded skill (the
expert, ``gui-noisy`` at several rates and kinds, ``random``; errors spread over steps, and
errors clustered by task instance) over >= 200 task instances: online
success on ``GUI-Online-v0``, SOP (TSR, PG) on ``GUI-SemiOnline-v0`` (no patches) and single-step
accuracy on every step of the same trajectories; then Spearman(SOP, online) and
Spearman(single-step, online) across agents with bootstrap CIs (tasks resampled). Writes
``runs/bench/gui_claim.json`` and ``docs/img/gui_claim.png``.

Run: ``.venv/bin/python benchmarks/bench_gui.py [--claim] [--instances 5]`` ->
``runs/bench/gui.json``.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import sys
import tempfile
import time
from typing import Any

import gymnasium as gym
import numpy as np

import rewardgym  # noqa: F401 - registers the ids
from rewardgym.agents import make_agent
from rewardgym.envs.gui import build_dataset, load_dataset, record_trajectory, task_ids
from rewardgym.leaderboard.gui_board import spearman

OUT = pathlib.Path("runs/bench")
REPEATS = 7


def _median_ratio(arm_a: Any, arm_b: Any, repeats: int = REPEATS) -> tuple[float, float, float]:
    """Median seconds of arm a, of arm b, and the median of the per-repeat ratios a/b."""
    a_times, b_times, ratios = [], [], []
    for _ in range(repeats):
        a, b = arm_a(), arm_b()
        a_times.append(a)
        b_times.append(b)
        ratios.append(a / b)
    return statistics.median(a_times), statistics.median(b_times), statistics.median(ratios)


# -- 1. the phone with and without screenshots ----------------------------------------------------


def bench_phone() -> dict[str, Any]:
    ids = task_ids(instances=1)
    plans = {tid: [s.action.to_text() for s in record_trajectory(tid, None).steps] for tid in ids}

    def run(observation: str) -> float:
        env = gym.make("rewardgym/GUI-Online-v0", observation=observation)
        elapsed, steps = 0.0, 0
        for tid, actions in plans.items():
            env.reset(options={"task_id": tid})
            for action in actions:
                t0 = time.perf_counter()
                env.step(action)
                elapsed += time.perf_counter() - t0
                steps += 1
        env.close()
        return elapsed / steps

    shots, a11y, ratio = _median_ratio(lambda: run("screenshot+a11y"), lambda: run("a11y"))
    return {"steps_per_s_screenshot": 1 / shots, "steps_per_s_a11y": 1 / a11y,
            "screenshot_cost_ratio": ratio, "screenshot_size": [540, 1200],
            "steps_per_episode_set": sum(map(len, plans.values()))}  # fmt: skip


# -- 2. semi-online replay vs decoding one frame -------------------------------------------------------


def bench_replay() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        return _bench_replay(pathlib.Path(tmp) / "ds")


def _bench_replay(out: pathlib.Path) -> dict[str, Any]:
    from PIL import Image

    root = build_dataset(out, instances=1)
    trajectories, _ = load_dataset(root)
    frames = [s.frame_path for t in trajectories for s in t.steps]

    def replay() -> float:
        env = gym.make("rewardgym/GUI-SemiOnline-v0", dataset_dir=str(root))
        elapsed, steps = 0.0, 0
        for trajectory in trajectories:
            env.reset(options={"task_id": trajectory.task_id})
            for step in trajectory.steps:
                action = step.action.to_text()
                t0 = time.perf_counter()
                _, _, terminated, _, _ = env.step(action)
                elapsed += time.perf_counter() - t0
                steps += 1
                if terminated:
                    break
        env.close()
        return elapsed / steps

    def decode() -> float:
        t0 = time.perf_counter()
        for path in frames:
            with Image.open(path) as image:
                np.asarray(image.convert("RGB"), dtype=np.uint8)
        return (time.perf_counter() - t0) / len(frames)

    step_s, decode_s, ratio = _median_ratio(replay, decode)
    return {"replay_steps_per_s": 1 / step_s, "decode_frames_per_s": 1 / decode_s,
            "replay_vs_decode_floor": 1 / ratio, "frames": len(frames)}  # fmt: skip


# -- 3. MiniWoB++ env step vs raw Selenium ---------------------------------------------------------


def bench_miniwob(steps: int = 40) -> dict[str, Any] | None:
    from rewardgym.envs.gui.browser import BrowserError, chromium_paths

    try:
        chromium_paths()
    except BrowserError as exc:
        return {"skipped": str(exc)}
    envs = {obs: gym.make("rewardgym/MiniWoB-v0", tasks=["click-test-2"], observation=obs, max_steps=1000)
            for obs in ("a11y", "screenshot+a11y")}  # fmt: skip
    env = envs["a11y"]
    browser = env.unwrapped.browser
    # a click on the empty band under the instruction: it changes nothing, so every arm repeats
    # the same work on the same page
    action = '{"action": "click", "coordinate": [5, 205]}'

    def env_step(observation: str) -> float:
        stepped = envs[observation]
        stepped.reset(options={"task_id": "click-test-2#0"})
        t0 = time.perf_counter()
        for _ in range(steps):
            stepped.step(action)
        return (time.perf_counter() - t0) / steps

    def raw(observation: str | None) -> float:
        env.reset(options={"task_id": "click-test-2#0"})
        t0 = time.perf_counter()
        for _ in range(steps):
            browser.click(5, 205)
            if observation is not None:
                browser.status()
                browser.elements()
                if "screenshot" in observation:
                    browser.screenshot()
        return (time.perf_counter() - t0) / steps

    out: dict[str, Any] = {}
    for obs in ("a11y", "screenshot+a11y"):
        e, r, ratio = _median_ratio(lambda o=obs: env_step(o), lambda o=obs: raw(o), repeats=5)
        out[obs] = {"env_step_ms": 1000 * e, "raw_equivalent_ms": 1000 * r, "overhead_ratio": ratio}
    e, r, ratio = _median_ratio(lambda: env_step("a11y"), lambda: raw(None), repeats=5)
    out["bare_click"] = {"env_step_a11y_ms": 1000 * e, "raw_click_ms": 1000 * r, "ratio": ratio}
    for stepped in envs.values():
        stepped.close()
    return out


# -- the UI-S1 claim -----------------------------------------------------------------------------------

CLAIM_AGENTS = (
    "gui-expert",
    "gui-noisy:0.02",
    "gui-noisy:0.05",
    "gui-noisy:0.1",
    "gui-noisy:0.2",
    "gui-noisy:0.35",
    "gui-noisy:type=0.25",
    "gui-noisy:args=0.25",
    "gui-noisy:element=0.3",
    "gui-noisy:thought=1",
    "random",
    # errors clustered by task instance (a task-level skill gap), beside the spread ones above
    "gui-noisy:task=0.15",
    "gui-noisy:task=0.3",
    "gui-noisy:task=0.5",
    "gui-noisy:task=0.2,args=0.05",
)


def _episode(env: gym.Env, agent: Any, task_id: str, seed: int) -> dict[str, Any]:
    obs, info = env.reset(seed=seed, options={"task_id": task_id})
    agent.reset(seed=seed)
    while True:
        obs, _, terminated, truncated, info = env.step(agent.act(obs, info))
        if terminated or truncated:
            return info


def measure_claim(instances: int, n_boot: int = 1000) -> dict[str, Any]:
    ids = task_ids(instances=instances)
    online = gym.make("rewardgym/GUI-Online-v0", observation="a11y")
    semi = gym.make("rewardgym/GUI-SemiOnline-v0", observation="a11y", instances=instances)
    offline = gym.make("rewardgym/GUI-Offline-v0", observation="a11y", instances=instances)
    lengths = {tid: len(semi.unwrapped._trajectory(tid).steps) for tid in ids}
    per_agent: dict[str, dict[str, list[float]]] = {}
    for spec in CLAIM_AGENTS:
        t0 = time.perf_counter()
        rows: dict[str, list[float]] = {"online": [], "tsr": [], "pg": [], "single": []}
        agents = {
            name: make_agent(spec, env)
            for name, env in (("on", online), ("semi", semi), ("off", offline))
        }
        for i, tid in enumerate(ids):
            rows["online"].append(float(bool(_episode(online, agents["on"], tid, i)["success"])))
            info = _episode(semi, agents["semi"], tid, i)
            rows["tsr"].append(info["reward_components"]["task"])
            rows["pg"].append(info["progress"])
            hits = [
                _episode(offline, agents["off"], f"{tid}@{t}", 1000 * i + t)["reward_components"][
                    "task"
                ]
                for t in range(lengths[tid])
            ]
            rows["single"].append(float(np.mean(hits)))  # per task, so tasks can be resampled
        per_agent[spec] = rows
        print(f"{spec:24s} online {np.mean(rows['online']):.3f}  TSR {np.mean(rows['tsr']):.3f}  "
              f"PG {np.mean(rows['pg']):.3f}  single-step {np.mean(rows['single']):.3f}  "
              f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr)  # fmt: skip
    for env in (online, semi, offline):
        env.close()

    agents = list(per_agent)
    table = {a: {k: float(np.mean(v)) for k, v in per_agent[a].items()} for a in agents}

    def correlations(index: np.ndarray) -> dict[str, float]:
        means = {
            a: {k: float(np.mean(np.asarray(v)[index])) for k, v in per_agent[a].items()}
            for a in agents
        }
        on = [means[a]["online"] for a in agents]
        return {m: spearman([means[a][m] for a in agents], on) for m in ("tsr", "pg", "single")}

    point = correlations(np.arange(len(ids)))
    rng = np.random.default_rng(0)
    boots: dict[str, list[float]] = {m: [] for m in point}
    diffs: list[float] = []
    for _ in range(n_boot):
        c = correlations(rng.integers(0, len(ids), len(ids)))
        for m, v in c.items():
            boots[m].append(v)
        diffs.append(c["tsr"] - c["single"])
    ci = {
        m: [float(np.nanquantile(v, 0.025)), float(np.nanquantile(v, 0.975))]
        for m, v in boots.items()
    }
    diff_ci = [float(np.nanquantile(diffs, 0.025)), float(np.nanquantile(diffs, 0.975))]
    result = {"tasks": len(ids), "agents": table, "spearman": point, "spearman_ci95": ci,
              "tsr_minus_single_ci95": diff_ci, "n_boot": n_boot}  # fmt: skip
    spread = [a for a in agents if "task=" not in a]
    if len(spread) < len(agents):  # the same statistics over the spread-error agents alone
        sub = {a: per_agent[a] for a in spread}
        on = [float(np.mean(sub[a]["online"])) for a in spread]
        result["spread_only_spearman"] = {
            m: spearman([float(np.mean(sub[a][m])) for a in spread], on)
            for m in ("tsr", "pg", "single")
        }
    return result


def plot_claim(result: dict[str, Any], path: pathlib.Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = result["agents"]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), sharey=True)
    for ax, (key, label) in zip(
        axes, (("tsr", "SOP TSR"), ("pg", "SOP PG"), ("single", "single-step accuracy"))
    ):
        xs = [table[a][key] for a in table]
        ys = [table[a]["online"] for a in table]
        ax.scatter(xs, ys)
        for a, x, y in zip(table, xs, ys):
            ax.annotate(
                a.replace("gui-noisy:", "n:"),
                (x, y),
                fontsize=7,
                xytext=(3, 2),
                textcoords="offset points",
            )
        rho = result["spearman"][key]
        lo, hi = result["spearman_ci95"][key]
        ax.set_title(f"{label}: Spearman {rho:.2f} [{lo:.2f}, {hi:.2f}]", fontsize=9)
        ax.set_xlabel(label)
        ax.set_xlim(-0.05, 1.05)
    axes[0].set_ylabel("online success")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claim", action="store_true", help="measure the UI-S1 claim")
    parser.add_argument("--instances", type=int, default=5, help="seeds per template (claim)")
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if not args.skip_speed:
        result = {"phone": bench_phone(), "replay": bench_replay(), "miniwob": bench_miniwob()}
        (OUT / "gui.json").write_text(json.dumps(result, indent=2))
        print(json.dumps(result, indent=2))
    if args.claim:
        claim = measure_claim(args.instances)
        (OUT / "gui_claim.json").write_text(json.dumps(claim, indent=2))
        plot_claim(claim, pathlib.Path("docs/img/gui_claim.png"))
        print(json.dumps(claim, indent=2))


if __name__ == "__main__":
    main()

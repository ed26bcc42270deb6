"""Headline experiment: does MASH's pay-per-search reward teach a policy to search only when it
does not know? ``MashPenalty`` against the plain outcome reward, 3 seeds.

The learner is a small logistic policy ``pi(search | x) = sigmoid(w . x)`` that decides, at the
start of each episode of ``rewardgym/SearchQA-v0``, whether to answer from memory or to search
(follow the hop path and read the answer from what the searches return). The "model" behind it
knows a fixed half of the pages (as ``memoriser:0.5``: a question is known when all its
supporting pages are); what it knows is *not* a feature. Its features are what an agent legitimately has: a noisy
self-confidence signal (``0.25 + 0.5 * known + N(0, 0.2)``, centred at 0.5; an LLM's
confidence in its own answer), the question kind from ``info["question_kind"]``, and a bias.

Episodes are real: for each question, both decisions are played once through the env (BM25
search, the exact-match grader, the cost ledger) and stored as ``EpisodeRecord`` s; the env is
deterministic, so a sampled decision replays its stored episode. Training is GRPO-style: per
question, G = 8 decisions sampled from the policy; the group's rewards are either the episodes'
``task`` (plain outcome) or ``MashPenalty(lam=0.7)`` over the group (the ``mash`` recipe, with its
historic minimum kept across iterations); GRPO advantages ``(r - mean(r)) / std(r)``;
REINFORCE on ``w``.
Evaluation, on held-out questions, is greedy: accuracy, searches per question, and
``search_board.abstention_metrics`` with the closed-book bucket = whether answering from memory
is correct.

Run: ``.venv/bin/python benchmarks/exp_search_mash.py [--seeds 0,1,2] [--iterations 60]``;
writes ``runs/bench/exp_search_mash.json`` and ``docs/img/exp_search_mash.png``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from rewardgym.agents.search_agents import KnowledgeAgent
from rewardgym.envs.search import SearchQAEnv
from rewardgym.leaderboard.search_board import abstention_metrics
from rewardgym.records import EpisodeRecord, StepRecord
from rewardgym.shaping.config import recipe_transform

KINDS = ("single-hop", "bridge", "comparison", "unanswerable")
KNOW = 0.5


def play(env: SearchQAEnv, agent: KnowledgeAgent, task_id: str) -> EpisodeRecord:
    """One real episode of ``agent`` on ``task_id``."""
    agent.reset(seed=0)
    obs, info = env.reset(seed=0, options={"task_id": task_id})
    steps = []
    while True:
        action = agent.act(obs, info)
        obs, reward, terminated, truncated, info = env.step(action)
        steps.append(StepRecord.from_step(len(steps), action, reward, terminated, truncated, info))
        if terminated or truncated:
            return EpisodeRecord(env_id="rewardgym/SearchQA-v0", task_id=task_id,
                                 episode_id=info["episode_id"], steps=steps,
                                 cost=dict(info["cost"]))  # fmt: skip


def outcome_table(env: SearchQAEnv) -> dict[str, tuple[EpisodeRecord, EpisodeRecord]]:
    """task_id -> (episode answering from memory, episode searching), both played for real."""
    titles = [p.title for p in env.corpus.pages[:2000]]
    memory = KnowledgeAgent(env.tasks, titles, know=KNOW, search="never", abstain=False)
    searcher = KnowledgeAgent(env.tasks, titles, know=0.0, search="always")
    return {t.task_id: (play(env, memory, t.task_id), play(env, searcher, t.task_id))
            for t in env.tasks}  # fmt: skip


def features(task, knows: bool, rng: np.random.Generator) -> np.ndarray:
    known = float(knows)
    confidence = 0.25 + 0.5 * known + rng.normal(0.0, 0.2)
    kind = [float(task.kind == k) for k in KINDS]
    return np.array([1.0, confidence - 0.5, *kind])  # centred: 0 = no idea


def evaluate(w, tasks, feats, table) -> dict[str, float]:
    searched, correct, bucketed = [], [], []
    for task in tasks:
        search = 1.0 / (1.0 + np.exp(-feats[task.task_id] @ w)) > 0.5
        memory_ep, search_ep = table[task.task_id]
        episode = search_ep if search else memory_ep
        searched.append(episode.cost.get("searches", 0.0))
        correct.append(episode.task_return > 0)
        closed_book = int(memory_ep.task_return > 0)
        bucketed.append((episode.cost.get("searches", 0.0) > 0, closed_book, 1))
    m = abstention_metrics(bucketed)
    return {"accuracy": float(np.mean(correct)), "searches_per_q": float(np.mean(searched)),
            "abs0": m.abs0, "abs1": m.abs1, "delta": m.delta}  # fmt: skip


def train(arm: str, seed: int, env: SearchQAEnv, table, args) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    tasks = list(env.tasks)
    rng.shuffle(tasks)
    split = int(0.7 * len(tasks))
    train_tasks, test_tasks = tasks[:split], tasks[split:]
    memory = KnowledgeAgent(env.tasks, [], know=KNOW)
    feats = {t.task_id: features(t, memory.knows(t), rng) for t in tasks}
    w = np.zeros(len(next(iter(feats.values()))))
    mash = recipe_transform("mash") if arm == "mash" else None
    curve = []
    for it in range(args.iterations):
        grad = np.zeros_like(w)
        batch = rng.choice(len(train_tasks), size=args.batch, replace=False)
        for index in batch:
            task = train_tasks[index]
            x = feats[task.task_id]
            p = 1.0 / (1.0 + np.exp(-x @ w))
            decisions = rng.random(args.group) < p
            memory_ep, search_ep = table[task.task_id]
            group = [search_ep if d else memory_ep for d in decisions]
            if mash is None:
                rewards = np.array([ep.task_return for ep in group])
            else:
                rewards = np.array(mash(group).per_episode)
            advantages = (rewards - rewards.mean()) / (rewards.std() + 1e-6)  # GRPO
            # d log pi / dw = (decision - p) * x
            grad += ((decisions.astype(float) - p) * advantages).sum() * x
        w += args.lr * grad / (args.batch * args.group)
        if it % max(1, args.iterations // 20) == 0 or it == args.iterations - 1:
            curve.append({"iteration": it, **evaluate(w, test_tasks, feats, table)})
    return {"arm": arm, "seed": seed, "weights": w.tolist(), "curve": curve,
            "test": evaluate(w, test_tasks, feats, table)}  # fmt: skip


def plot(runs: list[dict[str, object]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.5))
    for arm, color in (("outcome", "tab:gray"), ("mash", "tab:blue")):
        for run in (r for r in runs if r["arm"] == arm):
            its = [c["iteration"] for c in run["curve"]]
            for ax, key in zip(axes, ("accuracy", "searches_per_q", "delta")):
                values = [np.nan if c[key] is None else c[key] for c in run["curve"]]
                ax.plot(its, values, color=color, alpha=0.8,
                        label=arm if run["seed"] == runs[0]["seed"] else None)  # fmt: skip
    for ax, title in zip(
        axes, ("accuracy (held out)", "searches per question", "Δ = Abs(0) − Abs(1)")
    ):
        ax.set_title(title)
        ax.set_xlabel("iteration")
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--group", type=int, default=8)
    parser.add_argument("--lr", type=float, default=2.0)
    parser.add_argument("--plot", default="docs/img/exp_search_mash.png")
    args = parser.parse_args()
    env = SearchQAEnv(n_pages=2000, questions_per_kind=100)
    table = outcome_table(env)
    runs = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        for arm in ("outcome", "mash"):
            run = train(arm, seed, env, table, args)
            runs.append(run)
            print(json.dumps({"arm": arm, "seed": seed, **run["test"]}), flush=True)
    env.close()
    summary = {}
    for arm in ("outcome", "mash"):
        tests = [r["test"] for r in runs if r["arm"] == arm]
        summary[arm] = {k: (float(np.mean([t[k] for t in tests])), float(np.std([t[k] for t in tests])))
                        for k in tests[0] if all(t[k] is not None for t in tests)}  # fmt: skip
    print(json.dumps(summary, indent=1))
    out = Path("runs/bench")
    out.mkdir(parents=True, exist_ok=True)
    (out / "exp_search_mash.json").write_text(
        json.dumps({"runs": runs, "summary": summary}, indent=1)
    )
    if args.plot:
        plot(runs, Path(args.plot))


if __name__ == "__main__":
    main()

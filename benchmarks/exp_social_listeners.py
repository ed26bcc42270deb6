"""Does listening pay? Crews of Bayesian listeners vs crews of random voters, same seeds.

Every crew seat is played by the crew agent, every imposter seat by ``lying-imposter`` (kills
when alone with a crewmate, then accuses a scapegoat with a made-up sighting of the kill).
Arms: ``bayes-listener`` (posterior over who the imposter is; votes its argmax when sure),
``honest-reporter`` (votes only a killer it saw), ``task-crew`` (random voter). Crew win rates
with Wilson 95% intervals, the share of games won by ejecting the imposter, and the crew's mean
speaking reward. Writes ``runs/bench/social_listeners.json`` and prints a Markdown table.

Run: ``.venv/bin/python benchmarks/exp_social_listeners.py [--games 500] [--env ID ...]``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import rewardgym
from rewardgym.leaderboard.social_board import Matchup, play_matchup, wilson_ci

ARMS = ("bayes-listener", "honest-reporter", "task-crew")


def run_arm(env_id: str, crew: str, games: int) -> dict[str, float]:
    env = rewardgym.make_parallel(env_id)
    wins = ejections = 0
    speaking = 0.0
    start = time.perf_counter()
    for seed in range(games):
        row = play_matchup(Matchup(env_id, crew, "lying-imposter", seed), env)
        won = row["winner"] == "crew"
        wins += won
        ejections += won and env.game.win_reason == "all imposters were ejected"
        speaking += row["crew_discussion"]
    lo, hi = wilson_ci(wins, games)
    return {
        "games": games,
        "crew_wins": wins,
        "crew_win_rate": wins / games,
        "ci_low": lo,
        "ci_high": hi,
        "won_by_ejection": ejections / games,
        "crew_speaking_reward": speaking / games,
        "wall_s": time.perf_counter() - start,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--games", type=int, default=500)
    parser.add_argument(
        "--env",
        nargs="+",
        default=["rewardgym/SocialDeduction-LongTasks-v0", "rewardgym/SocialDeduction-v0"],
    )
    args = parser.parse_args()
    results = {
        env_id: {arm: run_arm(env_id, arm, args.games) for arm in ARMS} for env_id in args.env
    }
    out = Path("runs/bench")
    out.mkdir(parents=True, exist_ok=True)
    (out / "social_listeners.json").write_text(json.dumps(results, indent=2))
    print(
        "| env | crew agent | games | crew win rate [95% CI] | won by ejection | speaking reward |"
    )
    print("|---|---|---|---|---|---|")
    for env_id, arms in results.items():
        for arm, r in arms.items():
            print(
                f"| `{env_id}` | `{arm}` | {r['games']} | {r['crew_win_rate']:.3f} "
                f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}] | {r['won_by_ejection']:.3f} | "
                f"{r['crew_speaking_reward']:+.4f} |"
            )


if __name__ == "__main__":
    main()

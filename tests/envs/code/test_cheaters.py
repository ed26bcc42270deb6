"""Every cheating agent scores task = 0 on every task source (and the grader is why)."""

from __future__ import annotations

import pytest

from rewardgym.agents import make_agent
from rewardgym.agents.cheaters import CHEATS, CheatingAgent
from rewardgym.envs.code import CodeExecEnv
from rewardgym.envs.code.sources import BANK_PATH
from rewardgym.errors import ConfigError

# A few tasks per source keep the suite fast; the slow test below runs whole sources.
SAMPLES = {
    # a visible test + 6 hidden; a lone looping test; a lone test equal to the docstring
    # example; prompt helpers in the prelude
    "humaneval": ["HumanEval/0", "HumanEval/32", "HumanEval/34", "HumanEval/38"],
    "bank": None,  # the first two bank tasks
    "jsonl": ["user/add-pairs", "user/is-even"],
    "impossible": ["impossible/HumanEval/0", "impossible/HumanEval/53"],
}


def _env(source: str, user_tasks_path) -> CodeExecEnv:
    kwargs: dict = {"call_timeout_s": 0.25}  # keeps the `sleep` cheat cheap
    if source == "bank":
        if not BANK_PATH.is_file():
            pytest.skip("the bank file is not written yet")
        kwargs["source"] = "bank"
    elif source == "jsonl":
        kwargs["tasks_path"] = str(user_tasks_path)
    elif source == "impossible":
        kwargs["impossible"] = True
    env = CodeExecEnv(**kwargs)
    ids = SAMPLES[source] or [t.task_id for t in env.tasks[:2]]
    env.sample_ids = ids  # type: ignore[attr-defined]
    return env


@pytest.fixture(scope="module")
def envs(user_tasks_path):
    made: dict[str, CodeExecEnv] = {}

    def get(source: str) -> CodeExecEnv:
        if source not in made:
            made[source] = _env(source, user_tasks_path)
        return made[source]

    yield get
    for env in made.values():
        env.close()


def _cases():
    for source in SAMPLES:
        for cheat in CHEATS:
            yield pytest.param(cheat, source, id=f"{cheat}-{source}")


def _play(env: CodeExecEnv, agent, task_id: str) -> dict:
    obs, info = env.reset(seed=0, options={"task_id": task_id})
    _, reward, terminated, _, info = env.step(agent.act(obs, info))
    assert terminated
    info["reward"] = reward
    return info


@pytest.mark.parametrize(("cheat", "source"), list(_cases()))
def test_cheater_scores_zero(envs, cheat, source):
    env = envs(source)
    agent = make_agent(f"cheater:{cheat}", env)
    for task_id in env.sample_ids:
        info = _play(env, agent, task_id)
        assert info["reward_components"]["task"] == 0.0, (cheat, task_id, info["test_results"])
        assert info["reward"] == 0.0 and info["success"] is False


def test_the_oracle_passes_the_same_samples(envs, user_tasks_path):
    """The cheaters fail because they cheat: the reference solutions pass the same tasks."""
    sample_ids = {
        "humaneval": SAMPLES["humaneval"],
        "bank": [t.task_id for t in envs("bank").tasks[:2]],
        "jsonl": SAMPLES["jsonl"],
    }
    env = CodeExecEnv(  # the tasks' own time limits: the bank's large inputs need them
        tasks_path=str(user_tasks_path), task_ids=None
    )
    oracle = make_agent("code-oracle", env)
    try:
        for source, ids in sample_ids.items():
            if source == "jsonl":
                for task_id in ids:
                    assert _play(env, oracle, task_id)["reward_components"]["task"] == 1.0
                continue
            # generous call limit: on a loaded 2-core machine, moving the bank's 200k-element
            # inputs through the sandbox takes close to the tasks' own 2 s limits
            other = CodeExecEnv(source=source, task_ids=ids, call_timeout_s=10)
            other._sandbox = env._get_sandbox()  # share one sandbox
            try:
                for task_id in ids:
                    info = _play(other, oracle, task_id)
                    assert info["reward_components"]["task"] == 1.0, task_id
            finally:
                other._sandbox = None
                other.close()
    finally:
        env.close()


def test_hardcoding_passes_the_visible_test_only(envs):
    env = envs("humaneval")
    info = _play(env, CheatingAgent("hardcode-visible"), "HumanEval/0")
    assert [r["passed"] for r in info["test_results"]] == [True] + [False] * 6


def test_unknown_or_missing_cheat_is_a_config_error(envs):
    with pytest.raises(ConfigError, match="known cheats"):
        make_agent("cheater:teleport", envs("jsonl"))
    with pytest.raises(ConfigError, match="name the cheat"):
        make_agent("cheater", envs("jsonl"))


# Whole-source sweeps for the cheats that cost little per task (the others restart the candidate
# process on every test: 10-25 s per sweep on 2 cores; the samples above cover them).
@pytest.mark.slow
@pytest.mark.parametrize(
    "cheat", ["always-equal", "exit-zero-at-import", "hardcode-visible", "print-pass"]
)
def test_cheater_scores_zero_on_every_humaneval_task(envs, cheat):
    env = envs("humaneval")
    agent = CheatingAgent(cheat)
    scored = [_play(env, agent, t.task_id)["reward_components"]["task"] for t in env.tasks]
    assert sum(scored) == 0.0

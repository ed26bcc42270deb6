"""LLM-written reward code: checked and contained by the sandbox, repaired or rejected."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import rewardgym  # noqa: F401 - registers the env ids
from rewardgym.contract import invariant_error
from rewardgym.shaping.analysis import starc_distance, tabular_from_env
from rewardgym.shaping.llm import (
    CodeRejected,
    LabelCache,
    LatentDecoder,
    LatentReward,
    WrittenReward,
    analyze_trajectories,
    design_reward,
    reward_matrix,
    write_evaluation_func,
)

GOOD = """```python
def reward(state, next_state):
    sparse = 1.0 if next_state["depth"] > state["depth"] else 0.0
    dense = 1.0 if next_state["on_stairs"] and not state["on_stairs"] else 0.0
    return sparse * 1.0 + dense * 0.1
```"""

BAD = {
    "syntax": ("```python\ndef reward(state, next_state)\n    return 1.0\n```", "syntax error"),
    "infinite_loop": (
        "```python\ndef reward(state, next_state):\n    while True:\n        pass\n```",
        "killed",
    ),
    "reads_files": (
        "```python\ndef reward(state, next_state):\n    return float(len(open({path!r}).read()))\n```",
        "FileNotFoundError",
    ),
    "opens_sockets": (
        "```python\nimport socket\ndef reward(state, next_state):\n"
        "    socket.create_connection(('127.0.0.1', {port}), timeout=1)\n    return 1.0\n```",
        "PermissionError",
    ),
    "wrong_shape": (
        "```python\ndef reward(state, next_state):\n    return [1.0, 2.0]\n```",
        "expected a float",
    ),
    "not_a_number": (
        "```python\ndef reward(state, next_state):\n    return 'high'\n```",
        "expected a float",
    ),
    "raises": (
        "```python\ndef reward(state, next_state):\n    return state['no_such_key']\n```",
        "KeyError",
    ),
}

SCHEMA = "keys: depth (int), on_stairs (bool), position ((x, y)), gold (int)"


@pytest.fixture(scope="module")
def samples():
    env = gym.make("rewardgym/Dungeon-Staircase-v0")
    _, info = env.reset(seed=0)
    rng = np.random.default_rng(0)
    out, state = [], info["symbolic_state"]
    for _ in range(6):
        _, _, _term, _trunc, info = env.step(int(rng.integers(env.action_space.n)))
        out.append((state, info["symbolic_state"]))
        state = info["symbolic_state"]
    env.close()
    return out


def _queue(scripted, answers):
    answers = list(answers)
    return scripted(lambda prompt: answers.pop(0) if answers else "OK")


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_code_is_contained_then_repaired(kind, scripted, samples, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("host data")
    code, reason = BAD[kind]
    code = code.replace("{path!r}", repr(str(secret))).replace("{port}", "22")
    llm = _queue(scripted, [code, GOOD, "OK"])
    cache = LabelCache(tmp_path / "rewards.sqlite")
    result = design_reward(llm, "descend the stairs", SCHEMA, samples, name="stairs", cache=cache)
    try:
        assert [v["status"] for v in result.versions] == ["rejected", "accepted"]
        assert reason in result.versions[0]["reason"]
        assert "Failure:" in llm.prompts[1] and reason in llm.prompts[1]  # the repair prompt
        assert result.version == 2 and result.model_id == "scripted"
        stored = cache.versions("stairs")
        assert [v["status"] for v in stored] == ["rejected", "accepted"]
        assert all(len(v["prompt_hash"]) == 16 for v in stored)
    finally:
        result.program.close()
    assert secret.read_text() == "host data"


def test_rejected_after_max_rounds(scripted, samples):
    llm = _queue(scripted, [BAD["syntax"][0]] * 3)
    with pytest.raises(CodeRejected, match="2 repair round") as err:
        design_reward(llm, "descend", SCHEMA, samples, max_rounds=2)
    assert len(err.value.versions) == 3
    assert all("syntax error" in v["reason"] for v in err.value.versions)


def test_critic_revision_kept_only_if_it_passes(scripted, samples):
    revised = GOOD.replace("* 0.1", "* 0.2")
    llm = _queue(scripted, [GOOD, f"Too small a dense term.\n{revised}"])
    result = design_reward(llm, "descend", SCHEMA, samples)
    assert "* 0.2" in result.code and result.version == 2
    result.program.close()
    llm = _queue(scripted, [GOOD, BAD["infinite_loop"][0]])
    result = design_reward(llm, "descend", SCHEMA, samples)
    assert "* 0.1" in result.code and result.versions[-1]["status"] == "rejected"
    result.program.close()


def test_trajectory_analyzer_revises(scripted, samples):
    llm = _queue(scripted, [GOOD, "OK", "It ignores gold.\n" + GOOD.replace("0.1", "0.3")])
    first = design_reward(llm, "descend", SCHEMA, samples)
    traj = [[{"state": s, "reward": 0.0} for s, _ in samples]]
    second = analyze_trajectories(llm, first, "descend", traj, samples)
    assert "0.3" in second.code
    assert "Trajectory 1" in llm.prompts[-1] and "depth" in llm.prompts[-1]
    first.program.close()
    second.program.close()


def test_written_reward_is_a_named_component(scripted, samples):
    result = design_reward(_queue(scripted, [GOOD]), "descend", SCHEMA, samples, critic=False)
    env = WrittenReward(
        gym.make("rewardgym/Dungeon-Staircase-v0"), result.program, name="stairs",
        provenance=result.provenance(),
    )  # fmt: skip
    _, info = env.reset(seed=0)
    rng = np.random.default_rng(0)
    values = []
    for _ in range(60):
        _, reward, term, trunc, info = env.step(int(rng.integers(env.action_space.n)))
        assert invariant_error(reward, info) is None
        values.append(info["reward_components"]["shaping/stairs"])
        if term or trunc:
            env.reset()
    assert set(values) <= {0.0, 0.1, 1.0, 1.1}
    spec = env.shaping_spec()
    assert spec["component"] == "stairs" and spec["reward_version"] == 1
    assert spec["llm_model_id"] == "scripted"
    env.close()


def test_starc_compares_written_with_reference(scripted):
    env = gym.make("FrozenLake-v1", is_slippery=False)
    mdp = tabular_from_env(env)
    goal = int(np.flatnonzero(env.unwrapped.desc.flatten() == b"G")[0])
    states = [{"cell": s, "goal": s == goal} for s in range(env.observation_space.n)]
    exact = "```python\ndef reward(state, next_state):\n    return 1.0 if next_state['goal'] and not state['goal'] else 0.0\n```"
    shaped = (
        "```python\ndef reward(state, next_state):\n"
        "    phi = lambda s: -abs(s['cell'] % 4 - 3) - abs(s['cell'] // 4 - 3)\n"
        "    r = 1.0 if next_state['goal'] and not state['goal'] else 0.0\n"
        "    return 2.0 * r\n```"
    )
    wrong = "```python\ndef reward(state, next_state):\n    return 1.0 if next_state['cell'] == 0 else 0.0\n```"
    distances = {}
    for name, code in (("exact", exact), ("scaled", shaped), ("wrong", wrong)):
        samples = [(states[0], states[1])]
        result = design_reward(_queue(scripted, [code]), "reach G", "cell, goal", samples,
                               critic=False)  # fmt: skip
        R = reward_matrix(result.program, states, env.action_space.n)
        distances[name] = starc_distance(R, mdp.R, mdp.P, 0.9, done=mdp.done)
        result.program.close()
    assert distances["exact"] == pytest.approx(0.0, abs=1e-6)
    assert distances["scaled"] == pytest.approx(0.0, abs=1e-6)
    assert distances["wrong"] > 0.1


LARE_A = "```python\ndef evaluation_func(state):\n    return [float(state['depth']), float(state['on_stairs'])]\n```"
LARE_B = "```python\ndef evaluation_func(state):\n    return [float(state['gold'])]\n```"
LARE_MERGED = (
    "```python\ndef evaluation_func(state):\n"
    "    return [float(state['depth']), float(state['on_stairs']), float(state['gold'])]\n```"
)


def test_lare_candidates_merge_and_decoder(scripted, samples):
    states = [s for s, _ in samples]
    wrong_shape = "```python\ndef evaluation_func(state):\n    return 1.0\n```"
    llm = _queue(scripted, [LARE_A, wrong_shape, LARE_B, LARE_MERGED])
    written = write_evaluation_func(llm, "descend", SCHEMA, states, candidates=2)
    assert written.code.count("float(") == 3  # the merged one
    statuses = [v["status"] for v in written.versions]
    assert statuses == ["accepted", "rejected", "accepted", "accepted"]
    assert "non-empty list" in written.versions[1]["reason"]
    # fit: returns are 2 * (on_stairs steps) so the decoder must learn the second factor
    rng = np.random.default_rng(0)
    episodes, returns = [], []
    for _ in range(16):
        f = np.zeros((20, 3), np.float32)
        f[:, 1] = rng.random(20) < 0.3
        episodes.append(f)
        returns.append(2.0 * float(f[:, 1].sum()))
    decoder = LatentDecoder(3, seed=0)
    loss = decoder.fit(episodes, returns, k=64, iterations=300)
    assert loss < 0.05 * decoder.losses[0]
    assert decoder([0.0, 1.0, 0.0]) > decoder([0.0, 0.0, 0.0]) + 0.5
    env = LatentReward(gym.make("rewardgym/Dungeon-Staircase-v0"), written, decoder)
    env.reset(seed=0)
    _, reward, _, _, info = env.step(0)
    assert invariant_error(reward, info) is None and "shaping/latent" in info["reward_components"]
    assert env.shaping_spec()["n_factors"] == 3
    env.close()

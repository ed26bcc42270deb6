"""GRPO normalisation, VeRPOReward and PosteriorGate against hand-computed values."""

from __future__ import annotations

import json
import math

import pytest

from rewardgym.errors import ConfigError
from rewardgym.shaping import GroupNormalize, GroupResult, PosteriorGate, VeRPOReward
from rewardgym.shaping.transforms import group_by_task

PASS = [[True, True, True], [True, False, False], [True, True, False]]


def _verpo_group(make_episode, rows, task_id="t", as_dicts=False):
    eps = []
    for i, row in enumerate(rows):
        results = [{"id": f"test_{j}", "passed": p} for j, p in enumerate(row)] if as_dicts else row
        # Two steps: only the last attempt's results count.
        extras = [{"test_results": [False] * len(row)}, {"test_results": results}]
        comps = [{"task": 0.0}, {"task": float(all(row))}]
        eps.append(make_episode(task_id, components=comps, extras=extras, episode_id=f"e{i}"))
    return eps


def test_grpo_reference_values(make_episode):
    group = [
        make_episode(components=[{"task": v}], episode_id=str(i))
        for i, v in enumerate([0, 1, 1, 0])
    ]
    result = GroupNormalize(source="task")(group)
    assert result.kind == "advantage"
    assert result.per_episode == pytest.approx([-0.866025, 0.866025, 0.866025, -0.866025], abs=1e-4)


def test_grpo_broadcasts_to_every_step_and_uses_eps(make_episode):
    group = [
        make_episode(components=[{"task": 0.0}, {"task": 2.0}], episode_id="a"),
        make_episode(components=[{"task": 0.0}], episode_id="b"),
    ]
    result = GroupNormalize(source="task", eps=1.0)(group)
    # values [2, 0]: mean 1, unbiased std sqrt(2); (x-1)/(sqrt(2)+1)
    a = 1 / (math.sqrt(2) + 1)
    assert result.per_step[0] == pytest.approx([a, a])
    assert result.per_step[1] == pytest.approx([-a])


def test_grpo_group_of_one_gets_zero(make_episode):
    assert GroupNormalize()([make_episode(rewards=[3.0])]).per_episode == [0.0]


def test_grpo_rejects_mixed_task_ids(make_episode):
    with pytest.raises(ConfigError, match="group_by_task"):
        GroupNormalize()([make_episode("a"), make_episode("b")])
    groups = group_by_task([make_episode("a"), make_episode("b"), make_episode("a")])
    assert [len(g) for g in groups.values()] == [2, 1]


@pytest.mark.parametrize("as_dicts", [False, True])
def test_verpo_combination_a_reference(make_episode, as_dicts):
    group = _verpo_group(make_episode, PASS, as_dicts=as_dicts)
    transform = VeRPOReward()
    assert transform.weights(group) == pytest.approx([0.009709, 0.333333, 0.656958], abs=1e-4)
    result = transform(group)
    assert result.kind == "reward"
    assert result.per_episode == pytest.approx([1.5, 0.004854, 0.171521], abs=1e-4)
    assert result.per_step[1] == pytest.approx([0.0, 0.004854], abs=1e-4)  # on the last step


def test_verpo_combination_b_and_beta(make_episode):
    group = _verpo_group(make_episode, PASS)
    assert VeRPOReward(combination="B")(group).per_episode == pytest.approx(
        [1.0, 0.004854, 0.171521], abs=1e-4
    )
    assert VeRPOReward(beta=1.0)(group).per_episode == pytest.approx(
        [2.0, 0.009709, 0.343042], abs=1e-4
    )


def test_verpo_eps_changes_the_weights(make_episode):
    group = _verpo_group(make_episode, PASS)
    assert VeRPOReward(eps=0.1).weights(group) == pytest.approx(
        [0.076923, 0.333333, 0.589744], abs=1e-4
    )


def test_verpo_running_statistics_span_groups_and_checkpoint(make_episode):
    first = _verpo_group(make_episode, PASS)
    second = _verpo_group(make_episode, [[False, False, False], [True, True, False]])
    running = VeRPOReward(running=True)
    running(first)
    state = json.loads(json.dumps(running.state_dict()))
    assert running(second).per_episode == pytest.approx([0.0, 0.5 * 0.433566], abs=1e-4)
    # Without running statistics only this group counts.
    assert VeRPOReward()(second).per_episode == pytest.approx([0.0, 0.5 * 0.502463], abs=1e-4)
    restored = VeRPOReward(running=True)
    restored.load_state_dict(state)
    assert restored(second).per_episode == pytest.approx([0.0, 0.5 * 0.433566], abs=1e-4)


def test_verpo_needs_test_results(make_episode):
    with pytest.raises(ConfigError, match="test_results"):
        VeRPOReward()([make_episode()])
    ragged = [
        make_episode(extras=[{"test_results": [True]}], episode_id="a"),
        make_episode(extras=[{"test_results": [True, False]}], episode_id="b"),
    ]
    with pytest.raises(ConfigError, match="same"):
        VeRPOReward()(ragged)


@pytest.mark.parametrize("bad", [{"combination": "C"}, {"beta": -1}, {"eps": 0}])
def test_verpo_bad_arguments(bad):
    with pytest.raises(ConfigError):
        VeRPOReward(**bad)


def test_posterior_gate_reference(make_episode):
    group = [
        make_episode(components=[{"format": 1.0, "task": 1.0, "process": 0.6}], episode_id="a"),
        make_episode(components=[{"format": 1.0, "task": 0.0, "process": 0.9}], episode_id="b"),
        make_episode(components=[{"format": 0.0, "task": 1.0, "quality": 0.5}], episode_id="c"),
    ]
    assert PosteriorGate()(group).per_episode == pytest.approx([2.6, 1.0, 1.0])
    custom = PosteriorGate(process_component="quality")(group)
    assert custom.per_episode == pytest.approx([2.0, 1.0, 1.5])


def test_grpo_over_another_transform(make_episode):
    group = _verpo_group(make_episode, PASS)
    result = GroupNormalize(source=VeRPOReward())(group)
    assert sum(result.per_episode) == pytest.approx(0.0, abs=1e-9)
    assert result.per_episode[0] > result.per_episode[2] > result.per_episode[1]
    assert GroupNormalize(source=VeRPOReward()).spec()["source"]["name"] == "VeRPOReward"


def test_group_result_layout(make_episode):
    eps = [make_episode(rewards=[0, 0, 0]), make_episode(rewards=[0])]
    r = GroupResult.episode_rewards(eps, [2.0, 3.0])
    assert r.per_step == [[0.0, 0.0, 2.0], [3.0]]
    a = GroupResult.episode_advantages(eps, [2.0, 3.0])
    assert a.per_step == [[2.0, 2.0, 2.0], [3.0]]


def test_verpo_treats_ungraded_attempts_as_passing_nothing(make_episode):
    group = _verpo_group(make_episode, PASS)
    ungraded = make_episode(extras=[{"test_results": []}], episode_id="x")
    result = VeRPOReward()([*group, ungraded])
    assert result.per_episode[-1] == 0.0
    # rho now over 4 rollouts: [3/4, 2/4, 1/4]
    raw = [0.25 + 0.01, 0.5 + 0.01, 0.75 + 0.01]
    assert VeRPOReward().weights([*group, ungraded]) == pytest.approx([r / sum(raw) for r in raw])
    nothing = VeRPOReward(running=True)([ungraded])
    assert nothing.per_episode == [0.0]


def test_verpo_on_real_code_env_rollouts():
    """Records built with StepRecord.from_step from CodeExec-Bank-v0 feed VeRPO directly."""
    import gymnasium as gym

    import rewardgym  # noqa: F401  (registers the ids)
    from rewardgym.records import EpisodeRecord, StepRecord

    env = gym.make("rewardgym/CodeExec-Bank-v0")
    try:
        env.reset(seed=0)
        task = env.unwrapped.task
        submissions = [
            f"```python\n{task.reference_solution}\n```",
            f"```python\ndef {task.entry_point}(*args, **kwargs):\n    return None\n```",
            "I don't know.",
        ]
        episodes = []
        for i, code in enumerate(submissions):
            _, info = env.reset(seed=i, options={"task_id": task.task_id})
            _, reward, terminated, truncated, info = env.step(code)
            step = StepRecord.from_step(
                1, code, reward, terminated, truncated, info, extra_keys=("test_results",)
            )
            episodes.append(
                EpisodeRecord(
                    env_id="rewardgym/CodeExec-Bank-v0",
                    task_id=info["task_id"],
                    episode_id=info["episode_id"],
                    steps=[step],
                )
            )
    finally:
        env.close()
    result = VeRPOReward()(episodes)
    n_tests = len(task.tests)
    assert episodes[0].task_return == 1.0
    assert result.per_episode[0] == pytest.approx(1.5)  # g = 1, d = 1 (all tests pass)
    assert 0.0 <= result.per_episode[1] < 0.5
    assert result.per_episode[2] == 0.0
    assert len(episodes[0].steps[0].extras["test_results"]) == n_tests

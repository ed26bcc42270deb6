"""Packed step columns: what the leaderboard stores per step must read back exactly."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from rewardgym.records import (
    EpisodeRecord,
    StepColumns,
    StepRecord,
    component_sums,
    float_dict_json,
)

WEIGHTS = {"task": 1.0, "shaping": 0.5}


def _episode(n, *, seed=0, actions=None, weights=None, invalid=()):
    rng = random.Random(seed)
    comps = [
        {"task": float(i == n - 1), "shaping": rng.uniform(-1, 1) if i % 3 else 0.0}
        for i in range(n)
    ]
    rewards = [c["task"] + 0.5 * c["shaping"] for c in comps]
    actions = list(range(n)) if actions is None else actions
    weights = [(0, WEIGHTS)] if weights is None else weights
    why = [f"bad {i}" if i in invalid else None for i in range(n)]
    return actions, rewards, comps, weights, why


def _roundtrip(actions, rewards, comps, weights, why, *, terminated=True, truncated=False):
    packed = StepColumns.pack(
        actions, rewards, comps, weights, why, terminated=terminated, truncated=truncated
    )
    assert packed is not None
    # what the store holds is JSON text
    return packed, StepColumns.unpack(json.loads(json.dumps(packed.packed)))


def test_every_value_reads_back_exactly():
    actions, rewards, comps, weights, why = _episode(50, invalid={3, 17})
    packed, steps = _roundtrip(actions, rewards, comps, weights, why)
    assert [s["action"] for s in steps] == actions
    assert [s["reward"] for s in steps] == rewards  # bit for bit, not approximately
    assert [s["reward_components"] for s in steps] == comps
    assert all(s["reward_weights"] == WEIGHTS for s in steps)
    assert [s["invalid_action"] for s in steps] == why
    assert [s["step"] for s in steps] == list(range(1, 51))
    # only the last step ends the episode
    assert [s["terminated"] for s in steps] == [False] * 49 + [True]
    assert not any(s["truncated"] for s in steps)
    assert packed.component_sums["task"] == 1.0
    assert packed.component_sums["shaping"] == pytest.approx(sum(c["shaping"] for c in comps))
    for step in steps:  # valid StepRecords
        StepRecord.model_validate(step)


def test_sparse_columns_list_only_the_non_zero_entries_and_dense_ones_stay_exact():
    actions, rewards, comps, weights, why = _episode(40)
    packed, _ = _roundtrip(actions, rewards, comps, weights, why)
    task = packed.packed["reward_components"]["task"]
    assert task == {"index": [39], "value": [1.0]}
    assert isinstance(packed.packed["reward_components"]["shaping"], str)  # dense, base64


@pytest.mark.parametrize(
    "actions",
    [
        [3, 0, 255, 7],  # bytes
        [-1, 2**40, 0, 5],  # int64
        [np.int64(2), np.int64(1), np.int64(0), np.int64(3)],  # numpy ints (Discrete.sample)
        ["def f():\n    return 1", "", "```python\nx\n```", "é"],  # text actions
        [{"click": [1, 2]}, {"type": "a"}, {"key": "Enter"}, {}],  # structured actions
        [0.5, -1.25, 3.0, 0.0],  # continuous
    ],
)
def test_actions_of_every_kind_read_back(actions):
    _, rewards, comps, weights, why = _episode(4)
    _, steps = _roundtrip(actions, rewards, comps, weights, why)
    assert [s["action"] for s in steps] == [
        int(a) if isinstance(a, np.integer) else a for a in actions
    ]


def test_weights_that_change_mid_episode_are_kept_per_step():
    later = {"task": 1.0, "shaping": 0.0}
    actions, rewards, comps, _, why = _episode(6)
    _, steps = _roundtrip(actions, rewards, comps, [(0, WEIGHTS), (4, later)], why)
    assert [s["reward_weights"] for s in steps] == [WEIGHTS] * 4 + [later] * 2


def test_truncation_is_on_the_last_step():
    _, steps = _roundtrip(*_episode(3), terminated=False, truncated=True)
    assert [(s["terminated"], s["truncated"]) for s in steps] == [(False, False)] * 2 + [
        (False, True)
    ]


def test_steps_whose_components_differ_do_not_pack():
    actions, rewards, comps, weights, why = _episode(5)
    comps[2] = {"task": 0.0}  # one step reports fewer components
    assert (
        StepColumns.pack(actions, rewards, comps, weights, why, terminated=True, truncated=False)
        is None
    )
    assert component_sums(comps) is None
    comps[2] = {"task": 0.0, "shaping": 0.0, "bonus": 1.0}  # or more
    assert component_sums(comps) is None
    comps[2] = {"task": "one", "shaping": 0.0}  # or a value that is not a number
    assert (
        StepColumns.pack(actions, rewards, comps, weights, why, terminated=True, truncated=False)
        is None
    )


def test_weight_changes_must_start_at_step_zero():
    actions, rewards, comps, _, why = _episode(3)
    with pytest.raises(ValueError, match="step 0"):
        StepColumns.pack(
            actions, rewards, comps, [(1, WEIGHTS)], why, terminated=True, truncated=False
        )


def test_an_episode_record_reads_the_packed_form_and_equals_the_plain_one():
    actions, rewards, comps, weights, why = _episode(12, invalid={5})
    packed = StepColumns.pack(
        actions, rewards, comps, weights, why, terminated=True, truncated=False
    )
    head = {"env_id": "rewardgym/X-v0", "task_id": "t", "episode_id": "e", "seed": 3}
    from_packed = EpisodeRecord.from_json(json.dumps(head | {"step_columns": packed.packed}))
    plain = EpisodeRecord(**head, steps=StepColumns.unpack(packed.packed))
    assert from_packed == EpisodeRecord.from_json(plain.to_json())
    assert from_packed.task_return == 1.0 and from_packed.length == 12


def test_unreadable_packed_steps_fail_with_a_clear_error():
    packed = StepColumns.pack(*_episode(4), terminated=True, truncated=False).packed
    with pytest.raises(ValueError, match="format 99 is not readable"):
        StepColumns.unpack(packed | {"format": 99})
    with pytest.raises(ValueError, match="expected 5"):
        StepColumns.unpack(packed | {"length": 5})


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"task": 1.0, "score": 3.0, "events": 52.0},
        {"b": -0.0, "a": 5e-324, "c": 1.7976931348623157e308, "d": 0.1 + 0.2, "e": -1e-7},
        {'quote"d': 1.0, "back\\slash": 2.0, "ünïcode": 3.0, "tab\t": 4.0, "": 0.5},
        {"n": np.float64(2.5), "m": 1e16},  # a float subclass is written as a float
        # not all finite floats: json writes them (ints, bools, None, NaN, inf, non-str keys)
        {"i": 3, "f": 1.0},
        {"flag": True, "none": None},
        {"nan": float("nan"), "x": 1.0},
        {"inf": float("inf"), "neg": float("-inf")},
        {1: 1.0, 2: 2.0},
        {"nested": {"a": 1.0}},
    ],
)
def test_float_dict_json_writes_exactly_what_json_dumps_does(values):
    assert float_dict_json(values) == json.dumps(values, sort_keys=True)


def test_float_dict_json_matches_json_on_random_dicts():
    rng = random.Random(7)
    for _ in range(300):
        values = {
            "".join(rng.choice('ab"é_') for _ in range(rng.randint(0, 4))): rng.choice(
                [rng.uniform(-1e6, 1e6), float(rng.randint(-9, 9)), rng.random() * 1e-300]
            )
            for _ in range(rng.randint(0, 6))
        }
        assert float_dict_json(values) == json.dumps(values, sort_keys=True)

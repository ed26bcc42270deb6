"""Reference values of ONI's reward math (METHODS §5) and the classifier's accuracy."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rewardgym.shaping.llm import (
    Annotator,
    ClassifierRewardModel,
    RankingRewardModel,
    bradley_terry_loss,
    count_scale,
    oni_mix,
)
from rewardgym.shaping.llm.rules import RuleBasedLLM


def test_oni_mixing_reference_value():
    # METHODS §5: r_ext = r_int = 1, n = 2, c_ext = 0.1, c_llm = 0.4 -> 0.15
    assert oni_mix(1.0, 1.0, 2, c_ext=0.1, c_llm=0.4, beta=3) == pytest.approx(0.15)


@pytest.mark.parametrize(("n", "beta", "expected"), [(1, 3, 1.0), (2, 3, 0.125), (3, 3, 1 / 27),
                                                      (4, 0.5, 0.5), (5, 0, 1.0)])  # fmt: skip
def test_count_scaling(n, beta, expected):
    assert count_scale(n, beta) == pytest.approx(expected)


def test_count_scaling_rejects_zero_count():
    with pytest.raises(ValueError, match="n_msg"):
        count_scale(0)


def test_bradley_terry_loss_toy_set():
    # equal scores: log 2 whatever the label
    assert bradley_terry_loss([0.0, 0.0], [0.0, 0.0], [1.0, 0.0]) == pytest.approx(math.log(2))
    # first preferred by a margin of 2: -log sigmoid(2)
    assert bradley_terry_loss([2.0], [0.0], [1.0]) == pytest.approx(math.log1p(math.exp(-2)))
    # a tie at margin d: 0.5*(softplus(-d) + softplus(d))
    d = 1.5
    tie = 0.5 * (math.log1p(math.exp(-d)) + math.log1p(math.exp(d)))
    assert bradley_terry_loss([d], [0.0], [0.5]) == pytest.approx(tie)
    # the wrong order costs more than the right one
    assert bradley_terry_loss([0.0], [2.0], [1.0]) > bradley_terry_loss([2.0], [0.0], [1.0])


def _synthetic_messages(rng: np.random.Generator, n: int) -> list[str]:
    good = [
        "You pick up a key.",
        "There is a staircase down here.",
        "You descend to level {}.",
        "{} gold pieces.",
        "You unlock the door with your key. The door opens.",
    ]
    bad = ["You miss the rat {}.", "There is nothing here to pick up.", "You can't go down here.",
           "The jackal bites!", "You see no door there.", "You kick at empty space {}."]  # fmt: skip
    out = []
    for _ in range(n):
        pool = good if rng.random() < 0.5 else bad
        out.append(pool[int(rng.integers(len(pool)))].format(int(rng.integers(1, 99))))
    return out


def test_classifier_learns_synthetic_labels():
    """ONI's schedule (32 Adam steps of batch 256 per label batch) reaches high accuracy."""
    rng = np.random.default_rng(0)
    llm = RuleBasedLLM()
    with Annotator(llm, "dungeon") as annotator:
        model = ClassifierRewardModel(annotator, background=False, lr=3e-3, width=16, batch_size=64)
        for text in _synthetic_messages(rng, 300):
            annotator.submit(text)
        assert annotator.wait_idle(30)
        assert model.update()  # the labels arrive: one round of 32 steps
        for _ in range(5):  # later rounds on the same labels
            assert model.update(force=True)
        test = _synthetic_messages(np.random.default_rng(1), 200)
        truth = [1.0 if 'helpful": yes' in llm.answer(f"Message: <<{t}>>") else 0.0 for t in test]
        pred = [model.reward(t) for t in test]
        accuracy = float(np.mean(np.array(pred) == np.array(truth)))
        assert model.gradient_steps == 6 * 32
        assert model.version == 6
        assert accuracy >= 0.95, accuracy


def test_ranking_model_orders_messages_like_the_preferences():
    llm = RuleBasedLLM()
    with Annotator(llm, "dungeon", "dungeon") as annotator:
        model = RankingRewardModel(annotator, background=False, lr=3e-3, width=16, batch_size=64)
        for t in _synthetic_messages(np.random.default_rng(2), 200):
            model.reward(t)
        assert annotator.wait_idle(30)
        assert model.update()
        for _ in range(5):
            model.update(force=True)
        good = model._score("You descend to level 7.")
        bad = model._score("There is nothing here to pick up.")
        assert good > bad
        assert len(model._pairs) > 50


def test_background_training_swaps_the_model_in():
    """The trainer thread learns from new labels and swaps its network in; reward() meanwhile
    answers from the current one (0 before the first round)."""
    import time

    with Annotator(RuleBasedLLM(), "dungeon") as annotator:
        model = ClassifierRewardModel(
            annotator, lr=3e-3, width=8, batch_size=32, steps_per_update=8, poll_s=0.02
        )
        try:
            texts = _synthetic_messages(np.random.default_rng(3), 60)
            assert all(model.reward(t) == 0.0 for t in texts)  # untrained: 0, never waits
            deadline = time.monotonic() + 60
            while model.version == 0 and time.monotonic() < deadline:
                model.reward(texts[0])
                time.sleep(0.01)
            assert model.version >= 1 and model.gradient_steps >= 8
            assert model.reward(texts[0]) in (0.0, 1.0)
        finally:
            model.close()
        assert not model._thread.is_alive()

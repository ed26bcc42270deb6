"""UI-S1 matching and the step score against METHODS §1's reference values."""

from __future__ import annotations

import pytest

from rewardgym.envs.gui import GuiAction, action_level, step_score
from rewardgym.envs.gui.dataset import action_from_record, action_record
from rewardgym.envs.gui.matching import point_matches, texts_match
from rewardgym.shaping.transforms import uis1_step_score

W, H = 1080, 2400
BOX = (400, 1000, 600, 1100)  # centre (500, 1050), 200 x 100


def click(x, y):
    return GuiAction("click", x=x, y=y)


@pytest.mark.parametrize(
    ("x", "y", "hit"),
    [
        (500, 1050, True),
        (610, 1050, True),  # 10 px outside the box, inside the 1.2x box (half-width 120)
        (619, 1104, True),  # corner of the enlarged box
        (621, 1050, False),  # just outside 1.2x, and 121 px = 0.112 from the centre
        (500, 1111, False),
    ],
)
def test_boxes_are_enlarged_1_2x_about_their_centre(x, y, hit):
    assert point_matches((x, y), [BOX], None, W, H) is hit


def test_the_004_distance_rule_uses_normalised_coordinates():
    target = (500, 1050)
    inside = (500 + 0.039 * W, 1050)  # 0.039 < 0.04
    outside = (500 + 0.041 * W, 1050)
    assert point_matches(inside, [], target, W, H)
    assert not point_matches(outside, [], target, W, H)
    diagonal = (500 + 0.03 * W, 1050 + 0.03 * H)  # sqrt(2)*0.03 = 0.042
    assert not point_matches(diagonal, [], target, W, H)
    gold = GuiAction("click", x=500, y=1050)
    assert action_level(click(500 + 40, 1050), gold, [], width=W, height=H) == "exact"  # 0.037
    assert action_level(click(500 + 45, 1050), gold, [], width=W, height=H) == "wrong_args"  # 0.042


def test_swipes_compare_directions_after_flipping_the_datasets_scroll_direction():
    stored = {"action": "scroll", "direction": "down"}  # the list scrolls down ...
    gold = action_from_record(stored)
    assert gold == GuiAction("swipe", direction="up")  # ... because the finger moves up
    assert action_level(GuiAction("swipe", direction="up"), gold, width=W, height=H) == "exact"
    assert (
        action_level(GuiAction("swipe", direction="down"), gold, width=W, height=H) == "wrong_args"
    )
    assert action_record(GuiAction("swipe", direction="up")) == stored


@pytest.mark.parametrize(
    ("a", "b", "ok"),
    [
        ("running late", "  Running Late ", True),
        ("running", "I am running late", True),
        ("I am running late", "late", True),
        ("on my way", "running late", False),
        ("", "x", False),
    ],
)
def test_text_matching_is_a_case_insensitive_substring_either_way(a, b, ok):
    assert texts_match(a, b) is ok
    level = action_level(GuiAction("type", text=a), GuiAction("type", text=b), width=W, height=H)
    assert level == ("exact" if ok else "wrong_args")


def test_levels_for_each_kind():
    level = lambda p, g: action_level(p, g, width=W, height=H)  # noqa: E731
    assert level(None, GuiAction("wait")) == "unparseable"
    assert level(GuiAction("wait"), GuiAction("terminate", text="success")) == "wrong_type"
    assert (
        level(GuiAction("terminate", text="failure"), GuiAction("terminate", text="success"))
        == "exact"
    )
    assert (
        level(GuiAction("system_button", button="home"), GuiAction("system_button", button="back"))
        == "wrong_args"
    )
    assert level(GuiAction("open", text="contacts"), GuiAction("open", text="Contacts")) == "exact"


def test_the_three_reference_step_scores():
    assert step_score(True, "exact") == pytest.approx(1.0)
    assert step_score(True, "wrong_args") == pytest.approx(0.55)
    assert step_score(False, "wrong_type") == pytest.approx(0.09)
    for thought in (True, False):
        for level in ("unparseable", "wrong_type", "wrong_args", "exact"):
            assert step_score(thought, level) == pytest.approx(uis1_step_score(thought, level))

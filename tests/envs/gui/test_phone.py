"""The simulated phone: widgets with boxes, two views of every screen, experts that always succeed."""

from __future__ import annotations

import numpy as np
import pytest

from rewardgym.envs.gui import TEMPLATES, make_task, record_trajectory, screen_elements
from rewardgym.envs.gui.expert import expert_step
from rewardgym.envs.gui.phone import Phone
from rewardgym.envs.gui.tasks import APP_CLASSES
from rewardgym.envs.gui.widgets import DEVICE_HEIGHT, DEVICE_WIDTH


def run_expert(template: str, seed: int) -> tuple[bool, int]:
    phone, task = make_task(template, seed)
    index = 0
    for steps in range(1, 41):
        step = expert_step(phone, task.plan[index])
        if step.action.type == "terminate":
            return task.check(phone), steps
        phone.perform(step.action)
        index += step.advances
    return False, 40


def test_the_phone_has_eight_apps_and_forty_templates():
    assert {c.name for c in APP_CLASSES} >= {
        "Settings", "Contacts", "Messages", "Calendar", "Notes", "Shop", "Files", "Clock"
    }  # fmt: skip
    assert len(TEMPLATES) >= 40
    assert {t.app for t in TEMPLATES.values()} == {c.name for c in APP_CLASSES}


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_every_template_is_solved_by_its_expert(template):
    lengths = []
    for seed in range(12):
        ok, steps = run_expert(template, seed)
        assert ok, f"the expert failed {template}#{seed}"
        lengths.append(steps)
    assert min(lengths) >= 2 and max(lengths) <= 16


@pytest.mark.slow
def test_experts_solve_every_template_over_many_seeds():
    failures = [f"{t}#{s}" for t in TEMPLATES for s in range(12, 112) if not run_expert(t, s)[0]]
    assert failures == []


def test_task_instances_are_seeded():
    a, b = make_task("contacts.add", 7), make_task("contacts.add", 7)
    assert a[1].goal == b[1].goal and a[0].a11y() == b[0].a11y()
    goals = {make_task("contacts.add", s)[1].goal for s in range(10)}
    assert len(goals) > 5


def test_a_task_fails_when_nothing_is_done():
    phone, task = make_task("settings.turn_on", 3)
    assert not task.check(phone)


def test_every_widget_has_a_box_on_screen_and_both_views_agree():
    trajectory = record_trajectory("shop.buy_cheapest#2", size=(270, 600))
    for step in trajectory.steps:
        elements = screen_elements(step.a11y)
        assert elements
        for el in elements:
            x0, y0, x1, y1 = el["bbox"]
            assert 0 <= x0 < x1 <= DEVICE_WIDTH and 0 <= y0 < y1 <= DEVICE_HEIGHT
        assert step.frame_array.shape == (600, 270, 3) and step.frame_array.dtype == np.uint8
    # the keyboard appears in both views once the search field has focus
    typed = next(s for s in trajectory.steps if s.action.type == "type")
    assert any(e["resource_id"] == "key:q" for e in screen_elements(typed.a11y))


def test_screenshot_changes_with_the_screen_and_has_the_requested_size():
    phone, _ = make_task("settings.turn_on", 0)
    home = phone.screenshot(540, 1200)
    phone.open_app("Settings")
    settings = phone.screenshot(540, 1200)
    assert home.shape == settings.shape == (1200, 540, 3)
    assert not np.array_equal(home, settings)
    assert phone.screenshot(108, 240).shape == (240, 108, 3)


def test_widgets_behave_like_android():
    phone = Phone(APP_CLASSES, np.random.default_rng(0))
    phone.open_app("Contacts")
    screen = phone.screen()
    rows = screen.lists["Contacts:contacts"]
    assert len(rows.rows) > rows.visible  # the list is longer than the screen
    first_visible = rows.rows[0].rid
    phone.swipe("up")  # finger up: later rows come into view
    assert phone.screen().find(first_visible) is None
    phone.swipe("down")
    assert phone.screen().find(first_visible) is not None
    # a text field opens the keyboard; back first hides it, then leaves the page
    phone.tap(*phone.screen().find("Contacts:add").center)
    phone.tap(*phone.screen().find("Contacts:first").center)
    assert phone.screen().keyboard
    phone.tap(*phone.screen().find("key:z").center)
    phone.type_text("oe")
    assert phone.screen().find("Contacts:first").text == "zoe"
    phone.system_button("back")
    assert not phone.screen().keyboard and phone.screen().title == "New contact"
    phone.system_button("back")
    assert phone.screen().title == "Contacts"
    phone.system_button("home")
    assert phone.current is None


def test_a_dialog_hides_what_it_covers():
    phone, task = make_task("messages.delete_thread", 1)
    phone.open_app("Messages")
    rid = task.plan[1].target
    phone.long_press(*phone.screen().find(rid).center)
    screen = phone.screen()
    assert screen.dialog
    assert screen.find(rid) is None and screen.find("Messages:dialog_delete") is not None

"""The GUI family: a simulated phone, UI-S1's semi-online replay, and MiniWoB++ pages in Chromium.

``rewardgym/GUI-Online-v0`` is the live phone (:class:`GuiOnlineEnv`),
``rewardgym/GUI-SemiOnline-v0`` replays expert trajectories with the policy's own history and
UI-S1's step score (:class:`GuiSemiOnlineEnv`), ``rewardgym/GUI-Offline-v0`` scores one step
(:class:`GuiOfflineEnv`). The phone is built from one widget model (:mod:`.widgets`), eight
apps (:mod:`.apps_system`, :mod:`.apps_people`) and 46 task templates with scripted experts
(:mod:`.tasks`, :mod:`.expert`); actions follow UI-S1 (:mod:`.actions`, :mod:`.matching`).
"""

from __future__ import annotations

from rewardgym.envs.gui.actions import ACTION_TYPES, ActionError, GuiAction, parse_action
from rewardgym.envs.gui.dataset import build_dataset, load_dataset, record_trajectory, task_ids
from rewardgym.envs.gui.env import GuiConfig, GuiOnlineEnv, screen_elements
from rewardgym.envs.gui.matching import action_level, step_score
from rewardgym.envs.gui.semionline import GuiOfflineEnv, GuiSemiOnlineEnv
from rewardgym.envs.gui.tasks import TEMPLATES, make_task

__all__ = [
    "ACTION_TYPES",
    "TEMPLATES",
    "ActionError",
    "GuiAction",
    "GuiConfig",
    "GuiOfflineEnv",
    "GuiOnlineEnv",
    "GuiSemiOnlineEnv",
    "action_level",
    "build_dataset",
    "load_dataset",
    "make_task",
    "parse_action",
    "record_trajectory",
    "screen_elements",
    "step_score",
    "task_ids",
]

"""The social deduction family: an Among Us-like game on PettingZoo (METHODS.md §4).

- :mod:`~rewardgym.envs.social.config`: :class:`SocialConfig` (the rules) and the action layout;
- :mod:`~rewardgym.envs.social.game`: :class:`SocialGame`, the rules without any RL API
  (gameplay), with :mod:`~rewardgym.envs.social.meeting` (the discussion and the vote);
- :mod:`~rewardgym.envs.social.rewards`: the reward math (speaking reward, crew belief, surveys);
- :mod:`~rewardgym.envs.social.actions`: the action space and the checks of agent input;
- :mod:`~rewardgym.envs.social.env`: :class:`SocialDeductionEnv` (``ParallelEnv``) and
  ``env()`` (its AEC face), with :mod:`~rewardgym.envs.social.observations` (what agents see).
"""

from __future__ import annotations

from rewardgym.envs.social.config import COLOURS, MOVES, PHASES, ActionLayout, SocialConfig
from rewardgym.envs.social.env import SocialDeductionEnv, env, parallel_env
from rewardgym.envs.social.game import SocialGame, SurveyRecord
from rewardgym.envs.social.rewards import (
    DEFAULT_WEIGHTS,
    REWARD_COMPONENTS,
    crew_belief,
    speaking_reward,
)

__all__ = [
    "COLOURS",
    "DEFAULT_WEIGHTS",
    "MOVES",
    "PHASES",
    "REWARD_COMPONENTS",
    "ActionLayout",
    "SocialConfig",
    "SocialDeductionEnv",
    "SocialGame",
    "SurveyRecord",
    "crew_belief",
    "env",
    "parallel_env",
    "speaking_reward",
]

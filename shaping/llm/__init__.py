"""LLM-derived rewards (layer 3): ONI's annotator and intrinsic reward models, LLM judges,
LLM-written reward code run in the sandbox, and a CALM-style subgoal potential.

See docs/llm_rewards.md.
"""

from __future__ import annotations

from rewardgym.shaping.llm.annotator import Annotator
from rewardgym.shaping.llm.cache import LabelCache
from rewardgym.shaping.llm.models import (
    ClassifierRewardModel,
    HashRewardModel,
    RankingRewardModel,
    RewardModel,
    bradley_terry_loss,
    count_scale,
    oni_mix,
)
from rewardgym.shaping.llm.prompts import HELPFULNESS_PROMPTS, PAIRWISE_PROMPTS, PromptTemplate
from rewardgym.shaping.llm.rules import RuleBasedLLM
from rewardgym.shaping.llm.wrapper import LLMIntrinsicReward

__all__ = [
    "HELPFULNESS_PROMPTS",
    "PAIRWISE_PROMPTS",
    "Annotator",
    "ClassifierRewardModel",
    "HashRewardModel",
    "LLMIntrinsicReward",
    "LabelCache",
    "PromptTemplate",
    "RankingRewardModel",
    "RewardModel",
    "RuleBasedLLM",
    "bradley_terry_loss",
    "count_scale",
    "oni_mix",
]

"""LLM-derived rewards (layer 3): ONI's annotator and intrinsic reward models, LLM judges,
LLM-written reward code run in the sandbox, and a CALM-style subgoal potential.

See docs/llm_rewards.md.
"""

from __future__ import annotations

from rewardgym.shaping.llm.annotator import Annotator
from rewardgym.shaping.llm.cache import LabelCache
from rewardgym.shaping.llm.calm import LLMSubgoalDetector, SubgoalPotential, propose_subgoals
from rewardgym.shaping.llm.judge import (
    JUDGE_RUBRICS,
    MASTER_KEY_PROBES,
    JudgeCheckFailed,
    JudgeReward,
    LLMJudge,
)
from rewardgym.shaping.llm.lare import LatentDecoder, LatentReward
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
from rewardgym.shaping.llm.sandboxed import SandboxedProgram, WrittenReward, check_program
from rewardgym.shaping.llm.wrapper import LLMIntrinsicReward
from rewardgym.shaping.llm.written import (
    CodeRejected,
    WrittenCode,
    analyze_trajectories,
    design_reward,
    reward_matrix,
    write_evaluation_func,
)

__all__ = [
    "HELPFULNESS_PROMPTS",
    "JUDGE_RUBRICS",
    "MASTER_KEY_PROBES",
    "PAIRWISE_PROMPTS",
    "Annotator",
    "ClassifierRewardModel",
    "CodeRejected",
    "HashRewardModel",
    "JudgeCheckFailed",
    "JudgeReward",
    "LLMIntrinsicReward",
    "LLMJudge",
    "LLMSubgoalDetector",
    "LabelCache",
    "LatentDecoder",
    "LatentReward",
    "PromptTemplate",
    "RankingRewardModel",
    "RewardModel",
    "RuleBasedLLM",
    "SandboxedProgram",
    "SubgoalPotential",
    "WrittenCode",
    "WrittenReward",
    "analyze_trajectories",
    "bradley_terry_loss",
    "check_program",
    "count_scale",
    "design_reward",
    "oni_mix",
    "propose_subgoals",
    "reward_matrix",
    "write_evaluation_func",
]

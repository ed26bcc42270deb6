"""Layer 3: step wrappers, group transforms and LLM-derived rewards.

* :mod:`rewardgym.shaping.wrappers` — Gymnasium wrappers that re-weight or add one named term
  each (``shaping/<name>``), keeping ``reward == sum(weights * components)``;
* :mod:`rewardgym.shaping.transforms` — rewards/advantages over the rollouts of one task
  (GRPO, VeRPO, MASH, UI-S1, unlikeliness, PAR, ...);
* :mod:`rewardgym.shaping.analysis` — STARC distance and policy-invariance checks on tabular
  MDPs;
* :mod:`rewardgym.shaping.config` — ``from_config`` and the named reward recipes;
* :mod:`rewardgym.shaping.llm` — LLM-derived rewards: ONI's annotator and intrinsic reward
  models, LLM judges, LLM-written reward code run in the sandbox, CALM subgoal potentials
  (docs/llm_rewards.md).

See docs/shaping.md for the catalogue.
"""

from __future__ import annotations

from rewardgym.shaping.analysis import check_policy_invariance, starc_distance
from rewardgym.shaping.config import RECIPES, WRAPPERS, from_config, transform_from_config
from rewardgym.shaping.llm import (
    Annotator,
    JudgeReward,
    LabelCache,
    LatentReward,
    LLMIntrinsicReward,
    LLMJudge,
    RuleBasedLLM,
    SubgoalPotential,
    WrittenReward,
)
from rewardgym.shaping.transforms import (
    PAR,
    TRANSFORMS,
    BoundedReward,
    ClipDelta,
    CurriculumMix,
    DynamicSampling,
    GroupNormalize,
    GroupResult,
    GroupTransform,
    MashPenalty,
    PosteriorGate,
    ReNorm,
    UIS1Advantage,
    UIS1Returns,
    Unlikeliness,
    VeRPOReward,
    group_by_task,
)
from rewardgym.shaping.wrappers import (
    ClipReward,
    CostPenalty,
    InvalidActionPenalty,
    PotentialShaping,
    RewardNoise,
    ReweightComponents,
    RunningNormalize,
    ShapingWrapper,
    StepPenalty,
    stack_spec,
)

__all__ = [
    "PAR",
    "RECIPES",
    "TRANSFORMS",
    "WRAPPERS",
    "Annotator",
    "BoundedReward",
    "ClipDelta",
    "ClipReward",
    "CostPenalty",
    "CurriculumMix",
    "DynamicSampling",
    "GroupNormalize",
    "GroupResult",
    "GroupTransform",
    "InvalidActionPenalty",
    "JudgeReward",
    "LLMIntrinsicReward",
    "LLMJudge",
    "LabelCache",
    "LatentReward",
    "MashPenalty",
    "PosteriorGate",
    "PotentialShaping",
    "ReNorm",
    "RewardNoise",
    "ReweightComponents",
    "RuleBasedLLM",
    "RunningNormalize",
    "ShapingWrapper",
    "StepPenalty",
    "SubgoalPotential",
    "UIS1Advantage",
    "UIS1Returns",
    "Unlikeliness",
    "VeRPOReward",
    "WrittenReward",
    "check_policy_invariance",
    "from_config",
    "group_by_task",
    "stack_spec",
    "starc_distance",
    "transform_from_config",
]

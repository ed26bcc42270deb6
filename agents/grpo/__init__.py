"""A GRPO trainer for language policies on rewardgym's text envs (``rewardgym train grpo``).

:class:`GRPOConfig` (pydantic, loadable from YAML) describes a run; :class:`GRPOTrainer` rolls
out G episodes per task through ``gym.make`` envs with a local transformers policy, turns them
into advantages with any group transform of ``rewardgym.shaping`` and updates the policy with a
clipped policy-gradient loss over the generated tokens. See docs/training.md.
"""

from rewardgym.agents.grpo.config import (
    GRPOConfig,
    LoraSettings,
    build_transform,
    check_config,
    load_config,
)
from rewardgym.agents.grpo.trainer import GRPOTrainer, group_advantages, latest_checkpoint

__all__ = [
    "GRPOConfig",
    "GRPOTrainer",
    "LoraSettings",
    "build_transform",
    "check_config",
    "group_advantages",
    "latest_checkpoint",
    "load_config",
]

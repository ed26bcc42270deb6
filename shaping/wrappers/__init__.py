"""Step wrappers: Gymnasium wrappers that re-weight or add one named reward term each.

Every wrapper here keeps the step contract of ARCHITECTURE.md §2: it copies the ``info`` dicts
it changes (the env's own dicts are never mutated), adds exactly one component named
``shaping/<name>`` (or re-weights existing ones), and returns the reward so that
``reward == sum(reward_weights[k] * reward_components[k])`` keeps holding. Each records its
parameters through :meth:`ShapingWrapper.shaping_spec` (:func:`stack_spec` lists a whole stack),
so a result can say which reward produced it. The method is not called ``spec``: on a Gymnasium
wrapper ``spec`` is the ``EnvSpec`` property, which stays intact through a shaping stack.

Conventions shared by the additive wrappers: the component holds the *signed shaping term*
(e.g. ``-0.01`` for a step penalty) and carries weight ``weight`` (default 1.0), so a later
:class:`ReweightComponents` can scale or silence it. The component is reported with value 0 on
``reset`` so every info of an episode has the same keys.

One module per concept: :mod:`~rewardgym.shaping.wrappers.base` (``ShapingWrapper``,
``stack_spec``), ``reweight``, ``potential``, ``penalties`` (step, invalid-action and cost
penalties), ``scale`` (clipping, running normalisation) and ``noise``.
"""

from __future__ import annotations

from rewardgym.shaping.wrappers.base import Potential, ShapingWrapper, stack_spec
from rewardgym.shaping.wrappers.noise import RewardNoise
from rewardgym.shaping.wrappers.penalties import CostPenalty, InvalidActionPenalty, StepPenalty
from rewardgym.shaping.wrappers.potential import PotentialShaping
from rewardgym.shaping.wrappers.reweight import ReweightComponents
from rewardgym.shaping.wrappers.scale import ClipReward, RunningNormalize

__all__ = [
    "ClipReward",
    "CostPenalty",
    "InvalidActionPenalty",
    "Potential",
    "PotentialShaping",
    "RewardNoise",
    "ReweightComponents",
    "RunningNormalize",
    "ShapingWrapper",
    "StepPenalty",
    "stack_spec",
]

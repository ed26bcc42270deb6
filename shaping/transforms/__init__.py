"""Group transforms: rewards and advantages computed over all rollouts of one task at once.

One module per method family: :mod:`~rewardgym.shaping.transforms.base` (the protocol),
:mod:`~rewardgym.shaping.transforms.normalize` (GRPO, dynamic sampling),
:mod:`~rewardgym.shaping.transforms.code` (VeRPO, Posterior-GRPO),
:mod:`~rewardgym.shaping.transforms.search` (MASH), :mod:`~rewardgym.shaping.transforms.gui`
(UI-S1), :mod:`~rewardgym.shaping.transforms.unlikeliness`,
:mod:`~rewardgym.shaping.transforms.par` (PAR and its bounded baselines) and
:mod:`~rewardgym.shaping.transforms.process` (Clip/Delta, curriculum mix, ReNorm).

The protocol (ARCHITECTURE.md §4): a transform is a callable over the
:class:`~rewardgym.records.EpisodeRecord` s of ONE ``task_id`` (a GRPO group) that returns a
:class:`GroupResult`. Methods that need memory across groups (MASH's historic minimum, VeRPO's
running per-test statistics, the curriculum's global step, running z-scores) keep it in the
object and expose ``state_dict()`` / ``load_state_dict()``; the others are pure.

:class:`GroupResult` has one value per episode and per step (``per_step[i][t]``) and one
episode-level value per episode (``per_episode[i]``), with ``kind`` ``"reward"`` or
``"advantage"``:

* an episode-level **reward** sits on the last step (zeros before it), so
  ``sum(per_step[i]) == per_episode[i]``;
* an episode-level **advantage** is broadcast to every step (every step/token of a sample
  shares it, as in GRPO);
* step-level methods fill ``per_step``; their ``per_episode`` is documented per method
  (the return from the first step, or the sum).

What each transform reads from the records (the keys envs and rollout code must record):

==========================  ===================================================================
transform                   reads
==========================  ===================================================================
GroupNormalize              ``EpisodeRecord.total_reward`` (or a component's sum, or another
                            transform's ``per_episode``)
VeRPOReward                 ``StepRecord.extras["test_results"]`` of the last step that has it:
                            a list of bools, or of ``{"id", "passed"}`` dicts, in a stable order
PosteriorGate               component sums ``format``, ``task``, ``process`` (names settable)
MashPenalty                 ``EpisodeRecord.cost["searches"]``; correctness = ``task_return``
UIS1Returns/UIS1Advantage   step score = ``StepRecord.reward`` (or a component/extras key);
                            ``StepRecord.extras["matched"]`` (bool)
Unlikeliness                ``EpisodeRecord.metadata["logprob"]`` (mean token log-prob, or a
                            list of token log-probs), else the steps' ``extras["logprob"]``
PAR / BoundedReward         the episode reward; PAR's references from ``reference`` or
                            ``EpisodeRecord.metadata["reference_rewards"]``
ClipDelta, ReNorm           per-step component ``process`` (and ``task`` for ReNorm)
CurriculumMix               component sums ``process`` and ``task``
DynamicSampling             the same sources as GroupNormalize
==========================  ===================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rewardgym.shaping.transforms.base import GroupResult, GroupTransform, group_by_task
from rewardgym.shaping.transforms.code import PosteriorGate, VeRPOReward
from rewardgym.shaping.transforms.gui import (
    UIS1_ACTION_LEVELS,
    UIS1Advantage,
    UIS1Returns,
    uis1_center,
    uis1_discounted_returns,
    uis1_step_score,
)
from rewardgym.shaping.transforms.normalize import DynamicSampling, GroupNormalize, group_normalize
from rewardgym.shaping.transforms.par import PAR, BoundedReward, par_reward
from rewardgym.shaping.transforms.process import ClipDelta, CurriculumMix, ReNorm
from rewardgym.shaping.transforms.search import MashPenalty, mash_rewards
from rewardgym.shaping.transforms.unlikeliness import Unlikeliness

__all__ = [
    "PAR",
    "TRANSFORMS",
    "UIS1_ACTION_LEVELS",
    "BoundedReward",
    "ClipDelta",
    "CurriculumMix",
    "DynamicSampling",
    "GroupNormalize",
    "GroupResult",
    "GroupTransform",
    "MashPenalty",
    "PosteriorGate",
    "ReNorm",
    "UIS1Advantage",
    "UIS1Returns",
    "Unlikeliness",
    "VeRPOReward",
    "group_by_task",
    "group_normalize",
    "mash_rewards",
    "par_reward",
    "uis1_center",
    "uis1_discounted_returns",
    "uis1_step_score",
]

#: Every group transform by name (for configs).
TRANSFORMS: dict[str, Callable[..., Any]] = {
    cls.__name__: cls
    for cls in (
        GroupNormalize,
        VeRPOReward,
        PosteriorGate,
        MashPenalty,
        UIS1Returns,
        UIS1Advantage,
        DynamicSampling,
        Unlikeliness,
        PAR,
        BoundedReward,
        ClipDelta,
        CurriculumMix,
        ReNorm,
    )
}

"""``LLMIntrinsicReward``: ONI's intrinsic reward as a step wrapper, for any env with a message.

The env's own reward is kept, every one of its weights scaled by ``c_ext``; the wrapper adds
``shaping/llm_intrinsic`` = ``r_int / n_msg**beta`` with weight ``c_llm``, where ``r_int`` is
the reward model's value for this step's ``info["message"]`` and ``n_msg`` counts this exact
message in the episode. So the scalar is ONI's ``c_ext*r_ext + c_llm*r_int/n_msg**beta`` and
``reward == sum(weights * components)`` holds. The LLM is never waited for: until a message is
labelled (or the model trained) it is worth 0.
"""

from __future__ import annotations

import logging
from typing import Any

import gymnasium as gym

from rewardgym.errors import ConfigError
from rewardgym.shaping.llm.annotator import Annotator
from rewardgym.shaping.llm.models import RewardModel, make_model
from rewardgym.shaping.wrappers.base import ShapingWrapper, _finite, _owned_info

__all__ = ["LLMIntrinsicReward"]

log = logging.getLogger("rewardgym.shaping.llm.wrapper")


class LLMIntrinsicReward(ShapingWrapper):
    """ONI's LLM-derived intrinsic reward (METHODS §5) under ``shaping/llm_intrinsic``.

    ``info`` also carries ``llm_labelled_fraction`` (share of this episode's message steps
    whose message had a label) and ``llm_queue_length``; the last step of an episode carries
    the annotator's full ``llm_annotator`` statistics (queue, latency, drops, failures).

    Args:
        env: an env whose ``info`` has a text under ``message_key`` (the dungeon and NLE envs).
        annotator: the :class:`Annotator` that labels messages (shared between envs is fine;
            the caller owns it: ``close()`` stops the reward model, not the annotator).
        model: ``"hash"``, ``"classifier"`` or ``"ranking"``, or a built :class:`RewardModel`.
        c_ext: scale of the env's own reward (ONI: 0.1 on the score task, 10 on sparse ones).
        c_llm: weight of the intrinsic term (ONI: 0.4).
        beta: count-scaling exponent (ONI: 3).
        message_key: the ``info`` key holding the step's message.
        model_kwargs: arguments for the model when ``model`` is a name.
    """

    shaping_name = "llm_intrinsic"

    def __init__(
        self,
        env: gym.Env,
        annotator: Annotator,
        model: str | RewardModel = "hash",
        c_ext: float = 0.1,
        c_llm: float = 0.4,
        beta: float = 3.0,
        message_key: str = "message",
        model_kwargs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(env)
        if not isinstance(annotator, Annotator):
            raise ConfigError(
                f"LLMIntrinsicReward.annotator must be an Annotator, got {annotator!r}"
            )
        self.annotator = annotator
        if isinstance(model, RewardModel):
            if model.annotator is not annotator:
                raise ConfigError("LLMIntrinsicReward: the model was built on another annotator")
            self.model = model
        else:
            self.model = make_model(str(model), annotator, **(model_kwargs or {}))
        self.c_ext = _finite("c_ext", c_ext)
        self.c_llm = _finite("c_llm", c_llm)
        self.weight = self.c_llm
        self.beta = _finite("beta", beta, minimum=0.0)
        self.message_key = str(message_key)
        self._counts: dict[str, int] = {}
        self._message_steps = 0
        self._labelled_steps = 0
        self._failures = 0

    def _params(self) -> dict[str, Any]:
        return {
            "c_ext": self.c_ext,
            "c_llm": self.c_llm,
            "beta": self.beta,
            "message_key": self.message_key,
            **self.model.spec(),
        }

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        if self.message_key not in info:
            raise ConfigError(
                f"LLMIntrinsicReward: {type(self.env.unwrapped).__name__} reports no "
                f"info[{self.message_key!r}]; pass message_key= naming its text message"
            )
        self._counts.clear()
        self._message_steps = self._labelled_steps = 0
        info = self._scaled(info, 0.0)
        info["llm_labelled_fraction"] = 0.0
        info["llm_queue_length"] = len(self.annotator._queue)
        return obs, info

    def step(self, action: Any):
        # The hot path: one dict lookup per step once a message is labelled (see the benchmark).
        obs, reward, terminated, truncated, info = self.env.step(action)
        message = info.get(self.message_key)
        value = 0.0
        if message and isinstance(message, str):
            counts = self._counts
            n = counts[message] = counts.get(message, 0) + 1
            self._message_steps += 1
            try:
                r_int = self.model.reward(message)
            except Exception as exc:
                r_int = 0.0
                self._failures += 1
                if self._failures == 1 or self._failures % 1000 == 0:
                    log.warning("LLM intrinsic reward failed (%s); using 0", exc)
            if message in self.annotator._by_text:
                self._labelled_steps += 1
            if r_int:
                value = r_int * n**-self.beta
        c_ext = self.c_ext
        if self._owned:
            weights = info["reward_weights"]
            for key in weights:
                weights[key] *= c_ext
        else:
            info = dict(info)
            info["reward_components"] = dict(info["reward_components"])
            weights = info["reward_weights"] = {
                k: w * c_ext for k, w in info["reward_weights"].items()
            }
        info["reward_components"][self.component_name] = value
        weights[self.component_name] = self.c_llm
        # == weighted_reward over the new dicts, up to float rounding (c_ext factored out)
        reward = c_ext * float(reward) + self.c_llm * value
        info["llm_labelled_fraction"] = self._labelled_steps / (self._message_steps or 1)
        info["llm_queue_length"] = len(self.annotator._queue)
        if terminated or truncated:
            info["llm_annotator"] = {**self.annotator.stats(), **self.model.stats()}
        return obs, reward, terminated, truncated, info

    def _scaled(self, info: dict[str, Any], value: float) -> dict[str, Any]:
        info = _owned_info(info, self._owned)
        weights = info["reward_weights"]
        for key in weights:
            weights[key] *= self.c_ext
        info["reward_components"][self.component_name] = float(value)
        weights[self.component_name] = self.c_llm
        return info

    def close(self) -> None:
        self.model.close()
        super().close()

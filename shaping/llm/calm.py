"""CALM-style subgoals as a potential: ``Phi = lambda * subgoals reached`` (METHODS §5).

An LLM splits the task into subgoals (:func:`propose_subgoals`) and judges, per transition,
whether the step's message shows one reached (:class:`LLMSubgoalDetector`). Instead of paying
a bonus per subgoal (which an agent could farm or which could change the optimal policy),
:class:`SubgoalPotential` gives ``F = gamma * Phi(s') * (1 - terminated) - Phi(s)``: potential-
based shaping over the state augmented with the set of subgoals reached this episode, so
the optimal policy of that augmented problem is unchanged and the discounted sum of F over a
terminated episode is ``-Phi(s_0) = 0``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gymnasium as gym

from rewardgym.errors import ConfigError
from rewardgym.llm.base import LLMClient
from rewardgym.shaping.llm.cache import LabelCache
from rewardgym.shaping.llm.prompts import prompt_hash
from rewardgym.shaping.wrappers.base import ShapingWrapper, _finite

__all__ = ["LLMSubgoalDetector", "SubgoalPotential", "propose_subgoals"]

_DECOMPOSE = (
    "Task: <<{task}>>\nSplit this task into at most {n} short subgoals an agent reaches in "
    "order. Answer with a numbered list, one subgoal per line."
)
_DETECT = (
    "An agent works on a task. Subgoal: <<{subgoal}>>\nThe game just printed:\n"
    "Message: <<{message}>>\nDoes this message show the subgoal reached? Finish with "
    '("reached": yes) or ("reached": no).'
)
_REACHED_RE = re.compile(r"\"?reached\"?\s*[:=]\s*\"?(yes|no)\b", re.IGNORECASE)

Detector = Callable[[str, str, Mapping[str, Any]], bool]


def propose_subgoals(client: LLMClient, task: str, max_subgoals: int = 5) -> list[str]:
    """The LLM's subgoals for ``task`` (parsed from a numbered or bulleted list)."""
    text = client.complete(
        _DECOMPOSE.format(task=task, n=max_subgoals), max_tokens=128, temperature=0.0
    ).text
    goals = []
    for line in text.splitlines():
        m = re.match(r"\s*(?:\d+[.)]|[-*])\s+(.+)", line)
        if m:
            goals.append(m.group(1).strip())
    return goals[:max_subgoals]


class LLMSubgoalDetector:
    """Asks an LLM whether a message shows a subgoal reached; answers cached per prompt.

    Synchronous (CALM judges each transition), but each distinct (subgoal, message) is asked
    once: messages repeat, so after warm-up nearly every step is a cache hit.
    """

    def __init__(self, client: LLMClient, cache: LabelCache | None = None) -> None:
        if not isinstance(client, LLMClient):
            raise ConfigError(f"LLMSubgoalDetector needs an LLMClient, got {client!r}")
        self.client = client
        self.model_id = str(getattr(client, "model", type(client).__name__))
        self.cache = cache if cache is not None else LabelCache(":memory:")
        self._memo: dict[tuple[str, str], bool] = {}

    def __call__(self, subgoal: str, message: str, state: Mapping[str, Any]) -> bool:
        key = (subgoal, message)
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        prompt = _DETECT.format(subgoal=subgoal, message=message)
        h = prompt_hash(prompt)
        stored = self.cache.get(self.model_id, h)
        if stored is not None and stored[0] is not None:
            value = bool(stored[0])
        else:
            answer = self.client.complete(prompt, max_tokens=32, temperature=0.0).text
            found = _REACHED_RE.findall(answer)
            value = bool(found) and found[-1].lower() == "yes"
            self.cache.put(self.model_id, h, float(value), answer)
        self._memo[key] = value
        return value


class SubgoalPotential(ShapingWrapper):
    """Potential-based subgoal shaping under ``shaping/subgoals`` (CALM, made policy-safe).

    ``info["subgoals_reached"]`` lists the subgoals reached so far this episode.

    Args:
        env: an env with a text message in ``info[message_key]``.
        subgoals: the subgoals (e.g. from :func:`propose_subgoals`).
        detector: ``(subgoal, message, info) -> bool`` (e.g. an :class:`LLMSubgoalDetector`).
        lam: the potential per subgoal reached.
        gamma: the learner's discount.
        message_key: the ``info`` key of the step's message.
    """

    shaping_name = "subgoals"

    def __init__(
        self,
        env: gym.Env,
        subgoals: Sequence[str],
        detector: Detector,
        lam: float = 1.0,
        gamma: float = 0.99,
        message_key: str = "message",
    ) -> None:
        super().__init__(env)
        self.subgoals = [str(s) for s in subgoals]
        if not self.subgoals:
            raise ConfigError("SubgoalPotential needs at least one subgoal")
        if not callable(detector):
            raise ConfigError(f"detector must be callable, got {detector!r}")
        self.detector = detector
        self.lam = _finite("lam", lam)
        self.gamma = _finite("gamma", gamma, minimum=0.0)
        if self.gamma > 1.0:
            raise ConfigError(f"gamma must be in [0, 1], got {self.gamma}")
        self.message_key = message_key
        self.reached: set[str] = set()
        self._phi = 0.0

    def _params(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"subgoals": list(self.subgoals), "lam": self.lam,
                                "gamma": self.gamma, "message_key": self.message_key}  # fmt: skip
        if isinstance(self.detector, LLMSubgoalDetector):
            spec["llm_model_id"] = self.detector.model_id
            spec["prompt_hash"] = prompt_hash(_DETECT)
        return spec

    def _on_reset(self, obs, info, seed) -> None:
        self.reached = set()
        self._phi = 0.0

    def _shape(self, obs, reward, terminated, truncated, info) -> float:
        message = info.get(self.message_key) or ""
        if message:
            for goal in self.subgoals:
                if goal not in self.reached and self.detector(goal, message, info):
                    self.reached.add(goal)
        phi_next = 0.0 if terminated else self.lam * len(self.reached)
        term = self.gamma * phi_next - self._phi
        self._phi = phi_next
        return term

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = super().step(action)
        info["subgoals_reached"] = sorted(self.reached)
        return obs, reward, terminated, truncated, info

"""An LLM player of the social deduction game, through the one client interface ``rewardgym.llm``.

The model sees its transcript (``observation["text"]``) and, per phase, one question:

- gameplay and vote: the allowed actions as a lettered list; the reply's first letter (or the
  action's name) picks one, anything else falls back to wait / skip (a parse failure);
- speak: the reply (one line) is the message;
- survey: "The imposter is player_" — when the backend returns log-probabilities
  (``Completion.logprobs``), the belief is the next-token distribution over the seat digits,
  renormalised over the living others; otherwise it is parsed from the reply (a named player
  gets ``named_mass``, the rest is spread uniformly).

Registered as ``social-llm:<client spec>``, e.g. ``social-llm:local:tiny`` or
``social-llm:openai:http://127.0.0.1:8000/v1|my-model``.
"""

from __future__ import annotations

import logging
import math
import re
from typing import Any

import numpy as np

from rewardgym.envs.social.config import ActionLayout
from rewardgym.llm import LLMClient, make_client

__all__ = ["SocialLLMAgent", "make_social_llm_agent", "survey_from_logprobs"]

log = logging.getLogger("rewardgym.agents.social_llm")

_PHASES = ("gameplay", "survey", "speak", "vote")
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def survey_from_logprobs(
    top: Any, alive: np.ndarray, seat: int, floor: float = 1e-3
) -> np.ndarray | None:
    """A belief over seats from one position's top tokens (``(token, logprob)`` pairs).

    Tokens that read as a seat number (``"2"``, ``" 2"``) add their probability to that seat;
    seats that are dead or the agent itself get none; every living other seat gets at least
    ``floor``. None if no token names a living other seat.
    """
    n = len(alive)
    mass = np.zeros(n)
    for token, logprob in top:
        digits = str(token).strip()
        if digits.isdigit() and int(digits) < n:
            mass[int(digits)] += math.exp(logprob)
    allowed = alive.astype(bool).copy()
    allowed[seat] = False
    mass[~allowed] = 0.0
    if mass.sum() <= 0:
        return None
    mass[allowed] = np.maximum(mass[allowed], floor)
    return mass / mass.sum()


class SocialLLMAgent:
    """Plays a seat with an :class:`~rewardgym.llm.LLMClient` (see the module docstring)."""

    name = "social-llm"

    def __init__(
        self,
        client: LLMClient,
        *,
        max_prompt_chars: int = 4000,
        message_tokens: int = 48,
        named_mass: float = 0.7,
        top_logprobs: int = 20,
    ) -> None:
        self.client = client
        self.max_prompt_chars = max_prompt_chars
        self.message_tokens = message_tokens
        self.named_mass = named_mass
        self.top_logprobs = top_logprobs
        self.parse_failures = 0
        self.logprob_surveys = 0
        self._seed: int | None = None

    def reset(self, seed: int | None = None) -> None:
        self._seed = seed

    def usage(self) -> dict[str, float]:
        usage = dict(self.client.usage()) if hasattr(self.client, "usage") else {}
        usage["llm_parse_failures"] = float(self.parse_failures)
        return usage

    def _prompt(self, obs: dict[str, Any], question: str) -> str:
        transcript = obs["text"][-self.max_prompt_chars :]
        return f"{transcript}\n\n{question}\n"

    def act(self, observation: dict[str, Any], info: dict[str, Any]) -> Any:
        mask = observation["action_mask"]
        seat = int(np.argmax(observation["seat"]))
        phase = _PHASES[int(np.argmax(observation["phase"]))]
        if not observation["alive"][seat] or (phase == "gameplay" and mask.sum() == 1):
            return {"action": int(np.flatnonzero(mask)[0])}
        if phase == "survey":
            return {"survey": self._survey(observation, seat)}
        if phase == "speak":
            if int(observation["status"][3]) - 1 != seat:
                return {"action": 0}
            reply = self.client.complete(
                self._prompt(observation, "Your message to the others (one line):"),
                max_tokens=self.message_tokens,
                stop=("\n",),
                seed=self._seed,
            )
            return {"message": reply.text.strip()}
        return {"action": self._choose(observation, mask)}

    def _choose(self, obs: dict[str, Any], mask: np.ndarray) -> int:
        layout = ActionLayout(len(obs["seat"]))
        allowed = [int(k) for k in np.flatnonzero(mask)]
        options = "\n".join(
            f"{_LETTERS[i]}) {layout.name(k)}" for i, k in enumerate(allowed[: len(_LETTERS)])
        )
        reply = self.client.complete(
            self._prompt(obs, f"Choose one action; answer with its letter.\n{options}\nAnswer:"),
            max_tokens=6,
            seed=self._seed,
        ).text.strip()
        m = re.match(r"([A-Za-z])\b", reply)
        if m and m.group(1) in _LETTERS[: len(allowed)]:
            return allowed[_LETTERS.index(m.group(1))]
        for k in allowed:
            if layout.name(k) in reply:
                return k
        self.parse_failures += 1
        fallback = layout.skip if mask[layout.skip] else layout.WAIT
        return fallback if mask[fallback] else allowed[0]

    def _survey(self, obs: dict[str, Any], seat: int) -> np.ndarray:
        alive = obs["alive"]
        prompt = self._prompt(
            obs, "Which player is most likely the imposter? The imposter is player_"
        )
        completion = None
        try:
            completion = self.client.complete(
                prompt, max_tokens=2, seed=self._seed, logprobs=self.top_logprobs
            )
        except TypeError:  # a client without log-probabilities
            completion = self.client.complete(prompt, max_tokens=2, seed=self._seed)
        logprobs = getattr(completion, "logprobs", None)
        if logprobs:
            belief = survey_from_logprobs(logprobs[0].top, alive, seat)
            if belief is not None:
                self.logprob_surveys += 1
                return belief
        return self._parsed_survey(completion.text, alive, seat)

    def _parsed_survey(self, reply: str, alive: np.ndarray, seat: int) -> np.ndarray:
        others = alive.astype(np.float64)
        others[seat] = 0.0
        m = re.match(r"\s*(\d+)", reply)
        named = int(m.group(1)) if m else -1
        if not (0 <= named < len(alive)) or not others[named]:
            self.parse_failures += 1
            return others / others.sum()
        rest = others.copy()
        rest[named] = 0.0
        if rest.sum() == 0:
            return others / others.sum()
        belief = rest / rest.sum() * (1.0 - self.named_mass)
        belief[named] = self.named_mass
        return belief


def make_social_llm_agent(env: Any, arg: str | None = None, **kwargs: Any) -> SocialLLMAgent:
    """Registry factory for ``social-llm:<client spec>`` (default ``local:tiny``)."""
    return SocialLLMAgent(make_client(arg or "local:tiny"), **kwargs)

"""LLM agents: a chat loop over the one client interface, with a prompt template per env family.

An :class:`LLMAgent` shows the model the observation (and a short history), asks for an action
in the format its family's :class:`PromptTemplate` describes, and parses the reply. A reply
that does not parse is **not** an error: for text action spaces the raw reply is submitted as
is (the env scores it through ``info["invalid_action"]``); for ``Discrete(n)`` spaces the agent
submits ``start + n``, one past the last action, which envs score as an invalid action (the
dungeon plays it as ``wait``). Either way the failure is counted in
``usage()["llm_parse_failures"]``.

Registered specs (``rewardgym.agents.registry``):

* ``llm-local:<model_dir>`` — a local transformers model; ``llm-local:tiny`` builds and caches
  the tiny test model (``rewardgym.llm.tiny``).
* ``llm-openai:<base_url>|<model>`` — any OpenAI-compatible server (vLLM, SGLang, a hosted
  API); the key comes from ``$OPENAI_API_KEY``.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from gymnasium import spaces

from rewardgym.llm import ChatMessage, LLMClient, make_client
from rewardgym.registry import ENTRIES

__all__ = [
    "TEMPLATES",
    "LLMAgent",
    "ParsedAction",
    "PromptTemplate",
    "env_family",
    "make_local_llm_agent",
    "make_openai_llm_agent",
    "render_observation",
]

log = logging.getLogger("rewardgym.agents.llm_agents")


@dataclass(frozen=True)
class ParsedAction:
    """The outcome of parsing a reply: the action to submit and whether parsing worked."""

    action: Any
    ok: bool
    reason: str | None = None


def render_observation(obs: Any, limit: int = 6000) -> str:
    """Show an observation to a language model as text (long text keeps its end)."""
    if isinstance(obs, str):
        text = obs
    elif isinstance(obs, dict):
        parts = []
        for key, value in obs.items():
            if isinstance(value, np.ndarray) and value.dtype == np.uint8 and value.ndim == 1:
                value = bytes(value).rstrip(b"\x00").decode("latin-1")  # a message buffer
            elif isinstance(value, np.ndarray) and value.size > 64:
                continue  # pixels and glyph maps mean nothing to a text model
            parts.append(f"{key}: {render_observation(value, limit)}")
        text = "\n".join(parts)
    elif isinstance(obs, np.ndarray):
        printable = obs.size and obs.dtype.kind in "iu" and obs.min() >= 32 and obs.max() < 127
        if printable and obs.ndim == 2 and obs.size <= 4096:
            text = "\n".join("".join(chr(c) if 32 <= c < 127 else " " for c in row) for row in obs)
        else:
            text = np.array2string(obs, threshold=64)
    else:
        text = str(obs)
    return text if len(text) <= limit else "..." + text[-limit:]


_CODE_BLOCK = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL)


def parse_code(reply: str, action_space: spaces.Space[Any]) -> ParsedAction:
    """The last fenced code block of ``reply``; otherwise the raw reply (the env judges it)."""
    blocks = [b for b in _CODE_BLOCK.findall(reply) if b.strip()]
    if blocks:
        return ParsedAction(blocks[-1], True)
    return ParsedAction(reply, False, "no ```python code block in the reply")


def parse_text(reply: str, action_space: spaces.Space[Any]) -> ParsedAction:
    """The reply itself, stripped (for free-text envs)."""
    text = reply.strip()
    return ParsedAction(text, bool(text), None if text else "empty reply")


def action_names(env: Any) -> list[str] | None:
    """The names of a discrete env's actions, if the env publishes them."""
    base = getattr(env, "unwrapped", env)
    modules = [sys.modules.get(c.__module__) for c in type(base).__mro__]
    for owner in (base, *[m for m in modules if m is not None]):
        for attr in ("action_names", "ACTION_NAMES", "get_action_meanings"):
            names = getattr(owner, attr, None)
            if callable(names):
                names = names()
            if names is not None:
                return [str(n) for n in names]
    return None


def make_discrete_parser(
    names: Sequence[str] | None,
) -> Callable[[str, spaces.Space[Any]], ParsedAction]:
    """A parser for ``Discrete`` spaces: an action name (whole word) or a bare index."""

    def parse(reply: str, action_space: spaces.Space[Any]) -> ParsedAction:
        n = int(action_space.n)  # type: ignore[attr-defined]
        start = int(getattr(action_space, "start", 0))
        fallback = start + n  # out of range on purpose: the env scores it as invalid
        lowered = reply.lower()
        if names:
            best: tuple[int, int] | None = None  # (position in reply, action)
            for i, name in enumerate(names):
                m = re.search(rf"\b{re.escape(name.lower())}\b", lowered)
                if m and (best is None or m.start() < best[0]):
                    best = (m.start(), start + i)
            if best is not None:
                return ParsedAction(best[1], True)
        m = re.search(r"-?\d+", reply)
        if m and start <= int(m.group()) < start + n:
            return ParsedAction(int(m.group()), True)
        return ParsedAction(fallback, False, "no valid action name or index in the reply")

    return parse


@dataclass(frozen=True)
class PromptTemplate:
    """How one env family is prompted and how replies become actions.

    Attributes:
        family: the env family (``ENTRIES[id].family``) this template serves.
        system: the system message.
        instruction: appended to every observation (says the answer format).
        parse: ``(reply, action_space) -> ParsedAction``.
        max_tokens: generation budget per action.
        stop: strings that end a reply.
        history_turns: earlier (observation, reply) turns kept in the prompt.
    """

    family: str
    system: str
    instruction: str
    parse: Callable[[str, spaces.Space[Any]], ParsedAction] = parse_text
    max_tokens: int = 64
    stop: tuple[str, ...] = field(default_factory=tuple)
    history_turns: int = 2


TEMPLATES: dict[str, PromptTemplate] = {
    "code": PromptTemplate(
        family="code",
        system=(
            "You are an expert Python programmer. You solve the task and the tests decide if "
            "you are right."
        ),
        instruction=(
            "Reply with the complete solution in one ```python code block and nothing else."
        ),
        parse=parse_code,
        max_tokens=256,
    ),
    "dungeon": PromptTemplate(
        family="dungeon",
        system=(
            "You play a roguelike dungeon game. Reach the goal, avoid dying, do not waste turns."
        ),
        instruction="Reply with exactly one action from the list, and nothing else.",
        max_tokens=8,
        stop=("\n",),
        history_turns=0,  # the observation is the full state; history only costs tokens
    ),
    "generic": PromptTemplate(
        family="generic",
        system="You are an agent acting in an environment. Act to maximise the task reward.",
        instruction="Reply with your action only.",
        max_tokens=64,
    ),
}


def env_family(env: Any) -> str:
    """The registered family of ``env`` (``"generic"`` for an unregistered env)."""
    spec = getattr(getattr(env, "unwrapped", env), "spec", None) or getattr(env, "spec", None)
    entry = ENTRIES.get(getattr(spec, "id", "") or "")
    return entry.family if entry is not None else "generic"


class LLMAgent:
    """An agent that asks an LLM for each action.

    Args:
        client: the LLM backend (``rewardgym.llm.LLMClient``).
        action_space: the env's action space (``Discrete`` or text-like).
        template: the family's prompt template.
        names: action names for a ``Discrete`` space (listed in the prompt and parsed).
        temperature: sampling temperature; 0 is greedy. Sampling is seeded from ``reset(seed)``.
        history_turns: how many earlier (observation, reply) turns the prompt keeps (default:
            the template's).
        name: the agent's name in results.

    ``usage()`` reports this episode's tokens (``llm_tokens``, ...), calls and parse failures;
    the bench runner adds it to the episode's cost.
    """

    def __init__(
        self,
        client: LLMClient,
        action_space: spaces.Space[Any],
        template: PromptTemplate,
        *,
        names: Sequence[str] | None = None,
        temperature: float = 0.7,
        history_turns: int | None = None,
        name: str = "llm",
    ) -> None:
        self.client = client
        self.action_space = action_space
        self.template = template
        self.names = list(names) if names else None
        self.temperature = float(temperature)
        self.history_turns = template.history_turns if history_turns is None else history_turns
        self.name = name
        if isinstance(action_space, spaces.Discrete):
            self._parse = make_discrete_parser(self.names)
        else:
            self._parse = template.parse
        self._history: list[ChatMessage] = []
        self._seed = 0
        self._turn = 0
        self._parse_failures = 0
        self._base_usage = client.usage()

    def reset(self, seed: int | None = None) -> None:
        self._history = []
        self._seed = 0 if seed is None else int(seed)
        self._turn = 0
        self._parse_failures = 0
        self._base_usage = self.client.usage()

    def messages(self, observation: Any) -> list[ChatMessage]:
        """The chat the model sees for ``observation`` (system, history, this observation)."""
        user = render_observation(observation)
        if self.names:
            user += "\n\nActions: " + ", ".join(self.names)
        user += "\n\n" + self.template.instruction
        keep = self._history[-2 * self.history_turns :] if self.history_turns > 0 else []
        return [
            {"role": "system", "content": self.template.system},
            *keep,
            {"role": "user", "content": user},
        ]

    def act(self, observation: Any, info: dict[str, Any]) -> Any:
        msgs = self.messages(observation)
        out = self.client.chat(
            msgs,
            max_tokens=self.template.max_tokens,
            temperature=self.temperature,
            stop=self.template.stop,
            seed=self._seed * 10_007 + self._turn,
        )
        self._turn += 1
        parsed = self._parse(out.text, self.action_space)
        if not parsed.ok:
            self._parse_failures += 1
            log.debug("unparseable reply (%s): %r", parsed.reason, out.text[:200])
        self._history += [msgs[-1], {"role": "assistant", "content": out.text}]
        del self._history[: -2 * max(1, self.history_turns)]
        return parsed.action

    def usage(self) -> dict[str, float]:
        now = self.client.usage()
        spent = {k: now[k] - self._base_usage.get(k, 0.0) for k in now}
        spent["llm_parse_failures"] = float(self._parse_failures)
        return spent


def _agent_for(env: Any, client: LLMClient, name: str, **kwargs: Any) -> LLMAgent:
    family = env_family(env)
    template = TEMPLATES.get(family, TEMPLATES["generic"])
    names = action_names(env) if isinstance(env.action_space, spaces.Discrete) else None
    return LLMAgent(client, env.action_space, template, names=names, name=name, **kwargs)


def make_local_llm_agent(env: Any, arg: str | None = None, **kwargs: Any) -> LLMAgent:
    """Registry factory for ``llm-local:<model_dir>`` (``llm-local:tiny`` = the tiny model)."""
    client_kwargs = {k: kwargs.pop(k) for k in ("device", "torch_threads") if k in kwargs}
    client = make_client(f"local:{arg or 'tiny'}", **client_kwargs)
    return _agent_for(env, client, f"llm-local:{arg or 'tiny'}", **kwargs)


def make_openai_llm_agent(env: Any, arg: str | None = None, **kwargs: Any) -> LLMAgent:
    """Registry factory for ``llm-openai:<base_url>|<model>``."""
    client_kwargs = {
        k: kwargs.pop(k)
        for k in ("api_key", "api_key_env", "timeout_s", "max_retries", "backoff_s")
        if k in kwargs
    }
    client = make_client(f"openai:{arg or ''}", **client_kwargs)
    return _agent_for(env, client, f"llm-openai:{arg}", **kwargs)

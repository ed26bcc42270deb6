"""LLM agents: a chat loop over the one client interface, with a prompt template per env family.

An :class:`LLMAgent` shows the model the observation (and a short history), asks for an action
in the format its family's :class:`PromptTemplate` describes, and parses the reply. A reply
that does not parse is **not** an error: for text action spaces the raw reply is submitted as
is (the env scores it through ``info["invalid_action"]``); for ``Discrete(n)`` spaces the agent
submits ``start + n``, one past the last action, which envs score as an invalid action (the
dungeon plays it as ``wait``). Either way the failure is counted in
``usage()["llm_parse_failures"]``. A prompt the server refuses as too long for the model's
context (:class:`~rewardgym.llm.ContextLengthError`, after the client's own left truncation) is
played the same way, counted in ``usage()["llm_context_errors"]``: the agent's failure, never a
crash of the run.

For the test-time selection track (``rewardgym.agents.selection``, METHODS §7) the agent asks
for token log-probabilities and reports, per episode, in ``usage()``:

* ``llm_self_certainty_sum`` and ``llm_logprob_tokens``: the sum of the per-token
  self-certainty ``KL(Uniform || p_t)`` over the episode's generated tokens, and how many there
  were (their ratio is the episode's self-certainty; both add up like costs);
* ``answer_fingerprint``: a 48-bit fingerprint of the episode's answer, an identifier rather than
  a cost (equal answers, equal fingerprints): for text actions the last action submitted, with
  trailing spaces and blank lines dropped; for discrete actions the whole action sequence.

Registered specs (``rewardgym.agents.registry``):

* ``llm-local:<model_dir>`` — a local transformers model; ``llm-local:tiny`` builds and caches
  the tiny test model (``rewardgym.llm.tiny``).
* ``llm-openai:<base_url>|<model>`` — any OpenAI-compatible server (vLLM, SGLang, a hosted
  API); the key comes from ``$OPENAI_API_KEY``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from gymnasium import spaces

from rewardgym.llm import ChatMessage, Completion, ContextLengthError, LLMClient, make_client
from rewardgym.registry import ENTRIES

__all__ = [
    "IDENTIFIER_USAGE_KEYS",
    "TEMPLATES",
    "LLMAgent",
    "ParsedAction",
    "PromptTemplate",
    "answer_fingerprint",
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
    "search": PromptTemplate(
        family="search",
        system=(
            "You answer questions. Searching costs money: search only when you do not know the "
            "answer, and say you cannot find out rather than guess."
        ),
        instruction=(
            "Reply with at most one short <think>...</think> and exactly one action: "
            "<search>query</search>, <open>page id</open>, <answer>short answer</answer> or "
            "<abstain/>."
        ),
        max_tokens=96,
        history_turns=0,  # the observation carries the transcript of searches and results
    ),
    "gui": PromptTemplate(
        family="gui",
        system=(
            "You operate a phone (or a web page) for the user. You see its screen as a list of "
            "UI elements with their bounding boxes in pixels; act on them one step at a time."
        ),
        instruction="Reply with one action.",  # envs publish their format as ACTION_PROMPT
        max_tokens=128,
        history_turns=0,  # the observation carries the goal and the history of actions
    ),
    "generic": PromptTemplate(
        family="generic",
        system="You are an agent acting in an environment. Act to maximise the task reward.",
        instruction="Reply with your action only.",
        max_tokens=64,
    ),
}


#: ``usage()`` entries that identify an episode's answer rather than spend anything: stored with
#: the episode's cost (the only per-episode channel the store has) but never added up.
IDENTIFIER_USAGE_KEYS: frozenset[str] = frozenset({"answer_fingerprint"})


def answer_fingerprint(actions: Sequence[Any]) -> float:
    """A 48-bit fingerprint of an episode's answer, exact as a float (see the module docstring).

    Text answers count as equal when they differ only in trailing spaces and blank lines.
    """
    if actions and isinstance(actions[-1], str):
        lines = (line.rstrip() for line in actions[-1].strip().splitlines())
        key = "text:" + "\n".join(line for line in lines if line)
    else:
        key = "seq:" + ",".join(str(a) for a in actions)
    return float(int.from_bytes(hashlib.sha256(key.encode()).digest()[:6], "big"))


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
        logprobs: top-k alternatives asked for with each reply's token log-probabilities
            (self-certainty is exact on local models, estimated from these on servers); None
            asks for none.

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
        logprobs: int | None = 5,
    ) -> None:
        self.client = client
        self.action_space = action_space
        self.template = template
        self.names = list(names) if names else None
        self.temperature = float(temperature)
        self.history_turns = template.history_turns if history_turns is None else history_turns
        self.name = name
        self.logprobs = logprobs
        if isinstance(action_space, spaces.Discrete):
            self._parse = make_discrete_parser(self.names)
        else:
            self._parse = template.parse
        self._history: list[ChatMessage] = []
        self._seed = 0
        self._turn = 0
        self._base_usage = client.usage()
        self.reset()

    def reset(self, seed: int | None = None) -> None:
        self._history = []
        self._seed = 0 if seed is None else int(seed)
        self._turn = 0
        self._parse_failures = 0
        self._context_errors = 0
        self._actions: list[Any] = []
        self._certainty_sum = 0.0
        self._certainty_tokens = 0
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

    def request(self, observation: Any) -> tuple[list[ChatMessage], dict[str, Any]]:
        """The chat and the generation arguments for the next action (what :meth:`act` sends
        the client); with :meth:`take_reply`, it lets a trainer batch many agents' turns."""
        kwargs = {
            "max_tokens": self.template.max_tokens,
            "temperature": self.temperature,
            "stop": self.template.stop,
            "seed": self._seed * 10_007 + self._turn,
            "logprobs": self.logprobs,
        }
        return self.messages(observation), kwargs

    def take_reply(self, messages: Sequence[ChatMessage], out: Completion) -> Any:
        """The action for the model's reply ``out`` to ``messages`` (parsing, history, counters)."""
        self._turn += 1
        certainty = out.self_certainty
        if certainty is not None and out.logprobs:
            self._certainty_sum += certainty * len(out.logprobs)
            self._certainty_tokens += len(out.logprobs)
        parsed = self._parse(out.text, self.action_space)
        if not parsed.ok:
            self._parse_failures += 1
            log.debug("unparseable reply (%s): %r", parsed.reason, out.text[:200])
        self._history += [messages[-1], {"role": "assistant", "content": out.text}]
        del self._history[: -2 * max(1, self.history_turns)]
        self._actions.append(parsed.action)
        return parsed.action

    def parse_reply(self, text: str) -> Any:
        """The action ``text`` stands for (a reply that does not parse gives the invalid action
        this agent would submit), without touching the episode's history or counters."""
        return self._parse(text, self.action_space).action

    def act(self, observation: Any, info: dict[str, Any]) -> Any:
        msgs, kwargs = self.request(observation)
        try:
            out = self.client.chat(msgs, **kwargs)
        except ContextLengthError as exc:
            self._turn += 1
            self._context_errors += 1
            log.warning("the prompt does not fit the model's context: %s", exc)
            action = self._parse("", self.action_space).action  # played as an invalid action
            self._actions.append(action)
            return action
        return self.take_reply(msgs, out)

    def usage(self) -> dict[str, float]:
        now = self.client.usage()
        spent = {k: now[k] - self._base_usage.get(k, 0.0) for k in now}
        spent["llm_parse_failures"] = float(self._parse_failures)
        spent["llm_context_errors"] = float(self._context_errors)
        if self._actions:
            spent["answer_fingerprint"] = answer_fingerprint(self._actions)
        if self._certainty_tokens:
            spent["llm_self_certainty_sum"] = self._certainty_sum
            spent["llm_logprob_tokens"] = float(self._certainty_tokens)
        return spent


def _agent_for(env: Any, client: LLMClient, name: str, **kwargs: Any) -> LLMAgent:
    family = env_family(env)
    template = TEMPLATES.get(family, TEMPLATES["generic"])
    # An env whose text actions follow a format of its own says so in ACTION_PROMPT; the agent
    # shows it instead of the template's generic instruction.
    action_prompt = getattr(getattr(env, "unwrapped", env), "ACTION_PROMPT", None)
    if isinstance(action_prompt, str) and action_prompt:
        template = dataclasses.replace(template, instruction=action_prompt)
    names = action_names(env) if isinstance(env.action_space, spaces.Discrete) else None
    return LLMAgent(client, env.action_space, template, names=names, name=name, **kwargs)


def make_local_llm_agent(env: Any, arg: str | None = None, **kwargs: Any) -> LLMAgent:
    """Registry factory for ``llm-local:<model_dir>`` (``llm-local:tiny`` = the tiny model)."""
    client_kwargs = {k: kwargs.pop(k) for k in ("device", "torch_threads") if k in kwargs}
    client = make_client(f"local:{arg or 'tiny'}", **client_kwargs)
    return _agent_for(env, client, f"llm-local:{arg or 'tiny'}", **kwargs)


def make_openai_llm_agent(env: Any, arg: str | None, **kwargs: Any) -> LLMAgent:
    """Registry factory for ``llm-openai:<base_url>|<model>``."""
    client_kwargs = {
        k: kwargs.pop(k)
        for k in (
            "api_key",
            "api_key_env",
            "timeout_s",
            "max_retries",
            "backoff_s",
            "context_length",
        )
        if k in kwargs
    }
    client = make_client(f"openai:{arg or ''}", **client_kwargs)
    return _agent_for(env, client, f"llm-openai:{arg}", **kwargs)

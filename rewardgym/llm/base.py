"""The one LLM client interface: :class:`LLMClient`, its :class:`Completion` and token usage.

Both backends (``rewardgym.llm.local.TransformersClient`` and
``rewardgym.llm.http.OpenAIClient``) implement :meth:`LLMClient._generate` for plain prompts and
:meth:`LLMClient._generate_chat` for chat messages; the public :meth:`LLMClient.complete` and
:meth:`LLMClient.chat` count tokens and calls, which agents report through ``usage()`` so the
bench runner can add them to ``info["cost"]``.
"""

from __future__ import annotations

import abc
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from rewardgym.errors import ConfigError, LLMError

__all__ = [
    "MAX_TOP_LOGPROBS",
    "ChatMessage",
    "Completion",
    "ContextLengthError",
    "LLMClient",
    "TokenLogprob",
    "format_chat",
    "self_certainty",
]

#: The most top-k alternatives a request may ask for (OpenAI's and vLLM's limit).
MAX_TOP_LOGPROBS = 20


class ContextLengthError(LLMError):
    """The prompt does not fit the model's context and could not be cut to fit (the server
    answered that it was too long). Agents play it as an invalid action, never a crash."""


class ChatMessage(TypedDict):
    """One chat turn, as in the OpenAI API: ``{"role": "user", "content": "..."}``."""

    role: str
    content: str


@dataclass(frozen=True, slots=True)
class TokenLogprob:
    """One generated token with its log-probability under the model.

    Log-probabilities are natural logs of the model's own distribution (raw logits, before
    temperature or other sampling transforms), as vLLM returns them by default.

    Attributes:
        token: the token's text (one token may be part of a multi-byte character, and the
            end-of-sequence token appears by its name, e.g. ``"<|endoftext|>"``).
        logprob: ``log p(token)`` at this position.
        top: the most likely tokens at this position, most likely first, as
            ``(token, logprob)`` pairs (as many as the request's ``logprobs`` asked for;
            empty when it asked for 0).
        kl_uniform: ``KL(Uniform || p)`` over the whole vocabulary at this position, the
            per-token self-certainty, when the backend saw the full distribution (the local
            transformers client, and our own server in front of it); None otherwise.
    """

    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()
    kl_uniform: float | None = None


def self_certainty(logprobs: Sequence[TokenLogprob]) -> float | None:
    """The self-certainty of a generation: the mean over its tokens of ``KL(Uniform || p_t)``.

    Exact where every token carries ``kl_uniform`` (the full distribution was seen). Otherwise
    it is estimated from each token's top-k alternatives as the KL from the uniform distribution
    over those k tokens, ``-log k - mean_j log p_t(j)`` (which needs ``k >= 2``; ask the server
    for ``logprobs=5`` or more). Higher means more confident. None for an empty generation or
    when neither is available. The two are on different scales (the top-k estimate is far
    larger): compare self-certainties of samples from one backend, as selection does.
    """
    if not logprobs:
        return None
    if all(t.kl_uniform is not None for t in logprobs):
        return math.fsum(t.kl_uniform for t in logprobs) / len(logprobs)  # type: ignore[misc]
    per_token = []
    for t in logprobs:
        k = len(t.top)
        if k < 2:
            return None
        per_token.append(-math.log(k) - math.fsum(lp for _, lp in t.top) / k)
    return math.fsum(per_token) / len(per_token)


@dataclass(frozen=True)
class Completion:
    """What one generation returned, with the tokens it cost.

    Attributes:
        text: the generated text (stop sequences removed).
        prompt_tokens: tokens in the prompt as the backend counted them (after any left
            truncation to fit the model's context).
        completion_tokens: tokens generated.
        finish_reason: ``"stop"`` (eos or stop sequence) or ``"length"`` (hit ``max_tokens``).
        logprobs: one :class:`TokenLogprob` per token of ``text`` (and the end-of-sequence token
            if the generation ended on it) when the call asked for ``logprobs``; None when it
            did not, or the backend gave none.
        prompt_truncated: how many prompt tokens were cut from the left to fit the context
            (0 when the prompt fitted, or when the backend cannot tell).
    """

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str = "stop"
    logprobs: tuple[TokenLogprob, ...] | None = None
    prompt_truncated: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def token_logprobs(self) -> list[float] | None:
        """The generated tokens' log-probabilities (None without ``logprobs``)."""
        return None if self.logprobs is None else [t.logprob for t in self.logprobs]

    @property
    def self_certainty(self) -> float | None:
        """:func:`self_certainty` of this generation (None without ``logprobs``)."""
        return None if self.logprobs is None else self_certainty(self.logprobs)


def format_chat(messages: Sequence[ChatMessage]) -> str:
    """Render chat messages as plain text for models without a chat template.

    Each turn becomes ``"<role>: <content>"`` on its own lines and the text ends with
    ``"assistant:"`` so that a base model continues as the assistant.
    """
    lines = [f"{m['role']}: {m['content']}" for m in messages]
    lines.append("assistant:")
    return "\n".join(lines)


class LLMClient(abc.ABC):
    """A text generator behind one interface, counting the tokens it spends.

    Subclasses implement :meth:`_generate` and :meth:`_generate_chat`. Counters are
    thread-safe, so one client can serve several threads (e.g. the test server).

    Attributes:
        model: the model name the backend reports (a directory, or the served model's name).
    """

    model: str

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._prompt_tokens = 0
        self._completion_tokens = 0
        self._calls = 0

    # -- backend hooks -----------------------------------------------------------------------

    @abc.abstractmethod
    def _generate(
        self,
        prompt: str,
        *,
        max_tokens: int,
        temperature: float,
        stop: Sequence[str],
        seed: int | None,
        logprobs: int | None = None,
    ) -> Completion:
        """Continue ``prompt`` (``logprobs``: see :meth:`complete`)."""

    @abc.abstractmethod
    def _generate_chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        stop: Sequence[str],
        seed: int | None,
        logprobs: int | None = None,
    ) -> Completion:
        """Answer the last chat message."""

    # -- public API --------------------------------------------------------------------------

    def complete(
        self,
        prompt: str,
        *,
        max_tokens: int = 64,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
        seed: int | None = None,
        logprobs: int | None = None,
    ) -> Completion:
        """Continue ``prompt`` with at most ``max_tokens`` tokens.

        Args:
            prompt: the text to continue.
            max_tokens: generation budget.
            temperature: 0 means greedy decoding; above 0 samples.
            stop: generation ends before the first of these strings (which is not returned).
            seed: makes sampling reproducible where the backend supports it.
            logprobs: None (the default) returns no log-probabilities; ``k`` in
                ``0..MAX_TOP_LOGPROBS`` fills ``Completion.logprobs`` with each generated
                token's log-probability and its ``k`` most likely alternatives.

        Raises:
            ConfigError: if ``logprobs`` is out of range.
            LLMError: if the backend failed after its retries.
        """
        _check_logprobs(logprobs)
        out = self._generate(
            prompt,
            max_tokens=max_tokens,
            temperature=temperature,
            stop=tuple(stop),
            seed=seed,
            logprobs=logprobs,
        )
        self._count(out)
        return out

    def chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int = 64,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
        seed: int | None = None,
        logprobs: int | None = None,
    ) -> Completion:
        """Answer a chat; same arguments and errors as :meth:`complete`."""
        _check_logprobs(logprobs)
        out = self._generate_chat(
            list(messages),
            max_tokens=max_tokens,
            temperature=temperature,
            stop=tuple(stop),
            seed=seed,
            logprobs=logprobs,
        )
        self._count(out)
        return out

    def usage(self) -> dict[str, float]:
        """Tokens and calls spent so far through this client (cost keys of the step contract)."""
        with self._lock:
            return {
                "llm_tokens": float(self._prompt_tokens + self._completion_tokens),
                "llm_prompt_tokens": float(self._prompt_tokens),
                "llm_completion_tokens": float(self._completion_tokens),
                "llm_calls": float(self._calls),
            }

    def close(self) -> None:
        """Release the backend's resources (connections, model memory); safe to call twice."""
        return None

    def __enter__(self) -> LLMClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _count(self, out: Completion) -> None:
        with self._lock:
            self._prompt_tokens += out.prompt_tokens
            self._completion_tokens += out.completion_tokens
            self._calls += 1


def _check_logprobs(logprobs: int | None) -> None:
    if logprobs is not None and not (
        isinstance(logprobs, int) and 0 <= logprobs <= MAX_TOP_LOGPROBS
    ):
        raise ConfigError(
            f"logprobs must be None or an int in 0..{MAX_TOP_LOGPROBS}, got {logprobs!r}"
        )


def cut_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """Cut ``text`` before the earliest stop string; returns ``(text, whether it was cut)``."""
    cut = len(text)
    for s in stop:
        if s:
            i = text.find(s)
            if 0 <= i < cut:
                cut = i
    return text[:cut], cut < len(text)

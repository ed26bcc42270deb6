"""The one LLM client interface: :class:`LLMClient`, its :class:`Completion` and token usage.

Both backends (``rewardgym.llm.local.TransformersClient`` and
``rewardgym.llm.http.OpenAIClient``) implement :meth:`LLMClient._generate` for plain prompts and
:meth:`LLMClient._generate_chat` for chat messages; the public :meth:`LLMClient.complete` and
:meth:`LLMClient.chat` count tokens and calls, which agents report through ``usage()`` so the
bench runner can add them to ``info["cost"]``.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

__all__ = ["ChatMessage", "Completion", "LLMClient", "format_chat"]


class ChatMessage(TypedDict):
    """One chat turn, as in the OpenAI API: ``{"role": "user", "content": "..."}``."""

    role: str
    content: str


@dataclass(frozen=True)
class Completion:
    """What one generation returned, with the tokens it cost.

    Attributes:
        text: the generated text (stop sequences removed).
        prompt_tokens: tokens in the prompt as the backend counted them.
        completion_tokens: tokens generated.
        finish_reason: ``"stop"`` (eos or stop sequence) or ``"length"`` (hit ``max_tokens``).
    """

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str = "stop"

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


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
    ) -> Completion:
        """Continue ``prompt``."""

    @abc.abstractmethod
    def _generate_chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        stop: Sequence[str],
        seed: int | None,
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
    ) -> Completion:
        """Continue ``prompt`` with at most ``max_tokens`` tokens.

        Args:
            prompt: the text to continue.
            max_tokens: generation budget.
            temperature: 0 means greedy decoding; above 0 samples.
            stop: generation ends before the first of these strings (which is not returned).
            seed: makes sampling reproducible where the backend supports it.

        Raises:
            LLMError: if the backend failed after its retries.
        """
        out = self._generate(
            prompt, max_tokens=max_tokens, temperature=temperature, stop=tuple(stop), seed=seed
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
    ) -> Completion:
        """Answer a chat; same arguments and errors as :meth:`complete`."""
        out = self._generate_chat(
            list(messages),
            max_tokens=max_tokens,
            temperature=temperature,
            stop=tuple(stop),
            seed=seed,
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


def cut_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """Cut ``text`` before the earliest stop string; returns ``(text, whether it was cut)``."""
    cut = len(text)
    for s in stop:
        if s:
            i = text.find(s)
            if 0 <= i < cut:
                cut = i
    return text[:cut], cut < len(text)

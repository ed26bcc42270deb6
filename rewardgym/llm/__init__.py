"""The one LLM client interface of rewardgym (core, L0), used by agents and reward judges.

* :class:`LLMClient` — ``complete(prompt)`` / ``chat(messages)`` returning a
  :class:`Completion` with token counts and, when asked (``logprobs=k``), each token's
  :class:`TokenLogprob`; ``usage()`` gives the running cost.
* :func:`self_certainty` — the mean ``KL(Uniform || p_t)`` of a generation (METHODS §7).
* :class:`~rewardgym.llm.local.TransformersClient` — any local causal LM directory.
* :class:`~rewardgym.llm.http.OpenAIClient` — any OpenAI-compatible server (vLLM, SGLang, ...).
* :func:`make_client` — build one from a spec string.

Nothing heavy is imported here: ``transformers``/``torch`` load when a local client is made.
"""

from __future__ import annotations

from typing import Any

from rewardgym.errors import ConfigError
from rewardgym.llm.base import (
    MAX_TOP_LOGPROBS,
    ChatMessage,
    Completion,
    ContextLengthError,
    LLMClient,
    TokenLogprob,
    format_chat,
    self_certainty,
)

__all__ = [
    "MAX_TOP_LOGPROBS",
    "ChatMessage",
    "Completion",
    "ContextLengthError",
    "LLMClient",
    "TokenLogprob",
    "format_chat",
    "make_client",
    "self_certainty",
]


def make_client(spec: str, **kwargs: Any) -> LLMClient:
    """Build a client from a spec string.

    Specs:
        ``local:<model_dir>`` — a ``TransformersClient``; ``local:tiny`` builds (once) and uses
        the tiny test model cached under ``runs/models/tiny`` (``$REWARDGYM_MODELS``).
        ``openai:<base_url>|<model>`` — an ``OpenAIClient``, e.g.
        ``openai:http://127.0.0.1:8000/v1|Qwen/Qwen2.5-0.5B-Instruct``.

    Args:
        spec: the spec string.
        **kwargs: passed to the client constructor (``timeout_s``, ``max_retries``, ...).

    Raises:
        ConfigError: if the spec has neither form.
    """
    kind, _, arg = spec.partition(":")
    if kind == "local" and arg:
        from rewardgym.llm.local import TransformersClient

        if arg == "tiny":
            from rewardgym.llm.tiny import ensure_tiny_model

            arg = str(ensure_tiny_model())
        return TransformersClient(arg, **kwargs)
    if kind == "openai" and "|" in arg:
        from rewardgym.llm.http import OpenAIClient

        base_url, _, model = arg.rpartition("|")
        return OpenAIClient(base_url, model, **kwargs)
    raise ConfigError(
        f"bad LLM spec {spec!r}: use 'local:<model_dir>', 'local:tiny' or "
        "'openai:<base_url>|<model>' (e.g. 'openai:http://127.0.0.1:8000/v1|my-model')"
    )

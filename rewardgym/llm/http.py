"""The OpenAI-compatible HTTP backend: vLLM, SGLang, ``rewardgym.llm.server`` or a hosted API.

Only the standard library is used (``urllib``), so this backend needs no extra. Transient
failures (connection errors, timeouts, HTTP 408/409/429/5xx) are retried with exponential
backoff (honouring ``Retry-After``); everything else, and a failure after the last retry, raises
:class:`rewardgym.errors.LLMError` with the server's message.

Prompts longer than the model's context are cut from the left, as the local client does, never
sent to fail: the context length comes from the constructor or from the server's model list
(vLLM's ``max_model_len``). A prompt that may not fit (judged by its UTF-8 size, an upper bound
on the tokens of a byte-level tokenizer) is counted exactly with the server's ``/tokenize``
(vLLM and ``rewardgym.llm.server`` have it) and, if too long, sent as its last token ids to
``/completions`` (a chat rendered by the server's chat template, the same tokens the local client
would cut). A server without ``/tokenize`` gets the text cut by the byte bound instead (oldest
chat turns first). If the server still refuses the length, :class:`ContextLengthError` says so.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import logging
import os
import random
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

from rewardgym.errors import ConfigError, LLMError
from rewardgym.llm.base import (
    ChatMessage,
    Completion,
    ContextLengthError,
    LLMClient,
    TokenLogprob,
    cut_at_stop,
)

__all__ = ["RETRY_STATUS", "OpenAIClient"]

log = logging.getLogger("rewardgym.llm.http")

#: HTTP statuses worth retrying: the server is busy or briefly broken, the request is fine.
RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})

#: Tokens a chat template may add around the messages (role markers, a default system prompt),
#: plus per message; only used to decide whether a prompt is worth counting exactly.
_TEMPLATE_TOKENS, _TOKENS_PER_MESSAGE = 128, 16

#: Phrases of a server's answer to a prompt that does not fit (vLLM, OpenAI, SGLang).
_CONTEXT_PHRASES = ("maximum context length", "context length", "context_length_exceeded")


class OpenAIClient(LLMClient):
    """Talk to an OpenAI-compatible server (``/v1/completions``, ``/v1/chat/completions``).

    Args:
        base_url: the API root, e.g. ``"http://127.0.0.1:8000/v1"`` for vLLM.
        model: the served model name sent in every request.
        api_key: bearer token; by default read from the ``api_key_env`` variable (may be unset
            for local servers).
        api_key_env: environment variable holding the key (``OPENAI_API_KEY``).
        timeout_s: per-request timeout (connect and read).
        max_retries: retries after the first attempt for transient failures.
        backoff_s: first backoff; doubles per retry, with up to 25% jitter, capped at
            ``max_backoff_s``.
        max_backoff_s: the largest single wait.
        context_length: the model's context in tokens (prompt + completion); by default read
            from the server's ``/models`` (vLLM lists ``max_model_len``) on first use. None
            there too means prompts are sent as they are.

    Raises:
        ConfigError: if ``base_url`` is not an http(s) URL or the numbers are out of range.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        timeout_s: float = 60.0,
        max_retries: int = 4,
        backoff_s: float = 0.5,
        max_backoff_s: float = 20.0,
        context_length: int | None = None,
    ) -> None:
        super().__init__()
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"base_url {base_url!r} must start with http:// or https://, "
                "e.g. 'http://127.0.0.1:8000/v1'"
            )
        if context_length is not None and context_length < 2:
            raise ConfigError(f"context_length must be >= 2 tokens, got {context_length}")
        if timeout_s <= 0 or max_retries < 0 or backoff_s < 0 or max_backoff_s < 0:
            raise ConfigError(
                "timeout_s must be > 0 and max_retries, backoff_s, max_backoff_s >= 0"
            )
        self.base_url = base_url.rstrip("/")
        self.model = model
        self._api_key = api_key if api_key is not None else os.environ.get(api_key_env)
        self.timeout_s = float(timeout_s)
        self.max_retries = int(max_retries)
        self.backoff_s = float(backoff_s)
        self.max_backoff_s = float(max_backoff_s)
        self.retries_used = 0
        self._jitter = random.Random(0)  # backoff jitter only; never touches global state
        self._context_length = context_length
        self._context_known = context_length is not None
        self._can_tokenize = True  # until the server says it has no /tokenize
        #: False once the server refused log-probabilities (then calls go without them and
        #: ``Completion.logprobs`` is None).
        self.logprobs_supported = True

    # -- requests ----------------------------------------------------------------------------

    def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        return self._request("POST", path, payload)

    def _request(
        self, method: str, path: str, payload: dict[str, Any] | None, *, root: bool = False
    ) -> dict[str, Any]:
        base = self.base_url.removesuffix("/v1") if root else self.base_url
        url = f"{base}{path}"
        data = None if payload is None else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        last = ""
        for attempt in range(self.max_retries + 1):
            retry_after: float | None = None
            try:
                req = urllib.request.Request(url, data=data, headers=headers, method=method)
                with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                    return json.loads(resp.read().decode("utf-8"))
            except urllib.error.HTTPError as exc:
                body = exc.read().decode("utf-8", errors="replace")[:500]
                last = f"HTTP {exc.code} from {url}: {body}"
                if exc.code == 400 and any(p in body.lower() for p in _CONTEXT_PHRASES):
                    raise ContextLengthError(f"{last} (the prompt does not fit)") from None
                if exc.code not in RETRY_STATUS:
                    raise LLMError(
                        f"{last} (not retried: fix the request, model name or API key)"
                    ) from None
                header = exc.headers.get("Retry-After") if exc.headers else None
                if header:
                    try:
                        retry_after = float(header)
                    except ValueError:
                        retry_after = None
            except (
                urllib.error.URLError,
                TimeoutError,
                ConnectionError,
                http.client.HTTPException,
            ) as exc:
                reason = getattr(exc, "reason", exc)
                last = f"{type(exc).__name__} talking to {url}: {reason}"
            except json.JSONDecodeError as exc:
                raise LLMError(f"{url} did not answer with JSON: {exc}") from None
            if attempt == self.max_retries:
                break
            wait = min(self.max_backoff_s, self.backoff_s * (2**attempt))
            wait *= 1.0 + 0.25 * self._jitter.random()
            if retry_after is not None:
                wait = min(self.max_backoff_s, max(wait, retry_after))
            self.retries_used += 1
            log.warning("%s; retry %d/%d in %.2fs", last, attempt + 1, self.max_retries, wait)
            time.sleep(wait)
        raise LLMError(
            f"{last}; gave up after {self.max_retries + 1} attempts. Is the server running "
            f"at {self.base_url}? Raise timeout_s/max_retries for slow servers."
        )

    def models(self) -> list[str]:
        """The model names the server lists at ``/models``."""
        data = self._request("GET", "/models", None)
        return [str(m.get("id")) for m in data.get("data", [])]

    @property
    def context_length(self) -> int | None:
        """The model's context in tokens: the constructor's, else the server's ``max_model_len``
        for this model (asked once), else None (unknown: prompts go as they are)."""
        if not self._context_known:
            self._context_known = True
            try:
                data = self._request("GET", "/models", None)
                for m in data.get("data", []):
                    if str(m.get("id")) == self.model and m.get("max_model_len"):
                        self._context_length = int(m["max_model_len"])
            except (LLMError, AttributeError, TypeError, ValueError) as exc:
                log.warning("could not read the context length from %s: %s", self.base_url, exc)
        return self._context_length

    def _tokenize(self, body: dict[str, Any]) -> list[int] | None:
        """The prompt's token ids from the server's ``/tokenize``; None if it has none."""
        if not self._can_tokenize:
            return None
        try:
            data = self._request("POST", "/tokenize", {"model": self.model, **body}, root=True)
            return [int(t) for t in data["tokens"]]
        except (LLMError, KeyError, TypeError, ValueError) as exc:
            log.info(
                "%s cannot tokenize (%s): cutting long prompts by their size", self.base_url, exc
            )
            self._can_tokenize = False
            return None

    def _fit(
        self, payload: dict[str, Any], chat: bool, max_tokens: int
    ) -> tuple[str, dict[str, Any], int]:
        """``(path, payload, tokens cut)`` for a request whose prompt fits the context.

        Cuts from the left what does not fit (see the module docstring); a prompt that may fit
        goes as it is. The cut count is exact with ``/tokenize``, else 0 (unknown).
        """
        path = "/chat/completions" if chat else "/completions"
        ctx = self.context_length
        if ctx is None:
            return path, payload, 0
        room = max(1, ctx - int(max_tokens))
        if chat:
            text_bytes = sum(
                len(m["role"]) + len(m["content"].encode()) for m in payload["messages"]
            )
            bound = text_bytes + _TEMPLATE_TOKENS + _TOKENS_PER_MESSAGE * len(payload["messages"])
        else:
            bound = len(payload["prompt"].encode()) + _TOKENS_PER_MESSAGE
        if bound <= room:
            return path, payload, 0
        if chat:
            ids = self._tokenize({"messages": payload["messages"], "add_generation_prompt": True})
        else:
            ids = self._tokenize({"prompt": payload["prompt"]})
        if ids is not None:
            if len(ids) <= room:
                return path, payload, 0
            cut = dict(payload)
            cut.pop("messages", None)
            cut["prompt"] = ids[-room:]
            log.info("prompt of %d tokens cut to the last %d (context %d)", len(ids), room, ctx)
            return "/completions", cut, len(ids) - room
        # No tokenizer: every token is at least one byte, so a text of `room - margin` bytes fits.
        cut = dict(payload)
        if chat:
            cut["messages"] = _cut_messages(payload["messages"], room)
        else:
            cut["prompt"] = _tail_bytes(payload["prompt"], room - _TOKENS_PER_MESSAGE)
        return path, cut, 0

    # -- LLMClient ---------------------------------------------------------------------------

    def _payload(
        self, max_tokens: int, temperature: float, stop: Sequence[str], seed: int | None
    ) -> dict[str, Any]:  # the fields both endpoints share
        payload: dict[str, Any] = {
            "model": self.model,
            "max_tokens": int(max_tokens),
            "temperature": float(temperature),
        }
        if stop:
            payload["stop"] = list(stop)
        if seed is not None:
            payload["seed"] = int(seed)
        return payload

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
        payload = self._payload(max_tokens, temperature, stop, seed)
        payload["prompt"] = prompt
        return self._send(payload, stop, False, max_tokens, logprobs, prompt)

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
        payload = self._payload(max_tokens, temperature, stop, seed)
        payload["messages"] = [dict(m) for m in messages]
        prompt_text = "\n".join(m["content"] for m in messages)
        return self._send(payload, stop, True, max_tokens, logprobs, prompt_text)

    def _send(
        self,
        payload: dict[str, Any],
        stop: Sequence[str],
        chat: bool,
        max_tokens: int,
        logprobs: int | None,
        prompt_text: str,
    ) -> Completion:
        path, payload, cut = self._fit(payload, chat, max_tokens)
        chat = path == "/chat/completions"
        if not self.logprobs_supported:
            logprobs = None
        if logprobs is not None and chat:
            payload.update(logprobs=True, top_logprobs=int(logprobs))
        elif logprobs is not None:
            payload["logprobs"] = int(logprobs)
        try:
            data = self._post(path, payload)
        except LLMError as exc:
            # Some hosted models refuse log-probabilities (HTTP 400 naming them): answer without.
            if logprobs is None or "HTTP 400" not in str(exc) or "logprob" not in str(exc):
                raise
            log.warning("%s refuses logprobs; asking without from now on: %s", self.model, exc)
            self.logprobs_supported = False
            for key in ("logprobs", "top_logprobs"):
                payload.pop(key, None)
            logprobs = None
            data = self._post(path, payload)
        out = self._parse(data, stop, chat=chat, prompt_text=prompt_text)
        if logprobs is not None:
            choice = data["choices"][0]
            lp = _parse_logprobs(choice.get("logprobs"), chat, logprobs)
            if lp is not None:
                lp = _cut_logprobs(lp, out.text, stop)
            out = dataclasses.replace(out, logprobs=lp)
        if cut:
            out = dataclasses.replace(out, prompt_truncated=cut)
        return out

    def _parse(
        self, data: dict[str, Any], stop: Sequence[str], *, chat: bool, prompt_text: str
    ) -> Completion:
        try:
            choice = data["choices"][0]
            text = choice["message"]["content"] if chat else choice["text"]
        except (KeyError, IndexError, TypeError):
            raise LLMError(
                f"{self.base_url} answered without choices[0]"
                f"{'.message.content' if chat else '.text'}: {str(data)[:300]}"
            ) from None
        text = text or ""
        text, _ = cut_at_stop(text, stop)  # servers apply stop too; be sure
        usage = data.get("usage") or {}
        if "prompt_tokens" in usage and "completion_tokens" in usage:
            prompt_tokens = int(usage["prompt_tokens"])
            completion_tokens = int(usage["completion_tokens"])
        else:
            # Some servers omit usage; estimate (about 4 characters per token) and say so.
            log.warning("%s returned no usage; estimating tokens from text length", self.base_url)
            prompt_tokens = max(1, len(prompt_text) // 4)
            completion_tokens = max(1, len(text) // 4) if text else 0
        return Completion(
            text=text,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            finish_reason=str(choice.get("finish_reason") or "stop"),
        )


def _top(pairs: Any, k: int) -> tuple[tuple[str, float], ...]:
    """The ``k`` most likely alternatives, most likely first. vLLM adds the sampled token to
    them (first, even when it is not among the top k): sort, and keep ``k``."""
    got = sorted(((str(t), float(lp)) for t, lp in pairs), key=lambda p: -p[1])
    return tuple(got[:k])


def _parse_logprobs(raw: Any, chat: bool, k: int = 0) -> tuple[TokenLogprob, ...] | None:
    """Token log-probabilities in either OpenAI form (chat ``content`` or the legacy
    completion lists), with ``k`` alternatives; None if the server sent none."""
    if not isinstance(raw, dict):
        return None
    try:
        if chat or "content" in raw:
            return tuple(
                TokenLogprob(
                    token=str(t["token"]),
                    logprob=float(t["logprob"]),
                    top=_top(((a["token"], a["logprob"]) for a in t.get("top_logprobs") or ()), k),
                    kl_uniform=None if t.get("kl_uniform") is None else float(t["kl_uniform"]),
                )
                for t in raw.get("content") or ()
            )
        tokens = raw.get("tokens") or []
        values = raw.get("token_logprobs") or []
        tops = raw.get("top_logprobs") or [None] * len(tokens)
        kls = raw.get("kl_uniform") or [None] * len(tokens)
        return tuple(
            TokenLogprob(
                token=str(tok),
                logprob=float(lp) if lp is not None else float("nan"),
                top=_top((top or {}).items(), k),
                kl_uniform=None if kl is None else float(kl),
            )
            for tok, lp, top, kl in zip(tokens, values, tops, kls, strict=False)
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        log.warning("unreadable logprobs in the answer (%s): ignored", exc)
        return None


def _cut_logprobs(
    logprobs: tuple[TokenLogprob, ...], text: str, stop: Sequence[str]
) -> tuple[TokenLogprob, ...]:
    """Drop tokens past a stop string the client cut but the server did not."""
    if not stop:
        return logprobs
    at = 0
    for i, t in enumerate(logprobs):
        if at > len(text):
            return logprobs[:i]
        at += len(t.token)
    return logprobs


def _tail_bytes(text: str, budget: int) -> str:
    """The end of ``text`` in at most ``budget`` UTF-8 bytes (whole characters)."""
    data = text.encode()
    if len(data) <= budget:
        return text
    return data[len(data) - max(0, budget) :].decode("utf-8", errors="ignore")


def _cut_messages(messages: Sequence[dict[str, Any]], room: int) -> list[dict[str, Any]]:
    """Cut a chat by the byte bound: the oldest turns after a system message go first, then the
    start of the longest remaining message."""
    msgs = [dict(m) for m in messages]

    def bound() -> int:
        size = sum(len(m["role"]) + len(m["content"].encode()) for m in msgs)
        return size + _TEMPLATE_TOKENS + _TOKENS_PER_MESSAGE * len(msgs)

    first = 1 if msgs and msgs[0]["role"] == "system" else 0
    while bound() > room and len(msgs) - first > 1:
        del msgs[first]
    excess = bound() - room
    if excess > 0:
        i = max(range(len(msgs)), key=lambda j: len(msgs[j]["content"].encode()))
        content = msgs[i]["content"]
        msgs[i]["content"] = _tail_bytes(content, len(content.encode()) - excess)
    return msgs

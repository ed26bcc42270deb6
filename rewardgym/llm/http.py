"""The OpenAI-compatible HTTP backend: vLLM, SGLang, ``rewardgym.llm.server`` or a hosted API.

Only the standard library is used (``urllib``), so this backend needs no extra. Transient
failures (connection errors, timeouts, HTTP 408/409/429/5xx) are retried with exponential
backoff (honouring ``Retry-After``); everything else, and a failure after the last retry, raises
:class:`rewardgym.errors.LLMError` with the server's message.
"""

from __future__ import annotations

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
from rewardgym.llm.base import ChatMessage, Completion, LLMClient, cut_at_stop

__all__ = ["RETRY_STATUS", "OpenAIClient"]

log = logging.getLogger("rewardgym.llm.http")

#: HTTP statuses worth retrying: the server is busy or briefly broken, the request is fine.
RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


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
    ) -> None:
        super().__init__()
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"base_url {base_url!r} must start with http:// or https://, "
                "e.g. 'http://127.0.0.1:8000/v1'"
            )
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

    # -- requests ----------------------------------------------------------------------------

    def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        return self._request("POST", path, payload)

    def _request(self, method: str, path: str, payload: dict[str, Any] | None) -> dict[str, Any]:
        url = f"{self.base_url}{path}"
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

    # -- LLMClient ---------------------------------------------------------------------------

    def _payload(
        self, max_tokens: int, temperature: float, stop: Sequence[str], seed: int | None
    ) -> dict[str, Any]:
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
    ) -> Completion:
        payload = self._payload(max_tokens, temperature, stop, seed)
        payload["prompt"] = prompt
        data = self._post("/completions", payload)
        return self._parse(data, stop, chat=False, prompt_text=prompt)

    def _generate_chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        stop: Sequence[str],
        seed: int | None,
    ) -> Completion:
        payload = self._payload(max_tokens, temperature, stop, seed)
        payload["messages"] = [dict(m) for m in messages]
        data = self._post("/chat/completions", payload)
        prompt_text = "\n".join(m["content"] for m in messages)
        return self._parse(data, stop, chat=True, prompt_text=prompt_text)

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

"""A small OpenAI-compatible server for any :class:`~rewardgym.llm.base.LLMClient`.

It serves ``GET /v1/models``, ``POST /v1/completions`` and ``POST /v1/chat/completions`` with
``usage`` token counts, on the standard library's threaded HTTP server with ``TCP_NODELAY`` (a
stdlib server without it can stall ~40 ms per response on loopback). Tests and the demo use it
to put the local tiny model behind real HTTP; production runs point ``OpenAIClient`` at vLLM or
SGLang instead (docs/leaderboard.md).

Like vLLM, when the backend has a tokenizer (``TransformersClient``) it also serves
``POST /tokenize`` (``{"count", "max_model_len", "tokens"}``), lists ``max_model_len`` in
``/v1/models``, answers HTTP 400 to a request whose prompt and ``max_tokens`` do not fit the
context ("This model's maximum context length is ..."), accepts a completion prompt given as
token ids, and returns log-probabilities when asked: ``logprobs: k`` on completions (the legacy
``tokens``/``token_logprobs``/``top_logprobs`` lists), ``logprobs: true`` with
``top_logprobs: k`` on chat completions (``content: [{token, logprob, bytes, top_logprobs}]``).
Each token also carries ``kl_uniform`` (an extension vLLM lacks: the exact per-token
self-certainty, which a client of vLLM estimates from the top-k instead).

For testing retries it can fail on purpose: the first ``fail_first`` requests get HTTP
``fail_status`` (503 by default), then the next ``stall_first`` requests are delayed by
``stall_s`` seconds before answering (to trigger client timeouts).

Run it from a shell with ``python -m rewardgym.llm.server --model DIR --port 8000``.
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from rewardgym.llm.base import MAX_TOP_LOGPROBS, Completion, LLMClient

__all__ = ["OpenAICompatServer", "main"]

log = logging.getLogger("rewardgym.llm.server")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # TCP_NODELAY on every accepted socket
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        self._send(status, {"error": {"message": message, "code": status}}, headers)

    def _fault(self) -> bool:
        """Apply the injected fault plan; True if the request was answered with an error."""
        owner = self.server.owner
        n = owner._next_request_number()
        if n < owner.fail_first:
            self._error(owner.fail_status, "injected failure", {"Retry-After": "0"})
            return True
        if n < owner.fail_first + owner.stall_first:
            time.sleep(owner.stall_s)
        return False

    def do_GET(self) -> None:
        if self.path.rstrip("/") != "/v1/models":
            self._error(404, f"no route {self.path}; try /v1/models")
            return
        owner = self.server.owner
        model: dict[str, Any] = {"id": owner.model_name, "object": "model"}
        if owner.max_model_len is not None:
            model["max_model_len"] = owner.max_model_len
        self._send(200, {"object": "list", "data": [model]})

    def do_POST(self) -> None:
        path = self.path.rstrip("/")
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        routes = ("/v1/completions", "/v1/chat/completions", "/tokenize", "/v1/tokenize")
        if path not in routes:
            self._error(404, f"no route {self.path}")
            return
        owner = self.server.owner
        if path.endswith("/tokenize"):
            if owner.tokenizing is None:
                self._error(404, "this server's backend has no tokenizer: no /tokenize")
                return
        elif self._fault():
            return
        try:
            req = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._error(400, "body is not JSON")
            return
        if not isinstance(req, dict):
            self._error(400, "body must be a JSON object")
            return
        if req.get("model") not in (None, owner.model_name):
            self._error(
                404, f"model {req.get('model')!r} not served; this server has {owner.model_name!r}"
            )
            return
        chat = (
            "messages" in req if path.endswith("/tokenize") else path.endswith("chat/completions")
        )
        if chat:
            messages = req.get("messages")
            if not isinstance(messages, list) or not messages:
                self._error(400, "'messages' must be a non-empty list")
                return
        else:
            prompt = req.get("prompt")
            if isinstance(prompt, list) and prompt and all(type(t) is int for t in prompt):
                if owner.tokenizing is None:
                    self._error(400, "token-id prompts need a backend with a tokenizer")
                    return
                prompt = [int(t) for t in prompt]  # generated from as they are
            elif isinstance(prompt, list):
                prompt = "".join(str(p) for p in prompt)
            if not isinstance(prompt, (str, list)):
                self._error(400, "'prompt' must be a string or a list of token ids")
                return
        ids = None
        if owner.tokenizing is not None:
            tok = owner.tokenizing
            if chat:
                ids = tok.chat_ids(messages)
            else:
                ids = prompt if isinstance(prompt, list) else tok.prompt_ids(prompt)
        if path.endswith("/tokenize"):
            self._send(
                200, {"count": len(ids or ()), "max_model_len": owner.max_model_len, "tokens": ids}
            )
            return
        try:
            logprobs = _requested_logprobs(req, chat)
        except ValueError as exc:
            self._error(400, str(exc))
            return
        if logprobs is not None and not owner.logprobs:
            self._error(400, "this model does not support logprobs")
            return
        kwargs = {
            "max_tokens": int(req.get("max_tokens") or 16),
            "temperature": float(req.get("temperature") or 0.0),
            "stop": _as_list(req.get("stop")),
            "seed": req.get("seed"),
            "logprobs": logprobs,
        }
        if ids is not None and owner.max_model_len is not None:
            wanted = len(ids) + kwargs["max_tokens"]
            if wanted > owner.max_model_len:
                where = "messages" if chat else "prompt"
                self._error(
                    400,
                    f"This model's maximum context length is {owner.max_model_len} tokens. "
                    f"However, you requested {wanted} tokens ({len(ids)} in the {where}, "
                    f"{kwargs['max_tokens']} in the completion). Please reduce the length of "
                    f"the {where} or completion.",
                )
                return
        try:
            if chat:
                out = owner.client.chat(messages, **kwargs)
            elif isinstance(prompt, list):
                out = owner.tokenizing.complete_ids(prompt, **kwargs)
            else:
                out = owner.client.complete(prompt, **kwargs)
        except Exception as exc:  # the server must answer, whatever the backend did
            log.exception("generation failed")
            self._error(500, f"generation failed: {exc}")
            return
        choice: dict[str, Any] = {"index": 0, "finish_reason": out.finish_reason}
        if chat:
            choice["message"] = {"role": "assistant", "content": out.text}
        else:
            choice["text"] = out.text
        if out.logprobs is not None:
            choice["logprobs"] = _chat_logprobs(out) if chat else _completion_logprobs(out)
        self._send(
            200,
            {
                "id": f"cmpl-{uuid.uuid4().hex[:12]}",
                "object": "chat.completion" if chat else "text_completion",
                "created": int(time.time()),
                "model": owner.model_name,
                "choices": [choice],
                "usage": {
                    "prompt_tokens": out.prompt_tokens,
                    "completion_tokens": out.completion_tokens,
                    "total_tokens": out.total_tokens,
                },
            },
        )


def _requested_logprobs(req: dict[str, Any], chat: bool) -> int | None:
    """The top-k a request asks for (None: no log-probabilities), as the OpenAI API spells it:
    ``logprobs: k`` for completions, ``logprobs: true`` and ``top_logprobs: k`` for chat."""
    if chat:
        if not req.get("logprobs"):
            return None
        k = req.get("top_logprobs") or 0
    else:
        k = req.get("logprobs")
        if k is None or k is False:
            return None
    if not isinstance(k, int) or not 0 <= k <= MAX_TOP_LOGPROBS:
        raise ValueError(f"top_logprobs/logprobs must be an int in 0..{MAX_TOP_LOGPROBS}")
    return int(k)


def _token_entry(token: str, logprob: float) -> dict[str, Any]:
    return {"token": token, "logprob": logprob, "bytes": list(token.encode("utf-8"))}


def _chat_logprobs(out: Completion) -> dict[str, Any]:
    content = []
    for t in out.logprobs or ():
        entry = _token_entry(t.token, t.logprob)
        entry["top_logprobs"] = [_token_entry(tok, lp) for tok, lp in t.top]
        entry["kl_uniform"] = t.kl_uniform
        content.append(entry)
    return {"content": content}


def _completion_logprobs(out: Completion) -> dict[str, Any]:
    tokens = list(out.logprobs or ())
    offsets, at = [], 0
    for t in tokens:
        offsets.append(at)
        at += len(t.token)
    return {
        "tokens": [t.token for t in tokens],
        "token_logprobs": [t.logprob for t in tokens],
        "top_logprobs": [dict(t.top) for t in tokens],
        "text_offset": offsets,
        "kl_uniform": [t.kl_uniform for t in tokens],
    }


def _as_list(stop: Any) -> list[str]:
    if stop is None:
        return []
    if isinstance(stop, str):
        return [stop]
    return [str(s) for s in stop]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: OpenAICompatServer


class OpenAICompatServer:
    """Serve ``client`` over the OpenAI HTTP API on ``host:port`` (port 0 = a free one).

    Args:
        client: the backend answering requests (usually a ``TransformersClient``).
        host: interface to bind; keep the loopback default unless you mean to expose it.
        port: TCP port, 0 to let the OS pick a free one (read it back from :attr:`port`).
        model_name: the name clients must send (defaults to ``client.model``).
        fail_first: answer this many first generation requests with ``fail_status``.
        fail_status: the HTTP status of injected failures (503 by default).
        stall_first: then delay this many requests by ``stall_s`` seconds each.
        stall_s: the delay of a stalled request.
        max_model_len: the context to serve (default: the backend's ``context_length``), as
            vLLM's ``--max-model-len``; requests that do not fit get HTTP 400.
        logprobs: False answers HTTP 400 to requests for log-probabilities, as some hosted
            models do.

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        client: LLMClient,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        model_name: str | None = None,
        fail_first: int = 0,
        fail_status: int = 503,
        stall_first: int = 0,
        stall_s: float = 0.0,
        max_model_len: int | None = None,
        logprobs: bool = True,
    ) -> None:
        self.client = client
        self.logprobs = bool(logprobs)
        self.model_name = model_name or client.model
        #: The backend when it can count tokens and take token ids (``prompt_ids``,
        #: ``chat_ids``, ``complete_ids``: a ``TransformersClient``), else None.
        self.tokenizing: Any = client if hasattr(client, "complete_ids") else None
        ctx = max_model_len or getattr(client, "context_length", None)
        #: The context served (prompt + completion tokens); None when it is not known.
        self.max_model_len: int | None = int(ctx) if ctx and self.tokenizing else None
        self.fail_first = int(fail_first)
        self.fail_status = int(fail_status)
        self.stall_first = int(stall_first)
        self.stall_s = float(stall_s)
        self._count_lock = threading.Lock()
        self.requests_seen = 0
        self._httpd = _Server((host, port), _Handler)
        self._httpd.owner = self
        self._thread: threading.Thread | None = None

    def _next_request_number(self) -> int:
        with self._count_lock:
            n = self.requests_seen
            self.requests_seen += 1
            return n

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The API root to give ``OpenAIClient``, e.g. ``http://127.0.0.1:41234/v1``."""
        host = self._httpd.server_address[0]
        return f"http://{host}:{self.port}/v1"

    def start(self) -> OpenAICompatServer:
        """Serve in a background (daemon) thread; returns self."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, name="rewardgym-llm-server", daemon=True
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted."""
        self._httpd.serve_forever()

    def stop(self) -> None:
        """Stop serving and close the socket; safe to call twice."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> OpenAICompatServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    """``python -m rewardgym.llm.server --model DIR [--host H] [--port P] [--name NAME]``."""
    from rewardgym.llm.local import TransformersClient

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a local causal LM directory")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--name", default=None, help="served model name (default: the path)")
    parser.add_argument(
        "--max-model-len", type=int, default=None, help="context to serve (default: the model's)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    server = OpenAICompatServer(
        TransformersClient(args.model),
        host=args.host,
        port=args.port,
        model_name=args.name,
        max_model_len=args.max_model_len,
    )
    log.info("serving %s at %s", server.model_name, server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()

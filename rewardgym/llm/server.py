"""A small OpenAI-compatible server for any :class:`~rewardgym.llm.base.LLMClient`.

It serves ``GET /v1/models``, ``POST /v1/completions`` and ``POST /v1/chat/completions`` with
``usage`` token counts, on the standard library's threaded HTTP server with ``TCP_NODELAY`` (a
stdlib server without it can stall ~40 ms per response on loopback). Tests and the demo use it
to put the local tiny model behind real HTTP; production runs point ``OpenAIClient`` at vLLM or
SGLang instead (docs/leaderboard.md).

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

from rewardgym.llm.base import LLMClient

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
        self._send(
            200,
            {"object": "list", "data": [{"id": owner.model_name, "object": "model"}]},
        )

    def do_POST(self) -> None:
        path = self.path.rstrip("/")
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if path not in ("/v1/completions", "/v1/chat/completions"):
            self._error(404, f"no route {self.path}")
            return
        if self._fault():
            return
        try:
            req = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._error(400, "body is not JSON")
            return
        owner = self.server.owner
        if req.get("model") not in (None, owner.model_name):
            self._error(
                404, f"model {req.get('model')!r} not served; this server has {owner.model_name!r}"
            )
            return
        kwargs = {
            "max_tokens": int(req.get("max_tokens") or 16),
            "temperature": float(req.get("temperature") or 0.0),
            "stop": _as_list(req.get("stop")),
            "seed": req.get("seed"),
        }
        chat = path.endswith("chat/completions")
        try:
            if chat:
                messages = req.get("messages")
                if not isinstance(messages, list) or not messages:
                    self._error(400, "'messages' must be a non-empty list")
                    return
                out = owner.client.chat(messages, **kwargs)
            else:
                prompt = req.get("prompt")
                if isinstance(prompt, list):
                    prompt = "".join(str(p) for p in prompt)
                if not isinstance(prompt, str):
                    self._error(400, "'prompt' must be a string")
                    return
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
    ) -> None:
        self.client = client
        self.model_name = model_name or client.model
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
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    server = OpenAICompatServer(
        TransformersClient(args.model), host=args.host, port=args.port, model_name=args.name
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

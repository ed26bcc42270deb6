"""The ``docker`` backend: a pool of warm containers, one ``docker exec`` per program.

Each container runs the locally built image (:mod:`rewardgym.sandbox.dockerd`) with
``--network none``, memory, pids and cpu limits, a read-only root, tmpfs ``/work`` and ``/tmp``,
all capabilities dropped, ``no-new-privileges`` and uid 65534. A run is one ``docker exec`` of a
small supervisor (stdlib Python, :mod:`rewardgym.sandbox._guest`) that writes the files into a
fresh ``/work/run-N``, runs the program with rlimits in its own process group, enforces the wall
limit, kills every leftover process of the uid and removes the work dir. Optional
``runtime="runsc"`` runs the containers under gVisor.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import logging
import os
import queue
import socket
import struct
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rewardgym.errors import DependencyNotInstalled, SandboxError, SandboxUnavailable
from rewardgym.sandbox import _guest
from rewardgym.sandbox.base import (
    CandidateDied,
    ExecResult,
    Files,
    Limits,
    Sandbox,
    Session,
    validate_files,
)
from rewardgym.sandbox.channel import describe_channel_error, make_result

logger = logging.getLogger("rewardgym.sandbox.docker")
GUEST_SOURCE = Path(_guest.__file__).read_text()
_HEADER = struct.Struct(">I")
_FRAME = struct.Struct(">BxxxL")
LABEL = "rewardgym.sandbox"


def _docker() -> Any:
    try:
        import docker
    except ImportError as exc:
        raise DependencyNotInstalled("docker", "docker", "the docker sandbox") from exc
    return docker


class _ExecStream:
    """The hijacked socket of one ``docker exec``: framed writes, demultiplexed reads."""

    def __init__(
        self, sock: Any, max_frame_bytes: int = _guest.MAX_MESSAGE_BYTES, max_values: int = 0
    ) -> None:
        self.raw: socket.socket = sock._sock if hasattr(sock, "_sock") else sock
        self.sock = sock
        self.max_frame_bytes, self.max_values = max_frame_bytes, max_values
        self.raw_buf = bytearray()
        self.stdout = bytearray()
        self.eof = False

    def send(self, message: dict) -> None:
        body = json.dumps(message, separators=(",", ":")).encode()
        self.raw.sendall(_HEADER.pack(len(body)) + body)

    def _pump(self, deadline: float) -> None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        self.raw.settimeout(left)
        try:
            chunk = self.raw.recv(1 << 20)
        except TimeoutError:
            raise TimeoutError from None
        if not chunk:
            self.eof = True
            raise EOFError("exec stream closed")
        self.raw_buf += chunk
        while len(self.raw_buf) >= _FRAME.size:
            stream, size = _FRAME.unpack(self.raw_buf[: _FRAME.size])
            if len(self.raw_buf) < _FRAME.size + size:
                break
            payload = self.raw_buf[_FRAME.size : _FRAME.size + size]
            del self.raw_buf[: _FRAME.size + size]
            if stream == 1:
                self.stdout += payload

    def recv(self, timeout: float) -> dict:
        """One length-prefixed JSON message from the exec's stdout; raise ``TimeoutError``,
        ``EOFError`` or :class:`_guest.FrameError` (over a cap, or malformed)."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self.stdout) >= _HEADER.size:
                size = _HEADER.unpack(self.stdout[: _HEADER.size])[0]
                if size > self.max_frame_bytes:
                    raise _guest.FrameError(
                        f"a message of {size} bytes (the limit is {self.max_frame_bytes})"
                    )
                if len(self.stdout) >= _HEADER.size + size:
                    body = bytes(self.stdout[_HEADER.size : _HEADER.size + size])
                    del self.stdout[: _HEADER.size + size]
                    return _guest.parse_frame(body, self.max_values)
            self._pump(deadline)

    def close(self) -> None:
        for obj in (self.raw, self.sock):
            with contextlib.suppress(Exception):
                obj.close()


class DockerSandbox(Sandbox):
    """Warm-container Docker sandbox.

    Args:
        limits: default limits; memory, pids and cpu also become the containers' cgroup limits.
        image: image to run (default: build/import the local sandbox image).
        pool_size: warm containers kept (default: one per CPU).
        runtime: container runtime, e.g. ``"runsc"`` for gVisor.
        base_url: Docker engine address (default: ``$DOCKER_HOST`` or the local socket).
    """

    kind = "docker"

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        image: str | None = None,
        pool_size: int | None = None,
        runtime: str | None = None,
        base_url: str | None = None,
    ) -> None:
        super().__init__(limits)
        docker = _docker()
        try:
            self.client = docker.DockerClient(base_url=base_url) if base_url else docker.from_env()
            self.client.ping()
        except Exception as exc:
            raise SandboxUnavailable(
                f"no Docker engine reachable ({exc}); start dockerd or use kind='process'"
            ) from exc
        if image is None:
            from rewardgym.sandbox.dockerd import ensure_image

            image = ensure_image(self.client)
        self.image, self.runtime = image, runtime
        self.pool_size = pool_size or max(1, os.cpu_count() or 1)
        self._pool: queue.LifoQueue = queue.LifoQueue()
        self._all: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count()
        for _ in range(self.pool_size):
            self._pool.put(self._new_container())

    def _new_container(self) -> Any:
        lim = self.default_limits
        kwargs: dict[str, Any] = {
            "detach": True,
            "network_mode": "none",
            "mem_limit": f"{lim.memory_mb + 64}m",
            "memswap_limit": f"{lim.memory_mb + 64}m",
            "pids_limit": lim.max_processes + 16,
            "nano_cpus": 1_000_000_000,
            "read_only": True,
            "tmpfs": {
                "/work": "rw,nosuid,nodev,size=256m,uid=65534,gid=65534,mode=0700",
                "/tmp": "rw,nosuid,nodev,size=16m,mode=1777",
            },
            "user": "65534:65534",
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
            "labels": {LABEL: str(os.getpid())},
            "working_dir": "/work",
            "environment": {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/work"},
        }
        if self.runtime:
            kwargs["runtime"] = self.runtime
        container = self.client.containers.run(self.image, ["sleep", "infinity"], **kwargs)
        with self._lock:
            self._all[container.id] = container
        return container

    def _take(self) -> Any:
        self._check_open()
        return self._pool.get()

    def _give_back(self, container: Any, healthy: bool) -> None:
        if not healthy:
            self._remove(container)
            try:
                container = self._new_container()
            except Exception as exc:  # the engine is gone; the pool shrinks
                logger.warning("could not replace a sandbox container: %s", exc)
                return
        self._pool.put(container)

    def _remove(self, container: Any) -> None:
        with self._lock:
            self._all.pop(container.id, None)
        try:
            container.remove(force=True)
        except Exception as exc:
            logger.warning("could not remove container %s: %s", container.id[:12], exc)

    def _exec(self, container: Any, cmd: Sequence[str]) -> _ExecStream:
        api = self.client.api
        exec_id = api.exec_create(
            container.id, list(cmd), stdin=True, user="65534:65534", workdir="/work"
        )["Id"]
        return _ExecStream(api.exec_start(exec_id, socket=True))

    def _sweep(self, container: Any) -> bool:
        """Kill every process but pid 1 and empty /work and /tmp; True if it worked."""
        try:
            stream = self._exec(
                container,
                ["sh", "-c", "kill -9 -1; rm -rf /work/* /work/.[!.]* /tmp/* 2>/dev/null; true"],
            )
            try:
                while True:
                    stream._pump(time.monotonic() + 10.0)
            except EOFError:
                return True
            finally:
                stream.close()
        except Exception:
            return False

    def run(
        self,
        program: str,
        *,
        stdin: str | bytes | None = None,
        files: Files | None = None,
        limits: Limits | None = None,
    ) -> ExecResult:
        """See :meth:`Sandbox.run`."""
        lim = self._limits(limits)
        content = validate_files(files)
        data = stdin.encode() if isinstance(stdin, str) else (stdin or b"")
        request = {
            "program": program,
            "stdin": base64.b64encode(data).decode(),
            "files": {k: base64.b64encode(v).decode() for k, v in content.items()},
            "limits": lim.model_dump(),
            "workdir": f"/work/run-{next(self._ids)}",
        }
        container = self._take()
        start = time.monotonic()
        healthy = True
        try:
            stream = self._exec(container, ["python3", "-I", "-S", "-c", GUEST_SOURCE, "run"])
            try:
                stream.send(request)
                answer = stream.recv(lim.wall_s + 10.0)
            finally:
                stream.close()
        except (TimeoutError, EOFError, OSError) as exc:
            healthy = False
            return ExecResult(
                stderr=f"the sandbox supervisor was lost ({type(exc).__name__}); the container was replaced",
                wall_s=time.monotonic() - start,
                backend=self.kind,
            )
        finally:
            self._give_back(container, healthy)
        out = base64.b64decode(answer["stdout"])
        err = base64.b64decode(answer["stderr"])
        status = {k: answer.get(k) for k in ("exit_code", "signal", "cpu_s", "maxrss_kb")}
        return make_result(
            out, err, answer["truncated"], answer["timed_out"], status,
            time.monotonic() - start, lim, self.kind,
        )  # fmt: skip

    def open_session(self, program: str, entry_point: str, limits: Limits | None = None) -> Session:
        """See :meth:`Sandbox.open_session`."""
        return _DockerSession(self, program, entry_point, self._limits(limits))

    def _shutdown(self) -> None:
        with self._lock:
            containers = list(self._all.values())
        for container in containers:
            self._remove(container)
        with contextlib.suppress(Exception):
            self.client.close()


class _DockerSession(Session):
    """A candidate server running through ``docker exec`` in a warm container."""

    def __init__(self, box: DockerSandbox, program: str, entry_point: str, limits: Limits) -> None:
        self.box, self.limits, self.closed = box, limits, False
        self.container = box._take()
        try:
            self.stream = box._exec(
                self.container, ["python3", "-I", "-S", "-c", GUEST_SOURCE, "serve"]
            )
        except BaseException:
            self.closed = True
            box._give_back(self.container, box._sweep(self.container))
            raise
        self.stream.max_frame_bytes = limits.max_frame_bytes
        self.stream.max_values = limits.max_values
        setup = {"program": program, "entry_point": entry_point, "limits": limits.model_dump()}
        self._await_loaded(self.stream, limits, self._death, {**setup, "workdir": "/work"})

    def _death(self, exc: BaseException) -> str:
        self.close()  # the sweep kills what still runs
        if isinstance(exc, (TimeoutError, _guest.FrameError)):
            return describe_channel_error(exc)
        return "the candidate process exited or was killed"

    def call(
        self, args: Sequence[Any], kwargs: Mapping[str, Any], timeout: float
    ) -> dict[str, Any]:
        if self.closed:
            raise CandidateDied("the candidate process is not running")
        try:
            self.stream.send(
                {"args": _guest.encode(tuple(args)), "kwargs": _guest.encode(dict(kwargs))}
            )
            answer = self.stream.recv(timeout)
        except (TimeoutError, EOFError, OSError) as exc:  # EOFError includes FrameError
            raise CandidateDied(self._death(exc)) from None
        except BaseException:
            self.close()
            raise
        self._collect(answer, self.limits.max_output_bytes)
        return answer

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.stream.close()
        healthy = self.box._sweep(self.container)
        self.box._give_back(self.container, healthy)


def docker_problem(base_url: str | None = None) -> str | None:
    """Why the docker backend cannot run here, or None when an engine answers."""
    try:
        docker = _docker()
    except DependencyNotInstalled as exc:
        return str(exc)
    try:
        client = docker.DockerClient(base_url=base_url) if base_url else docker.from_env()
        client.ping()
        client.close()
    except Exception as exc:
        return f"no Docker engine reachable ({exc})"
    return None


__all__ = ["DockerSandbox", "SandboxError", "docker_problem"]

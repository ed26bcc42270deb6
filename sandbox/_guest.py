"""Code that runs on the *inside* of a sandbox: the plain-data codec and the candidate server.

This module uses the standard library only and never imports the rest of rewardgym, because the
``bwrap`` and ``docker`` backends ship its source text into a bare ``python3 -I -S`` interpreter
(``python3 -I -S -c SOURCE serve``). The ``process`` backend imports it in its fork-server.

The trusted side (the grader) uses the same codec to decode what comes back, so only values of an
exactly known type ever cross the boundary (``type(x) is int``: subclasses and objects that
override ``__eq__`` are refused).
"""

from __future__ import annotations

import base64
import contextlib
import gc
import io
import itertools
import json
import os
import resource
import struct
import sys

MAX_DEPTH = 200
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
#: how many members of one set (or keys of one dict) may share a hash with another member:
#: building a set of n colliding members costs n**2 comparisons (a trusted-side stall).
MAX_HASH_COLLISIONS = 64
_HEADER = struct.Struct(">I")
_JSON_STRING = rb'"(?:[^"\\]|\\.)*"'  # compiled on first use: the guest never needs it


class NotPlainData(TypeError):
    """A value is not plain data (int, float, complex, str, bytes, bool, None and containers)."""


class FrameError(EOFError):
    """A message from the other side is oversized, malformed or over a decoding cap.

    An ``EOFError``: the channel is unusable from here on, as if it were closed.
    """


#: exact types JSON carries as they are (floats by ``repr``, so inf, nan and -0.0 survive).
_NATIVE = frozenset({int, float, str, bool, type(None)})
_ITERS = {tuple: tuple.__iter__, set: set.__iter__, frozenset: frozenset.__iter__}
_TAGS = {tuple: "t", set: "S", frozenset: "F"}
_MAKERS = {"t": tuple, "S": set, "F": frozenset}


def encode(value: object, _depth: int = 0) -> object:
    """Encode ``value`` as JSON-able data; raise :class:`NotPlainData` for anything else.

    Exact ints, floats, strs, bools, None and lists are JSON-native and go as they are; tuples,
    sets, frozensets, dicts, bytes and complex numbers become one-key objects (``{"t": [...]}``,
    ``{"S": ...}``, ``{"F": ...}``, ``{"d": [keys, values]}``, ``{"b": base64}``, ``{"c": [re,
    im]}``). Types are checked exactly (``type(x) is int``), so ``bool`` and ``int`` stay
    distinct and subclasses or objects overriding ``__eq__`` are refused. A container of scalars
    (or of lists of scalars) is checked with one pass over its element types, not one Python
    call per element, which keeps 100k-element arguments cheap.
    """
    if _depth > MAX_DEPTH:
        raise NotPlainData("value nested deeper than 200 levels")
    kind = type(value)
    if kind in _NATIVE:
        return value
    if kind is list:
        return _encode_items(value, _depth)
    tag = _TAGS.get(kind)
    if tag is not None:  # the builtin iterator: an overridden __iter__ cannot run
        return {tag: _encode_items(list(_ITERS[kind](value)), _depth)}
    if kind is dict:
        keys = _encode_items(list(dict.keys(value)), _depth)
        return {"d": [keys, _encode_items(list(dict.values(value)), _depth)]}
    if kind is bytes:
        return {"b": base64.b64encode(value).decode("ascii")}
    if kind is complex:
        return {"c": [complex.real.__get__(value), complex.imag.__get__(value)]}
    raise NotPlainData(f"a value of type {kind.__name__!r} is not plain data")


def _all_native(items: list, depth: int, max_depth: int = MAX_DEPTH) -> bool:
    """Whether the list ``items`` at ``depth`` holds only native values, or only lists of them
    (e.g. a matrix or a list of pairs: one pass over all the inner elements): then it crosses
    as is, in both directions."""
    kinds = set(map(type, items))
    if kinds <= _NATIVE:
        return True
    return (
        kinds == {list}
        and depth + 2 <= max_depth
        and set(map(type, itertools.chain.from_iterable(items))) <= _NATIVE
    )


def _encode_items(items: list, depth: int) -> list:
    """Encode the elements of the exact list ``items`` (returned as is when all are native)."""
    if _all_native(items, depth):
        return items
    d = depth + 1
    return [encode(v, d) for v in items]


def decode(
    data: object,
    max_depth: int = MAX_DEPTH,
    max_collisions: int = MAX_HASH_COLLISIONS,
) -> object:
    """Rebuild a value from :func:`encode`'s output; raise :class:`NotPlainData` if malformed.

    The result holds exact builtin types only: JSON parsing makes nothing else, and anything
    that is not JSON-shaped is refused. So is a value nested deeper than ``max_depth`` and a
    set (or dict) with more than ``max_collisions`` members whose hash another member has
    (building it would cost quadratic time); any other failure while rebuilding (e.g. a
    ``RecursionError`` or ``MemoryError``) is reported as :class:`NotPlainData` too.
    """
    try:
        return _decode(data, 0, min(max_depth, MAX_DEPTH), max_collisions)
    except NotPlainData:
        raise
    except (RecursionError, MemoryError) as exc:
        raise NotPlainData(
            f"plain-data message too large to rebuild ({type(exc).__name__})"
        ) from None


def _decode(data: object, depth: int, max_depth: int, max_collisions: int) -> object:
    kind = type(data)
    if kind in _NATIVE:
        return data
    if depth > max_depth:
        raise NotPlainData(f"value nested deeper than {max_depth} levels")
    if kind is list:
        return _decode_items(data, depth, max_depth, max_collisions)
    if kind is not dict or len(data) != 1:
        raise NotPlainData("malformed plain-data message")
    ((tag, body),) = data.items()
    try:
        maker = _MAKERS.get(tag)
        if maker is not None and type(body) is list:
            items = _decode_items(body, depth, max_depth, max_collisions)
            if maker is not tuple:
                _check_collisions(items, max_collisions)
            return maker(items)
        if tag == "d" and type(body) is list and len(body) == 2:
            keys, values = (_decode_items(part, depth, max_depth, max_collisions) for part in body)
            if len(keys) != len(values):
                raise NotPlainData("malformed plain-data message: dict keys and values differ")
            _check_collisions(keys, max_collisions)
            return dict(zip(keys, values))
        if tag == "b" and type(body) is str:
            return base64.b64decode(body, validate=True)
        if tag == "c" and type(body) is list and [type(x) for x in body] == [float, float]:
            return complex(body[0], body[1])
    except (NotPlainData, RecursionError, MemoryError):
        raise
    except Exception as exc:  # unhashable set members or dict keys, bad base64, ...
        raise NotPlainData(f"malformed plain-data message: {exc}") from None
    raise NotPlainData(f"malformed plain-data message (tag {tag!r})")


def _check_collisions(members: list, limit: int) -> None:
    """Refuse set members (or dict keys) of which more than ``limit`` share a hash with another
    one. Hashing is linear; hash values are distinct ints, which never collide themselves."""
    if len(members) > limit + 1:
        collisions = len(members) - len(set(map(hash, members)))
        if collisions > limit:
            raise NotPlainData(
                f"{collisions} members of one set or dict share a hash with another member "
                f"(at most {limit}: building it would take quadratic time)"
            )


def _decode_items(items: object, depth: int, max_depth: int, max_collisions: int) -> list:
    if type(items) is not list:
        raise NotPlainData("malformed plain-data message: expected a list")
    if _all_native(items, depth, max_depth + 1):
        return items
    d = depth + 1
    return [_decode(v, d, max_depth, max_collisions) for v in items]


def write_message(fd: int, message: dict) -> None:
    """Write one length-prefixed JSON message to ``fd`` (blocking)."""
    body = json.dumps(message, separators=(",", ":")).encode()
    data = memoryview(_HEADER.pack(len(body)) + body)
    while data:
        n = os.write(fd, data)
        data = data[n:]


def _read_exact(fd: int, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("channel closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_message(fd: int) -> dict:
    """Read one length-prefixed JSON message from ``fd``; raise ``EOFError`` when closed."""
    (size,) = _HEADER.unpack(_read_exact(fd, _HEADER.size))
    if size > MAX_MESSAGE_BYTES:
        raise FrameError(f"message of {size} bytes exceeds the limit")
    return parse_frame(_read_exact(fd, size))


def parse_frame(body: bytes, max_values: int = 0) -> dict:
    """Parse one message body (a JSON object); raise :class:`FrameError` if it is unusable.

    ``max_values`` (0: no cap) bounds the JSON values (scalars and containers) the body may
    hold, checked on the bytes before parsing, so that a frame of many tiny containers cannot
    cost the reader ~25 times its size in memory. Parsing failures of every kind (malformed
    text, nesting too deep for the parser's ``RecursionError``, ``MemoryError``, an int too
    long to convert) become :class:`FrameError` with the reason.
    """
    if max_values and _value_bound(body) > max_values:
        values = count_values(body)
        if values > max_values:
            raise FrameError(f"message holds {values} values (the limit is {max_values})")
    try:
        message = loads(body)
    except RecursionError:
        raise FrameError("message nested too deeply to parse") from None
    except MemoryError:
        raise FrameError("message too large to parse") from None
    except ValueError as exc:
        raise FrameError(f"malformed message: {str(exc)[:200]}") from None
    if type(message) is not dict:
        raise FrameError("malformed message: not a JSON object")
    return message


def _value_bound(body: bytes) -> int:
    """An upper bound of :func:`count_values`: every element after a container's first follows
    a comma, so ``1 + commas + containers`` (brackets in strings included) is at least it."""
    return body.count(b",") + body.count(b"[") + body.count(b"{") + 1


def count_values(body: bytes) -> int:
    """How many JSON values (scalars and containers) the compact JSON text ``body`` holds.

    Strings (whose commas and brackets are text) are cut out first; then the values are the
    top-level one plus the elements of the non-empty containers, one more than their commas.
    """
    import re

    bare = re.sub(_JSON_STRING, b"0", body)
    containers = bare.count(b"[") + bare.count(b"{") - bare.count(b"[]") - bare.count(b"{}")
    return 1 + bare.count(b",") + containers


def loads(body: bytes | bytearray | str) -> object:
    """``json.loads`` with the cyclic GC paused: parsing 100k small lists otherwise triggers
    dozens of full collections (3-4x the parse time). JSON output has no cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return json.loads(body)
    finally:
        if enabled:
            gc.enable()


def apply_limits(limits: dict) -> None:
    """Lower this process's rlimits to ``limits`` (a ``Limits.model_dump()``); never raises."""
    mb = 1024 * 1024
    wanted = [
        (resource.RLIMIT_CPU, int(limits["cpu_s"] + 0.999), int(limits["cpu_s"] + 0.999) + 1),
        (resource.RLIMIT_AS, limits["memory_mb"] * mb, limits["memory_mb"] * mb),
        (resource.RLIMIT_FSIZE, limits["max_file_bytes"], limits["max_file_bytes"]),
        (resource.RLIMIT_NOFILE, limits["max_open_files"], limits["max_open_files"]),
        (resource.RLIMIT_NPROC, limits["max_processes"], limits["max_processes"]),
        (resource.RLIMIT_CORE, 0, 0),
    ]
    for which, soft, hard in wanted:
        try:
            _cur_soft, cur_hard = resource.getrlimit(which)
            if cur_hard != resource.RLIM_INFINITY:
                hard = min(hard, cur_hard)
                soft = min(soft, hard)
            resource.setrlimit(which, (soft, hard))
        except (ValueError, OSError):
            pass


class _CappedText(io.TextIOBase):
    """A text sink that keeps the first ``cap`` characters written to it."""

    def __init__(self, cap: int) -> None:
        self.cap, self.parts, self.size, self.truncated = cap, [], 0, False

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        if type(s) is not str:
            raise TypeError("write() argument must be str")
        room = self.cap - self.size
        if len(s) > room:
            self.truncated = True
            s = s[: max(room, 0)]
        if s:
            self.parts.append(s)
            self.size += len(s)
        return len(s)

    def take(self) -> str:
        out, self.parts = "".join(self.parts), []
        return out


def serve(program: str, entry_point: str, rfd: int, wfd: int, output_cap: int = 65536) -> None:
    """Load ``program`` and answer call requests on ``rfd``/``wfd`` until the channel closes.

    The first message sent is the load status. Each later request ``{"args", "kwargs"}`` (plain
    data) is answered with ``{"ok": True, "value": ...}`` or ``{"ok": False, "etype", "emsg"}``,
    plus whatever the candidate printed since the previous answer. Nothing here is trusted by
    the grader: it only ever reads plain data from these messages.
    """
    out, err = _CappedText(output_cap), _CappedText(output_cap)
    sys.stdout, sys.stderr = out, err
    namespace: dict = {"__name__": "__candidate__", "__builtins__": __builtins__}

    def reply(message: dict) -> None:
        message["stdout"], message["stderr"] = out.take(), err.take()
        write_message(wfd, message)

    try:
        code = compile(program, "<candidate>", "exec")
    except BaseException as exc:
        reply({"ok": False, "phase": "compile", "etype": type(exc).__name__, "emsg": str(exc)})
        return
    try:
        exec(code, namespace)
        func = namespace[entry_point]
        if not callable(func):
            raise TypeError(f"{entry_point!r} is not callable")
    except BaseException as exc:
        reply({"ok": False, "phase": "load", "etype": type(exc).__name__, "emsg": _msg(exc)})
        return
    reply({"ok": True})
    while True:
        try:
            request = read_message(rfd)
        except EOFError:
            return
        try:
            args = decode(request["args"])
            kwargs = decode(request["kwargs"])
            value = encode(func(*args, **kwargs))
            message = {"ok": True, "value": value}
        except BaseException as exc:
            message = {"ok": False, "etype": type(exc).__name__, "emsg": _msg(exc)}
        reply(message)


def _msg(exc: BaseException) -> str:
    try:
        text = str(exc)
        return text[:2000] if type(text) is str else "<unprintable>"
    except BaseException:
        return "<unprintable>"


def serve_stdio() -> None:
    """Entry of ``python3 -I -S -c SOURCE serve``: the channel is stdin/stdout.

    The first message on stdin carries ``program``, ``entry_point``, ``limits``; the real stdin
    and stdout are then pointed at /dev/null so the candidate cannot write into the channel by
    accident (a deliberate write only forges its own return values, which it controls anyway).
    """
    rfd, wfd = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    setup = read_message(rfd)
    apply_limits(setup["limits"])
    os.chdir(setup.get("workdir") or ".")
    serve(setup["program"], setup["entry_point"], rfd, wfd, setup["limits"]["max_output_bytes"])


def supervise_stdio() -> None:
    """Entry of ``python3 -I -S -c SOURCE run`` (docker): run one program under a supervisor.

    The request (``program``, ``stdin`` and ``files`` base64, ``limits``, ``workdir``) comes as
    one message on stdin; the result (output base64, exit status, timings) goes back as one
    message on stdout. The program runs in a fresh process group with lowered rlimits; at the
    wall limit, or when it exits, every other process of this uid is killed with ``kill(-1)``.
    """
    import selectors
    import shutil
    import time

    request = read_message(0)
    limits = request["limits"]
    workdir = request["workdir"]
    os.makedirs(workdir, mode=0o700)
    for name, content in request["files"].items():
        path = os.path.join(workdir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(base64.b64decode(content))
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            for target, fd in enumerate((in_r, out_w, err_w)):
                os.dup2(fd, target)
            os.closerange(3, 1 << 16)
            os.chdir(workdir)
            apply_limits(limits)
            env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": workdir, "TMPDIR": workdir}
            os.execve(sys.executable, [sys.executable, "-I", "-S", "-c", request["program"]], env)
        finally:
            os._exit(127)
    for fd in (in_r, out_w, err_w):
        os.close(fd)
    data = memoryview(base64.b64decode(request["stdin"]))
    bufs = {out_r: bytearray(), err_r: bytearray()}
    cap, truncated, timed_out = limits["max_output_bytes"], False, False
    sel = selectors.DefaultSelector()
    sel.register(out_r, selectors.EVENT_READ)
    sel.register(err_r, selectors.EVENT_READ)
    if data:
        os.set_blocking(in_w, False)
        sel.register(in_w, selectors.EVENT_WRITE)
    else:
        os.close(in_w)
    deadline = start + limits["wall_s"]
    open_readers = 2
    reaped = None
    while open_readers:
        if reaped is None:  # the program is done: kill what it left behind so the pipes close
            got = os.wait4(pid, os.WNOHANG)
            if got[0]:
                reaped = got
                _kill_uid_group(pid)
        now = time.monotonic()
        if now >= deadline + 2.0:
            break
        if now >= deadline and not timed_out:
            timed_out = True
            _kill_uid_group(pid)
        wait = max(0.0, (deadline + (2.0 if timed_out else 0.0)) - now)
        for key, _ in sel.select(wait if reaped else min(wait, 0.02)):
            if key.fd == in_w:
                try:
                    data = data[os.write(in_w, data[:65536]) :]
                except BlockingIOError:
                    continue
                except BrokenPipeError:
                    data = data[:0]
                if not data:
                    sel.unregister(in_w)
                    os.close(in_w)
                continue
            chunk = os.read(key.fd, 65536)
            if not chunk:
                sel.unregister(key.fd)
                open_readers -= 1
                continue
            room = cap - len(bufs[key.fd])
            if len(chunk) > room:
                truncated, chunk = True, chunk[: max(room, 0)]
            bufs[key.fd] += chunk
    _, status, usage = reaped or os.wait4(pid, 0)
    wall = time.monotonic() - start
    _kill_uid_group(pid)
    shutil.rmtree(workdir, ignore_errors=True)
    write_message(
        1,
        {
            "stdout": base64.b64encode(bufs[out_r]).decode(),
            "stderr": base64.b64encode(bufs[err_r]).decode(),
            "truncated": truncated,
            "timed_out": timed_out,
            "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "cpu_s": usage.ru_utime + usage.ru_stime,
            "maxrss_kb": usage.ru_maxrss,
            "wall_s": wall,
        },
    )


def _kill_uid_group(pid: int) -> None:
    """Kill the program's group, then every other process we may signal (same uid)."""
    import signal

    for target in (-pid, -1):
        with contextlib.suppress(OSError):
            os.kill(target, signal.SIGKILL)


if __name__ == "__main__" and sys.argv[1:] == ["serve"]:
    serve_stdio()
elif __name__ == "__main__" and sys.argv[1:] == ["run"]:
    supervise_stdio()

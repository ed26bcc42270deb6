"""The warm fork-server of the ``process`` backend (runs as its own process, started by
:class:`rewardgym.sandbox.process.ProcessSandbox`).

It is started as a bare ``python -I -S`` script and imports only the standard library, so that
each fork copies a small process. Start-up, once: enter new mount, pid and network namespaces (where the kernel allows), become
pid 1 of the new pid namespace, mount a private ``/proc``, hide the host's writable and private
directories behind empty tmpfs mounts (home dirs, ``/tmp``, ``/dev/shm``, ``/run``, the project),
import everything a child needs, and compile the seccomp filter to BPF.

Per program: a spare child is forked ahead of time; it ``setsid``s, drops to its own unprivileged
uid and loads seccomp while it waits. The request and its pipe ends come over a unix socket; the
spare takes them, sets rlimits and runs the program.
When the child exits (or the host asks), every process of that uid is killed (``kill(-1)`` with
the slot's uid as real uid), the work dir is removed, and the exit status goes back to the host.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import ctypes.util
import errno
import gc
import io
import json
import os
import select
import selectors
import shutil
import signal
import socket
import struct
import sys
import time
import traceback

if __package__:
    from rewardgym.sandbox import _guest
else:  # run as a bare script (python -I -S FILE): load the sibling module by path, stdlib only
    import importlib.util

    _spec = importlib.util.spec_from_file_location(
        "_rewardgym_guest", os.path.join(os.path.dirname(os.path.abspath(__file__)), "_guest.py")
    )
    _guest = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_guest)

CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x20000000, 0x40000000
CLONE_NEWIPC, CLONE_NEWUTS = 0x08000000, 0x04000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 4096, 8192, 16384, 1 << 18
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, PR_SET_DUMPABLE = 38, 22, 2, 4
WORKROOT = "/tmp/rewardgym-work"
CHILD_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/nonexistent"}
_HEADER = struct.Struct(">I")

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)

#: syscalls a program may never use; each fails with EPERM (never kills the program).
DENIED_SYSCALLS = (
    "socket", "ptrace", "process_vm_readv", "process_vm_writev", "bpf", "perf_event_open",
    "userfaultfd", "keyctl", "add_key", "request_key", "mount", "umount2", "pivot_root",
    "chroot", "unshare", "setns", "swapon", "swapoff", "reboot", "kexec_load",
    "kexec_file_load", "init_module", "finit_module", "delete_module", "acct", "settimeofday",
    "clock_settime", "iopl", "ioperm", "open_by_handle_at", "name_to_handle_at",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "fanotify_init", "lookup_dcookie",
    "move_mount", "open_tree", "fsopen", "fsmount", "fspick",
)  # fmt: skip
#: standard-library modules most programs import (every ``typing`` hint does): imported once
#: here, they are shared copy-on-write instead of imported again by every child.
PRELOADED_MODULES = ("typing", "re", "collections", "math")
NAMESPACE_FLAGS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000,
                   0x40000000)  # fmt: skip


def seccomp_bpf() -> bytes:
    """Compile the deny-list filter to raw BPF (``struct sock_filter[]``) with pyseccomp.

    ``clone3`` answers ENOSYS so libc falls back to ``clone``, whose namespace flags are checked.
    """
    import pyseccomp

    f = pyseccomp.SyscallFilter(defaction=pyseccomp.ALLOW)
    eperm = pyseccomp.ERRNO(errno.EPERM)
    for name in DENIED_SYSCALLS:
        try:
            f.add_rule(eperm, name)
        except Exception:  # a syscall this kernel/libseccomp does not know
            continue
    f.add_rule(pyseccomp.ERRNO(errno.ENOSYS), "clone3")
    for flag in NAMESPACE_FLAGS:
        f.add_rule(eperm, "clone", pyseccomp.Arg(0, pyseccomp.MASKED_EQ, flag, flag))
    r, w = os.pipe()
    with os.fdopen(w, "wb") as fw:
        f.export_bpf(fw)
    with os.fdopen(r, "rb") as fr:
        return fr.read()


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def load_seccomp(bpf: bytes) -> None:
    """Install ``bpf`` for this process (after ``no_new_privs``); raise OSError on failure."""
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(NO_NEW_PRIVS) failed")
    buf = ctypes.create_string_buffer(bpf, len(bpf))
    prog = _SockFprog(len(bpf) // 8, ctypes.addressof(buf))
    if _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(SET_SECCOMP) failed")


def _mount(src: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    rc = _libc.mount(
        src.encode(),
        target.encode(),
        fstype.encode() if fstype else None,
        ctypes.c_ulong(flags),
        data.encode() if data else None,
    )
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {src} on {target}: {os.strerror(err)}")


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _hide_paths(hide: list[str], keep: list[str], tmp_opts: str) -> list[str]:
    """Give ``/tmp`` a private tmpfs (``tmp_opts``), cover each existing ``hide`` dir with an
    empty read-only tmpfs, and re-bind read-only the ``keep`` dirs that lie inside covered ones
    (e.g. a virtual env inside a checkout under ``/tmp``). A ``hide`` dir nested inside a ``keep``
    dir is covered *after* the re-binding (on top of it), so data inside kept dirs can be hidden
    too. Kept dirs are held open by ``O_PATH`` descriptors while their parents are covered and
    bound back from ``/proc/self/fd``, so nothing needs a staging dir. Returns the paths hidden."""
    hide = [h for h in dict.fromkeys(os.path.realpath(h) for h in hide) if os.path.isdir(h)]
    keep = [k for k in dict.fromkeys(os.path.realpath(k) for k in keep) if os.path.isdir(k)]
    nested = [h for h in hide if any(_inside(h, k) for k in keep)]
    outer = [h for h in hide if h not in nested and h != "/tmp"]
    inner = [k for k in keep if any(_inside(k, h) for h in ["/tmp", *outer])]
    held = [(os.open(k, os.O_PATH | os.O_DIRECTORY), k) for k in inner]
    hidden: list[str] = []

    def cover(h: str, done: list[str]) -> None:
        if any(_inside(h, d) for d in done):
            return  # a dir inside a covered one is gone already
        try:
            _mount("tmpfs", h, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
            hidden.append(h)
            done.append(h)
        except OSError:
            pass

    try:
        _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, tmp_opts)  # private, writable
        covered = ["/tmp"]
        for h in sorted(outer, key=len):
            cover(h, covered)
        for fd, k in held:
            os.makedirs(k, exist_ok=True)
            _mount(f"/proc/self/fd/{fd}", k, None, MS_BIND | MS_REC)
            _mount(k, k, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_REC)
    finally:
        for fd, _ in held:
            os.close(fd)
    covered = []
    for h in sorted(nested, key=len):  # on top of the re-bound kept dirs
        if os.path.isdir(h):
            cover(h, covered)
    for h in hidden:
        _mount(h, h, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    return hidden


def _clear_inheritable_caps() -> None:
    """Empty this process's inheritable capability set (capget/capset, version 3 ABI)."""
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)
    data = (ctypes.c_uint32 * 6)()  # two words of (effective, permitted, inheritable)
    if _libc.capget(header, data) != 0:
        raise OSError(ctypes.get_errno(), "capget failed")
    data[2] = data[5] = 0
    if _libc.capset(header, data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")


def _setup_namespaces(config: dict) -> dict:
    """Enter new namespaces and become pid 1 of the new pid namespace (forks once)."""
    features: dict = {"netns": False, "pidns": False, "mountns": False, "hidden": []}
    if config.get("container"):  # started inside a container (bwrap) that made the namespaces
        features.update(netns=True, pidns=True, container=True)
        _clear_inheritable_caps()  # the container hands them down; children must not keep any
        if config.get("hidepid") and os.geteuid() == 0:  # runs see no process but their own
            _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2")
        os.makedirs(config["workroot"], mode=0o711, exist_ok=True)
        return features
    if os.geteuid() != 0:
        return features
    for flags, names in (
        (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS, "all"),
        (CLONE_NEWNET, "net"),
    ):
        if _libc.unshare(flags) == 0:
            features["netns"] = True
            if names == "all":
                features.update(pidns=True, mountns=True)
            break
    if features["pidns"]:
        pid = os.fork()
        if pid:  # the shim: wait for pid 1 of the namespace, then leave with its status
            signal.signal(signal.SIGTERM, lambda *_: os.kill(pid, signal.SIGKILL))
            _, status = os.waitpid(pid, 0)
            os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    if features["mountns"]:
        _mount("none", "/", None, MS_REC | MS_PRIVATE)
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV)
        features["hidden"] = _hide_paths(config["hide"], config["keep"], config["tmpfs_opts"])
    os.makedirs(WORKROOT if features["mountns"] else config["workroot"], mode=0o711, exist_ok=True)
    return features


def send_message(sock: socket.socket, message: dict, fds: list[int] = ()) -> None:
    """Send one length-prefixed JSON message (and ``fds``, as SCM_RIGHTS) over ``sock``.

    Raises OSError only if the peer did not get the whole message: once it has, it may read it
    and close its end at once, and even an empty send would then fail with EPIPE (a caller that
    retried elsewhere would start the request twice).
    """
    body = json.dumps(message).encode()
    data = _HEADER.pack(len(body)) + body
    sent = socket.send_fds(sock, [data], list(fds)) if fds else 0
    if sent < len(data):
        sock.sendall(data[sent:])


def recv_message(sock: socket.socket) -> tuple[dict, list[int]] | None:
    """Receive one message sent by :func:`send_message`; None when the peer is gone."""
    header, fds, _flags, _addr = socket.recv_fds(sock, _HEADER.size, 8)
    if not header:
        return None
    while len(header) < _HEADER.size:
        more = sock.recv(_HEADER.size - len(header))
        if not more:
            return None
        header += more
    (size,) = _HEADER.unpack(header)
    body = bytearray()
    while len(body) < size:
        chunk = sock.recv(min(size - len(body), 1 << 20))
        if not chunk:
            return None
        body += chunk
    return json.loads(body), fds


_WARM_UP = """
import math

def _warm_up(values, *, scale=1.0):
    total, seen = 0.0, {}
    for i, v in enumerate(values):
        key = f"{i}:{v!r}"
        seen[key] = seen.get(key, 0) + 1
        total += math.sqrt(abs(v)) * scale if isinstance(v, (int, float)) else len(str(v))
    pairs = sorted((k, n) for k, n in seen.items() if n)
    return [total, len(pairs), "".join(k[:1] for k, _ in pairs), tuple(set(map(type, values)))]

class _Shape:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __repr__(self):
        return f"_Shape({self.x}, {self.y})"

result = _warm_up([1, 2.5, "three", (4,), [5]] * 20)
"""


def _warm_up() -> None:
    """Compile and run a small program and push values through the codec once, in the idle
    spare: the memory the compiler and the codec need is then faulted in before a request."""
    namespace: dict = {"__name__": "__warm_up__"}
    exec(compile(_WARM_UP, "<warm-up>", "exec"), namespace)
    value = [list(range(50)), [0.5] * 50, {"k": ("t", b"b", 1j)}, {1, 2}, "s" * 100]
    _guest.decode(_guest.loads(json.dumps(_guest.encode(value))))
    io.TextIOWrapper(io.BytesIO(), encoding="utf-8").write("warm")


class ForkServer:
    """Pid 1 of the sandbox namespace: forks one child per request and cleans up after it.

    One *spare* child is forked ahead of time (as soon as the server is idle), contains itself
    and waits for its request, so a request never waits for ``fork()``, the seccomp filter's
    load or copy-on-write faults.
    """

    def __init__(self, sock: socket.socket, config: dict, features: dict) -> None:
        self.sock = sock
        self.config = config
        self.workroot = WORKROOT if features["mountns"] else config["workroot"]
        self.bpf = bytes.fromhex(config["seccomp_bpf"])
        self.free_uids = list(range(config["uid_base"], config["uid_base"] + config["n_uids"]))
        self.runs: dict[int, dict] = {}  # child pid -> run record
        self.by_id: dict[int, int] = {}  # request id -> child pid
        self.exited: list[tuple[int, int, object]] = []
        self.spare: tuple[int, socket.socket] | None = None

    # -- protocol -----------------------------------------------------------------------
    def send(self, message: dict) -> None:
        send_message(self.sock, message)

    def recv(self) -> tuple[dict, list[int]] | None:
        return recv_message(self.sock)

    # -- main loop ----------------------------------------------------------------------
    def serve(self) -> None:
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        os.set_blocking(wake_r, False)
        signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ, "sock")
        sel.register(wake_r, selectors.EVENT_READ, "wake")
        while True:
            # the next spare is forked as soon as no message waits, so that it has contained
            # itself (and warmed up) before the next request comes
            wait = 1.0 if self.spare else 0.0
            events = sel.select(timeout=wait)
            if not events and self.spare is None:
                self.make_spare()
            for key, _ in events:
                if key.data == "wake":
                    try:
                        while os.read(wake_r, 4096):
                            pass
                    except BlockingIOError:
                        pass
                else:
                    got = self.recv()
                    if got is None:  # the host went away: pid 1 exits, the kernel kills the rest
                        os._exit(0)
                    self.handle(*got)
            self.reap()

    def handle(self, message: dict, fds: list[int]) -> None:
        op = message["op"]
        if op == "spawn":
            try:
                self.spawn(message, fds)
            except Exception as exc:
                self.send({"id": message["id"], "error": f"{type(exc).__name__}: {exc}"})
            finally:
                for fd in fds:
                    os.close(fd)
        elif op == "kill":
            pid = self.by_id.get(message["id"])
            if pid is not None:  # the run is reaped (and its uid swept) once the child is dead
                self.kill_uid(self.runs[pid]["uid"], sweep=False)
        elif op == "ping":
            self.send({"id": message["id"], "pong": True})
        elif op == "stats":  # what is in use: a leak shows here (tests, the soak benchmark)
            self.reap()
            self.send(
                {
                    "id": message["id"],
                    "stats": {
                        "free_uids": len(self.free_uids) + (1 if self.spare else 0),
                        "n_uids": self.config["n_uids"],
                        "runs": len(self.runs),
                        "workdirs": len(os.listdir(self.workroot)),
                    },
                }
            )

    def spawn(self, message: dict, fds: list[int]) -> None:
        """Hand the request and its fds to the spare child (forking one if there is none),
        after making the run's work dir for the spare's uid."""
        for _attempt in range(2):
            if self.spare is None:
                self.make_spare()
                if self.spare is None:
                    raise RuntimeError("no free sandbox uid; too many concurrent runs")
            pid, sock, uid = self.spare
            self.spare = None
            workdir = os.path.join(self.workroot, f"run-{message['id']}")
            sent = False
            try:
                self.make_workdir(workdir, message.get("files", {}), uid)
                message.update(uid=uid, workdir=workdir)
                try:
                    send_message(sock, message, fds)
                    sent = True
                except OSError:  # the spare died before its request: try a fresh one
                    pass
            finally:
                sock.close()
                if not sent:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
                    self.release(uid, workdir)
            if sent:
                self.runs[pid] = {"id": message["id"], "uid": uid, "workdir": workdir}
                self.by_id[message["id"]] = pid
                return
        raise RuntimeError("could not hand the program to a forked child")

    def make_workdir(self, workdir: str, files: dict, uid: int) -> None:
        """Create ``workdir`` holding ``files`` (base64 content), all owned by ``uid``."""
        os.mkdir(workdir, 0o700)
        for name, content in files.items():
            path = os.path.join(workdir, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as fh:
                fh.write(base64.b64decode(content))
        for root, dirs, names in os.walk(workdir):
            for name in [*dirs, *names]:
                os.lchown(os.path.join(root, name), uid, uid)
        os.chown(workdir, uid, uid)

    def release(self, uid: int, workdir: str) -> None:
        """Kill whatever still runs as ``uid``, remove ``workdir`` and free the uid."""
        self.kill_uid(uid)
        shutil.rmtree(workdir, ignore_errors=True)
        self.free_uids.append(uid)

    def make_spare(self) -> None:
        """Fork an idle child that owns a free uid and waits on a private socket for its request
        (no spare when every uid is taken)."""
        if not self.free_uids:
            return
        uid = self.free_uids.pop(0)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        gc.freeze()  # the child's collections never walk (and so never copy) our pages
        pid = os.fork()
        if pid == 0:
            code = 70
            try:
                ours.close()
                code = self.spare_main(theirs, uid)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.write(2, traceback.format_exc().encode(errors="replace"))
            os._exit(code)
        theirs.close()
        self.spare = (pid, ours, uid)

    def spare_main(self, sock: socket.socket, uid: int) -> int:
        """In the spare: let go of the server's fds and signals, contain ourselves as ``uid``
        (nothing of that depends on the request, so a request never waits for it), warm up
        while idle, then wait for the request and run it."""
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGPIPE, signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        keep = sock.fileno()
        os.closerange(3, keep)
        os.closerange(keep + 1, 1 << 16)
        os.setsid()
        os.environ.clear()
        os.environ.update(CHILD_ENV)
        if os.geteuid() == 0:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
        if self.bpf:
            load_seccomp(self.bpf)
        if not select.select([sock], [], [], 0)[0]:  # only while no request is waiting
            _warm_up()
        got = recv_message(sock)
        if got is None:  # the server is shutting down
            return 0
        message, fds = got
        sock.close()
        return self.child(message, fds, message["workdir"])

    def child(self, message: dict, fds: list[int], workdir: str) -> int:
        """In the contained spare, once its request came: take the run's fds, work dir and
        limits, then run the program. Returns the exit code."""
        gc.enable()
        high = [os.dup(fd) for fd in fds]  # move out of the way before dup2 onto 0..n
        for target, fd in enumerate(high):
            os.dup2(fd, target)
        os.closerange(len(high), 1 << 16)
        os.chdir(workdir)
        os.environ["TMPDIR"] = workdir
        _guest.apply_limits(message["limits"])
        if message["mode"] == "serve":
            _guest.serve(
                message["program"], message["entry_point"], 3, 4,
                message["limits"]["max_output_bytes"],
            )  # fmt: skip
            return 0
        return run_program(message["program"])

    def collect_zombies(self) -> None:
        """Reap every exited child; keep the status of the runs we track for :meth:`reap`."""
        while True:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in self.runs:
                self.exited.append((pid, status, usage))

    def reap(self) -> None:
        self.collect_zombies()
        while self.exited:
            pid, status, usage = self.exited.pop(0)
            run = self.runs.pop(pid)
            self.release(run["uid"], run["workdir"])
            self.by_id.pop(run["id"], None)
            self.send(
                {
                    "id": run["id"],
                    "exited": True,
                    "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                    "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                    "cpu_s": usage.ru_utime + usage.ru_stime,
                    "maxrss_kb": usage.ru_maxrss,
                }
            )

    def kill_uid(self, uid: int, sweep: bool = True) -> None:
        """SIGKILL every process of ``uid`` (in our pid namespace), escaped sessions included.

        Real and effective uid become ``uid`` (saved uid stays 0 so we can come back), so
        ``kill(-1)`` reaches exactly the processes whose real or saved uid is ``uid``. It answers
        success as soon as *any* other process exists (the spare, other runs), so with ``sweep``
        we repeat until ``/proc`` (our namespace's own) shows no live process of ``uid``, reaping
        zombies in between, so that a child caught in the middle of ``fork`` cannot survive.
        Without ``sweep`` one signal round is sent: for a kill request, whose run's direct child
        then dies and is reaped (:meth:`reap`), which sweeps the uid before the run is reported
        gone or the uid is reused; waiting here would only hold up the next request.
        """
        if os.geteuid() != 0:
            return
        os.setresuid(uid, uid, 0)
        try:
            for attempt in range(2000):
                try:
                    os.kill(-1, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    break  # ESRCH: no process but us in the namespace
                if not sweep:
                    break
                self.collect_zombies()
                if not uid_has_processes(uid):
                    break
                if attempt > 3:
                    time.sleep(0.0005)
        finally:
            os.setresuid(0, 0, 0)
        if sweep:
            self.collect_zombies()


def uid_has_processes(uid: int) -> bool:
    """True if a live (non-zombie) process has ``uid`` as its real or saved uid."""
    me = str(os.getpid())
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or entry == me:
            continue
        try:
            with open(f"/proc/{entry}/status", "rb") as fh:
                status = fh.read()
        except OSError:
            continue
        state = status.split(b"\nState:", 1)[-1].split(None, 1)[0]
        ids = status.split(b"\nUid:", 1)[-1].split(None, 4)
        if state not in (b"Z", b"X") and uid in (int(ids[0]), int(ids[2])):
            return True
    return False


def run_program(program: str) -> int:
    """Run ``program`` as ``__main__`` with fresh stdio objects; return its exit code."""
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(
        io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="backslashreplace"
    )
    sys.stderr = io.TextIOWrapper(
        io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace",
        line_buffering=True,
    )  # fmt: skip
    sys.argv = ["<program>"]
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    code = 0
    try:
        exec(compile(program, "<program>", "exec"), namespace)
    except SystemExit as exc:
        if exc.code is None:
            code = 0
        elif isinstance(exc.code, int):
            code = exc.code & 0xFF
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            code = code or 120
    return code


def main() -> None:
    """Entry point: ``python -I -S _forkserver.py FD CONFIG_JSON`` (stdlib only, small to fork)."""
    sock = socket.socket(fileno=int(sys.argv[1]))
    config = json.loads(sys.argv[2])
    sys.path.extend(config.get("sys_path", []))  # so programs can import installed packages
    os.umask(0o022)
    with contextlib.suppress(Exception):  # keep freed heap mapped (and faulted in) for reuse
        _libc.mallopt(-1, 256 << 20)  # M_TRIM_THRESHOLD
    gc.disable()  # our own garbage is acyclic; collections would only dirty pages before forks
    features = _setup_namespaces(config)
    for name in PRELOADED_MODULES:
        __import__(name)
    server = ForkServer(sock, config, features)
    server.send({"id": 0, "ready": True, "features": features})
    server.serve()


if __name__ == "__main__":
    main()

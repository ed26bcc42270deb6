"""The process backend hands each request to exactly one contained child, and cleans up after it."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest

from rewardgym.sandbox import _forkserver, make


def test_send_message_survives_a_peer_that_closes_right_after_the_message(monkeypatch):
    # A spare that is already waiting reads its request and closes its socket at once. The
    # sender must not then fail (a follow-up send of zero bytes gets EPIPE): the fork-server
    # would take the request for undelivered and hand it to a second child as well, and two
    # candidate processes would answer on one session's pipes.
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    r, w = os.pipe()
    real_send_fds = socket.send_fds
    received = []

    def send_then_peer_reads_and_closes(sock, buffers, fds, *args):
        sent = real_send_fds(sock, buffers, fds, *args)
        message, got_fds = _forkserver.recv_message(theirs)
        received.append(message)
        for fd in got_fds:
            os.close(fd)
        theirs.close()
        return sent

    monkeypatch.setattr(socket, "send_fds", send_then_peer_reads_and_closes)
    try:
        _forkserver.send_message(ours, {"op": "spawn", "id": 7}, [r, w])
    finally:
        ours.close()
        os.close(r)
        os.close(w)
    assert received == [{"op": "spawn", "id": 7}]


def test_back_to_back_sessions_from_two_threads_each_get_their_own_answers():
    box = make("process")
    wrong: list[tuple[int, list]] = []

    def work(offset: int) -> None:
        for i in range(offset, offset + 40):
            session = box.open_session(f"def f(x):\n    return x + {i}\n", "f")
            try:
                got = [session.call((j,), {}, 5.0).get("value") for j in range(3)]
            finally:
                session.close()
            if got != [i, i + 1, i + 2]:
                wrong.append((i, got))

    threads = [threading.Thread(target=work, args=(k * 1000,)) for k in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        box.close()
    assert wrong == []


def _pids_of_uid(uid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
        except OSError:
            continue
        if "Z" not in fields["State"] and int(fields["Uid"].split()[0]) == uid:
            found.append(int(entry))
    return found


def test_a_closed_session_leaves_no_process_of_its_uid_behind():
    program = (
        "import os, time\n"
        "def escape():\n"
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        "        time.sleep(60)\n"
        "        os._exit(0)\n"
        "    return os.getuid()\n"
    )
    box = make("process")
    try:
        session = box.open_session(program, "escape")
        uid = session.call((), {}, 5.0)["value"]
        if uid == os.getuid():
            pytest.skip("not root: runs share our uid")
        assert _pids_of_uid(uid), "the escaped child should be running before close()"
        session.close()
        deadline = time.monotonic() + 5.0
        while _pids_of_uid(uid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _pids_of_uid(uid) == []
    finally:
        box.close()

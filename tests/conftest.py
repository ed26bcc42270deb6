"""Shared fixtures: a Docker engine for the tests that need one.

``docker_engine`` reuses an engine that already answers (``$DOCKER_HOST`` or the default socket);
otherwise, when we are root and dockerd is installed, it starts a private one (data root and
socket in a temp dir, ``--iptables=false --ip-forward=false --bridge=none``) for the session and
stops it afterwards. Without an engine, the tests that need one are skipped with the reason.
"""

from __future__ import annotations

import os
import sys

import pytest


def _progress(message: str) -> None:
    # The first image build takes about a minute in CI: say what is happening in the log.
    sys.stderr.write(f"\n[docker fixture] {message}\n")
    sys.stderr.flush()


@pytest.fixture(scope="session")
def docker_engine():
    """``(base_url, image_tag)`` of a reachable engine that has the sandbox image."""
    try:
        import docker
    except ImportError:
        pytest.skip("skipped: no Docker engine (the docker SDK is not installed)")
    from rewardgym.errors import SandboxUnavailable
    from rewardgym.sandbox.dockerd import PrivateEngine, ensure_image

    engine = None
    base_url = os.environ.get("DOCKER_HOST")
    try:
        client = docker.DockerClient(base_url=base_url) if base_url else docker.from_env()
        client.ping()
    except Exception as exc:
        reason = f"{exc}".splitlines()[0][:200]
        try:
            _progress("no engine reachable; starting a private dockerd")
            engine = PrivateEngine().start()
        except SandboxUnavailable as why:
            pytest.skip(f"skipped: no Docker engine ({reason}; {why})")
        base_url = engine.base_url
        client = docker.DockerClient(base_url=base_url)
    try:
        try:
            tag = ensure_image(client, progress=_progress)
        except SandboxUnavailable as why:
            pytest.skip(f"skipped: no Docker engine image ({why})")
        yield base_url or client.api.base_url, tag
    finally:
        client.close()
        if engine is not None:
            engine.stop()


@pytest.fixture
def loopback_only_netns():
    """Skip unless this process sees no network interface but loopback (a ``unshare -n`` netns).

    Tests that start a local Ray use it: they run inside such a namespace, under strace, from
    tests/leaderboard/test_local_only.py, which fails on any contact beyond loopback.
    """
    import socket

    if [name for _, name in socket.if_nameindex()] != ["lo"]:
        pytest.skip(
            "skipped here: runs inside a loopback-only network namespace under strace, from "
            "tests/leaderboard/test_local_only.py"
        )


@pytest.fixture
def torch_one_thread(monkeypatch):
    """One torch thread (and ``OMP_NUM_THREADS=1`` for child processes) for the test: on two
    cores, thread contention makes small models' first steps many times slower."""
    torch = pytest.importorskip("torch")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)

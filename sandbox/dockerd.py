"""A private Docker engine and the locally built sandbox image (no registry needed).

:class:`PrivateEngine` starts ``dockerd`` with its data root and socket in a temp dir, leaving the
host network alone (``--iptables=false --ip-forward=false --bridge=none``), and stops it again.
:func:`ensure_image` builds the sandbox image from a minimal Debian (``debootstrap --variant=minbase
bookworm`` plus ``python3``), imports it with ``docker import`` and tags it with a hash of the
recipe; the rootfs tarball is cached under ``~/.cache/rewardgym/`` so a later engine imports it in
seconds instead of rebuilding.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rewardgym.errors import SandboxUnavailable

logger = logging.getLogger("rewardgym.sandbox.dockerd")

#: Everything that decides the image's content; its hash is the image tag.
IMAGE_RECIPE: dict[str, Any] = {
    "tool": "debootstrap",
    "variant": "minbase",
    "suite": "bookworm",
    "include": ["python3"],
    "mirror": "http://deb.debian.org/debian",
    "prune": [
        "var/cache/apt",
        "var/lib/apt/lists",
        "usr/share/doc",
        "usr/share/man",
        "usr/share/locale",
    ],
    "recipe_version": 1,
}
IMAGE_REPO = "rewardgym-sandbox"


def image_tag() -> str:
    """``rewardgym-sandbox:<12 hex of the recipe hash>``."""
    digest = hashlib.sha256(json.dumps(IMAGE_RECIPE, sort_keys=True).encode()).hexdigest()
    return f"{IMAGE_REPO}:{digest[:12]}"


def cache_dir() -> Path:
    """Where rootfs tarballs are cached (``$XDG_CACHE_HOME`` or ``~/.cache``, then rewardgym)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "rewardgym" / "sandbox-image"


def build_rootfs_tarball(progress: Callable[[str], None] = logger.info) -> Path:
    """Debootstrap the recipe into a temp dir and pack it as a cached ``.tar`` (root only).

    Raises:
        SandboxUnavailable: not root, no debootstrap, or the Debian mirror is unreachable.
    """
    tarball = cache_dir() / f"{image_tag().split(':')[1]}.tar"
    if tarball.exists():
        return tarball
    if os.geteuid() != 0:
        raise SandboxUnavailable("building the sandbox image needs root (debootstrap)")
    if shutil.which("debootstrap") is None:
        raise SandboxUnavailable("debootstrap is not installed (apt-get install debootstrap)")
    tarball.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rewardgym-rootfs-") as tmp:
        root = Path(tmp) / "root"
        cmd = [
            "debootstrap",
            f"--variant={IMAGE_RECIPE['variant']}",
            f"--include={','.join(IMAGE_RECIPE['include'])}",
            IMAGE_RECIPE["suite"],
            str(root),
            IMAGE_RECIPE["mirror"],
        ]
        progress(f"sandbox image: {' '.join(cmd)} (about a minute)")
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        tail: list[str] = []
        for line in proc.stdout or ():
            tail = [*tail[-20:], line.rstrip()]
            if line.startswith(("I: Retrieving Release", "I: Installing core", "I: Base system")):
                progress(f"sandbox image: {line.strip()} ({time.monotonic() - start:.0f} s)")
        if proc.wait() != 0:
            raise SandboxUnavailable(
                "debootstrap could not build the sandbox image (is the Debian mirror reachable?): "
                + " | ".join(tail[-5:])
            )
        for rel in IMAGE_RECIPE["prune"]:
            shutil.rmtree(root / rel, ignore_errors=True)
        partial = tarball.with_suffix(".partial")
        subprocess.run(["tar", "-C", str(root), "-cf", str(partial), "."], check=True)
        partial.rename(tarball)
        progress(f"sandbox image: rootfs cached at {tarball} ({time.monotonic() - start:.0f} s)")
    return tarball


def ensure_image(client: Any, progress: Callable[[str], None] = logger.info) -> str:
    """Make sure the engine behind ``client`` has the sandbox image; return its tag."""
    import docker

    tag = image_tag()
    try:
        client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    tarball = build_rootfs_tarball(progress)
    progress(f"sandbox image: docker import {tarball.name} as {tag}")
    repo, version = tag.split(":")
    client.api.import_image(src=str(tarball), repository=repo, tag=version)
    return tag


class PrivateEngine:
    """A ``dockerd`` of our own: data root and socket in a temp dir, host network untouched.

    Use as a context manager; :meth:`stop` kills the daemon and removes its data root.
    """

    def __init__(self, root: str | None = None) -> None:
        self.root = Path(root or tempfile.mkdtemp(prefix="rewardgym-dockerd-"))
        self.sock = self.root / "docker.sock"
        self.base_url = f"unix://{self.sock}"
        self.proc: subprocess.Popen | None = None
        self.log_path = self.root / "dockerd.log"

    def start(self, timeout: float = 60.0) -> PrivateEngine:
        """Start the daemon and wait until it answers a ping.

        Raises:
            SandboxUnavailable: not root, no dockerd, or it did not come up (log tail included).
        """
        if os.geteuid() != 0:
            raise SandboxUnavailable("starting dockerd needs root")
        exe = shutil.which("dockerd")
        if exe is None:
            raise SandboxUnavailable("dockerd is not installed (apt-get install docker.io)")
        cmd = [
            exe, "--iptables=false", "--ip-forward=false", "--bridge=none",
            "--data-root", str(self.root / "data"), "--exec-root", str(self.root / "exec"),
            "--pidfile", str(self.root / "dockerd.pid"), "-H", self.base_url,
        ]  # fmt: skip
        log = open(self.log_path, "wb")  # noqa: SIM115 - handed to the daemon
        self.proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + timeout
        import docker

        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if self.sock.exists():
                try:
                    docker.DockerClient(base_url=self.base_url).ping()
                    return self
                except Exception:
                    pass
            time.sleep(0.2)
        tail = self.log_path.read_text(errors="replace")[-1500:]
        self.stop()
        raise SandboxUnavailable(f"dockerd did not start: {tail}")

    def stop(self) -> None:
        """Stop the daemon (SIGTERM, then SIGKILL) and delete its data; idempotent."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        subprocess.run(["umount", "-R", "-l", str(self.root)], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PrivateEngine:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

"""Local means local: the Ray backend and the LLM paths contact nothing beyond loopback.

Each probe runs in a network namespace that has only a loopback interface (``unshare -n``),
under ``strace -f``, and fails on any ``connect``/``sendto``/``sendmsg`` to an internet address
other than loopback. Unix sockets and netlink are fine. The Ray test of the bench runner runs
only inside such a namespace (it skips elsewhere), so it runs here.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap

import pytest

from rewardgym.registry import extra_available

HERE = pathlib.Path(__file__).resolve().parent
GRPO_TESTS = HERE.parent / "agents" / "test_grpo.py"
BIN = pathlib.Path(sys.executable).parent

_ADDRESS = re.compile(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6?, "([^"]+)"')


def non_loopback_contacts(trace: str) -> list[str]:
    """The lines of an ``strace -e trace=connect,sendto,sendmsg`` log that reach past loopback."""
    bad = []
    for line in trace.splitlines():
        if not re.search(r"\b(connect|sendto|sendmsg)\(", line):
            continue
        for v4, v6 in _ADDRESS.findall(line):
            addr = v4 or v6
            if not (addr.startswith(("127.", "::ffff:127.")) or addr in ("::1", "0.0.0.0", "::")):
                bad.append(line.strip())
    return bad


def _namespace_command() -> list[str] | None:
    """The command prefix that enters a loopback-only network namespace, or None."""
    if not (shutil.which("unshare") and shutil.which("strace") and shutil.which("ip")):
        return None
    prefix = ["unshare", "--net"] if os.geteuid() == 0 else ["unshare", "--net", "--map-root-user"]
    probe = subprocess.run([*prefix, "true"], capture_output=True)
    return prefix if probe.returncode == 0 else None


NETNS = _namespace_command()
needs_netns = pytest.mark.skipif(
    NETNS is None,
    reason="skipped: needs unshare (util-linux), strace and ip (iproute2), and the right to "
    "create a network namespace",
)


def run_traced(tmp_path: pathlib.Path, script: str, timeout: float = 240) -> tuple[str, str]:
    """Run bash ``script`` in a loopback-only namespace under strace; return (trace, output)."""
    trace = tmp_path / "connect.trace"
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(HERE),
        "REWARDGYM_MODELS": str(tmp_path / "models"),
        # AF_UNIX paths are capped at 107 bytes: Ray's sockets need a short folder.
        "RAY_TMPDIR": tempfile.mkdtemp(prefix="rg-ray-"),
    }
    inner = f"ip link set lo up && cd {tmp_path} && {script}"
    command = [
        *NETNS,
        "strace", "-f", "-qq", "-s", "128", "-e", "trace=connect,sendto,sendmsg",
        "-o", str(trace), "bash", "-c", inner,
    ]  # fmt: skip
    out = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=timeout, cwd=tmp_path
    )
    output = out.stdout + out.stderr
    assert out.returncode == 0, output[-4000:]
    return trace.read_text(), output


def test_the_trace_check_flags_internet_addresses_and_passes_loopback():
    lines = textwrap.dedent("""\
        7 connect(23, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("169.254.169.254")}, 16) = -1
        7 connect(7, {sa_family=AF_INET6, sin6_port=htons(1), inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6_addr)}, 28) = 0
        7 connect(9, {sa_family=AF_UNIX, sun_path="/tmp/ray/session/sockets/raylet"}, 110) = 0
        7 sendto(5, "x", 1, 0, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16) = 1
        7 connect(4, {sa_family=AF_INET6, sin6_port=htons(53), inet_pton(AF_INET6, "2001:4860:4860::8888", &sin6_addr)}, 28) = -1
        7 connect(3, {sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr("127.0.0.1")}, 16) = -1
    """)
    bad = non_loopback_contacts(lines)
    assert [re.search(r'"([0-9a-f.:]+)"', b).group(1) for b in bad] == [
        "169.254.169.254",
        "10.255.255.53",
        "2001:4860:4860::8888",
    ]


@needs_netns
def test_the_namespace_trace_sees_a_real_outside_connect(tmp_path):
    """The harness itself can fail: a connect to an outside address is seen and flagged."""
    script = (
        f'{sys.executable} -c "import socket; s = socket.socket(); '
        "print(s.connect_ex(('10.1.2.3', 80)))\""
    )
    trace, _ = run_traced(tmp_path, script, timeout=60)
    assert any("10.1.2.3" in line for line in non_loopback_contacts(trace))


@needs_netns
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_ray_backend_and_the_llm_paths_stay_on_loopback(tmp_path):
    """A local Ray (bench runner test, GRPO rollouts on Ray actors, CLI bench with a tiny local
    LLM agent) and our HTTP client
    against our own OpenAI-compatible server: no connect beyond loopback."""
    pytest.importorskip("ray")
    if not extra_available("llm"):
        pytest.skip("skipped: needs pip install 'rewardgym[llm]'")
    llm_http = textwrap.dedent("""\
        from rewardgym.llm import make_client
        from rewardgym.llm.server import OpenAICompatServer
        local = make_client("local:tiny")
        with OpenAICompatServer(local, model_name="tiny") as server:
            client = make_client(f"openai:{server.url}|tiny")
            print("http:", repr(client.complete("def f():", max_tokens=8).text[:20]))
    """)
    (tmp_path / "llm_http.py").write_text(llm_http)
    test_file = HERE / "test_bench_runner.py"
    script = " && ".join(
        [
            f"{sys.executable} -m pytest -q -p no:cacheprovider {test_file} -k ray_backend",
            f"{sys.executable} -m pytest -q -p no:cacheprovider {GRPO_TESTS} -k ray_rollouts",
            f"{BIN / 'rewardgym'} bench --backend ray --workers 2 --agents random,llm-local:tiny "
            f"--envs rewardgym/CodeExec-Bank-v0 --seeds 0,1 --db {tmp_path / 'b.sqlite'}",
            f"{sys.executable} llm_http.py",
        ]
    )
    # four programs under strace -f (Ray, GRPO on Ray, bench, HTTP): slow on a loaded machine
    trace, output = run_traced(tmp_path, script, timeout=540)
    assert output.count("1 passed") == 2, output[-3000:]
    assert "http:" in output
    assert non_loopback_contacts(trace) == []


def test_ray_workers_get_the_users_proxy_settings_back():
    from rewardgym.localonly import RAY_DAEMON_ENV, worker_runtime_env

    assert RAY_DAEMON_ENV["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] == "0"
    assert RAY_DAEMON_ENV["HTTP_PROXY"].startswith("http://127.0.0.1:")
    env = worker_runtime_env({"HTTPS_PROXY": "http://proxy.corp:3128", "NO_PROXY": None})
    assert env["env_vars"]["HTTPS_PROXY"] == "http://proxy.corp:3128"
    assert env["env_vars"]["HTTP_PROXY"] == "" and env["env_vars"]["NO_PROXY"] == ""

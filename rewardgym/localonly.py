"""Local means local: the settings that keep what rewardgym starts on its own off the network.

Nothing the project starts by itself (a local Ray, a local model, our own servers) may contact an
address beyond loopback. Each dependency that phones home by default is switched off here, in
one place, before it starts:

* Hugging Face (``transformers``, ``huggingface_hub``): hub look-ups and telemetry
  (:data:`OFFLINE_ENV`, applied by :func:`apply_offline_env` before a local model loads).
* Ray, when :func:`init_local_ray` starts a local instance (traced with ``strace`` in a
  loopback-only network namespace; ``tests/leaderboard/test_local_only.py`` keeps it so):

  - ``ray.init`` resolves the node address "127.0.0.1" to a "remotely reachable" one by opening
    a UDP socket towards 8.8.8.8:53 — unless Ray clusters are switched off
    (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``), which makes Ray use the loopback address as the
    node address without asking the network;
  - the API-server process that Ray starts even without a dashboard asks the cloud metadata
    services (169.254.169.254 and ``metadata.google.internal``, so DNS too) which cloud it runs
    on, with or without usage statistics; its HTTP goes to a closed loopback proxy instead, and
    the usage-report URL points at a closed loopback port;
  - usage statistics and the dashboard are off.

  The proxy variables are Ray's daemons' only: the driver's environment is restored after
  ``ray.init`` and Ray's workers (which run agents that may call a model server of the user's
  choice) get the user's own proxy settings back through the runtime environment.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = [
    "OFFLINE_ENV",
    "RAY_DAEMON_ENV",
    "apply_offline_env",
    "init_local_ray",
    "worker_runtime_env",
]

#: Hub look-ups and telemetry off for the Hugging Face stack (and anything honouring
#: ``DO_NOT_TRACK``). Forced, not defaulted: a local run never goes to a hub.
OFFLINE_ENV: Mapping[str, str] = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "DO_NOT_TRACK": "1",
}

# A TCP port nothing listens on (discard): connections are refused at once, on loopback.
_CLOSED = "http://127.0.0.1:9"
_LOOPBACK = "localhost,127.0.0.1,::1"
_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")

#: The environment a local Ray's own processes start with (see the module docstring).
RAY_DAEMON_ENV: Mapping[str, str] = {
    **OFFLINE_ENV,
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_USAGE_STATS_PROMPT_ENABLED": "0",
    "RAY_USAGE_STATS_REPORT_URL": _CLOSED + "/",
    **dict.fromkeys(_PROXY_VARS, _CLOSED),
    "NO_PROXY": _LOOPBACK,
    "no_proxy": _LOOPBACK,
}


def apply_offline_env() -> None:
    """Switch off hub look-ups and telemetry in this process (before a model library loads)."""
    os.environ.update(OFFLINE_ENV)


@contextlib.contextmanager
def _environ(updates: Mapping[str, str]) -> Iterator[dict[str, str | None]]:
    """Set ``updates`` in ``os.environ`` for the block; yield what was there before."""
    before = {k: os.environ.get(k) for k in updates}
    os.environ.update(updates)
    try:
        yield before
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def worker_runtime_env(user_env: Mapping[str, str | None]) -> dict[str, Any]:
    """The Ray ``runtime_env`` that gives workers the user's own proxy settings back.

    An empty value unsets a proxy for urllib, requests and httpx alike.
    """
    keys = (*_PROXY_VARS, "NO_PROXY", "no_proxy")
    return {"env_vars": {k: user_env.get(k) or "" for k in keys}}


def init_local_ray(num_cpus: int | None = None, **kwargs: Any) -> dict[str, Any]:
    """Start a local Ray that contacts nothing beyond loopback.

    Args:
        num_cpus: CPUs the local Ray may use (Ray's default when None).
        **kwargs: passed on to ``ray.init``.

    Returns:
        The ``runtime_env`` to give remote functions (:func:`worker_runtime_env`), so that the
        code they run sees the user's environment rather than the daemons'.
    """
    with _environ(RAY_DAEMON_ENV) as before:
        # The switch is read when ray is imported; a ray the user imported earlier must see
        # it too (for this start only), or ray.init asks 8.8.8.8 for the node address.
        constants = sys.modules.get("ray._private.ray_constants")
        was = getattr(constants, "ENABLE_RAY_CLUSTER", None)
        import ray

        if constants is not None:
            constants.ENABLE_RAY_CLUSTER = False
        try:
            ray.init(
                num_cpus=num_cpus,
                include_dashboard=False,
                log_to_driver=False,
                _node_ip_address="127.0.0.1",
                **kwargs,
            )
        finally:
            if constants is not None:
                constants.ENABLE_RAY_CLUSTER = was
    return worker_runtime_env(before)

"""Shared fixture: one sandbox per backend that runs here (bwrap/docker skipped with the reason).

A test module may define ``LIMITS`` (the sandbox's default limits) and ``SANDBOX_OPTS`` (more
backend options, keyed by kind).
"""

from __future__ import annotations

import pytest

from rewardgym.sandbox import make


@pytest.fixture(scope="module", params=["process", "bwrap", "docker"])
def sandbox(request):
    kind = request.param
    opts = dict(getattr(request.module, "SANDBOX_OPTS", {}).get(kind, {}))
    if getattr(request.module, "LIMITS", None) is not None:
        opts["limits"] = request.module.LIMITS
    if kind == "docker":
        base_url, tag = request.getfixturevalue("docker_engine")
        opts.update(base_url=base_url, image=tag, pool_size=1)
    if kind == "bwrap":
        from rewardgym.sandbox.bwrap import bwrap_problem

        if (why := bwrap_problem()) is not None:
            pytest.skip(f"skipped: {why}")
    box = make(kind, **opts)
    yield box
    box.close()

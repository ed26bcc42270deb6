"""Shared fixtures of the search family's tests: a private index cache and small worlds."""

from __future__ import annotations

import pytest

pytest.importorskip("bm25s", reason="the search family needs pip install 'rewardgym[search]'")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Indexes built by these tests go to a temporary cache, not the user's."""
    root = tmp_path_factory.getbasetemp() / "search-cache"
    monkeypatch.setenv("REWARDGYM_CACHE", str(root))
    return root

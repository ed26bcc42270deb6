"""Fixtures of the social deduction tests."""

from __future__ import annotations

import pytest

from rewardgym.envs.social import SocialDeductionEnv


@pytest.fixture
def make_env():
    def make(**kwargs) -> SocialDeductionEnv:
        return SocialDeductionEnv(**kwargs)

    return make

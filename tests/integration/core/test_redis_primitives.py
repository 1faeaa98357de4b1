"""The token bucket every poster shares for chat.update: a burst, then the rate, on Redis's
own clock, and a refused call takes nothing."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.redis_primitives import Primitives
from bot.store import connect

pytestmark = pytest.mark.integration

KEY = "seawall:budget:test"


def test_a_burst_goes_at_once_then_each_call_waits_for_the_rate(redis_url: str) -> None:
    async def scenario() -> list[int]:
        redis = connect(redis_url)
        try:
            bucket = Primitives(redis)
            waits = [await bucket.take_token(KEY, per_minute=60, burst=3) for _ in range(5)]
            assert 0 < await redis.pttl(KEY) <= 3_000  # gone once it would be full again
            return waits
        finally:
            await redis.aclose()

    waits = asyncio.run(scenario())
    assert waits[:3] == [0, 0, 0]
    # One a second: the fourth waits about a second, and the fifth too (the fourth took none).
    assert all(900 <= w <= 1_000 for w in waits[3:])


def test_processes_share_one_bucket(redis_url: str) -> None:
    async def scenario() -> list[int]:
        one, two = connect(redis_url), connect(redis_url)
        try:
            a, b = Primitives(one), Primitives(two)
            return [
                await a.take_token(KEY, per_minute=60, burst=1),
                await b.take_token(KEY, per_minute=60, burst=1),
            ]
        finally:
            await one.aclose()
            await two.aclose()

    first, second = asyncio.run(scenario())
    assert first == 0
    assert second > 0

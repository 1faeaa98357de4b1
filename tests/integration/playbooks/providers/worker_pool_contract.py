"""What every WorkerPool backend promises (playbooks/providers/workers.py), as one base test
class; each backend's test module subclasses it (like saq's TestWorkerRedisQueue(TestWorker))
and provides three fixtures:

- `make_pool`: () -> the backend under test, for one target at full capacity `FULL` units;
- `taking_work`: () -> units taking new work now, read from the real system, not the backend;
- `backlog`: (n) -> leaves n messages waiting in the target's queue, nobody taking them.
- `unreachable`: () -> the backend for a target whose system cannot be reached.

A new backend is one module plus one subclass of this class.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ClassVar

import pytest

from bot.core.errors import ExternalServiceError
from playbooks.providers.workers import Capacity, WorkerPool

MakePool = Callable[[], WorkerPool]


def on(pool: WorkerPool, units: int, capacity: Capacity | None = None) -> str:
    async def scale() -> str:
        try:
            return await pool.scale(capacity or await pool.capacity(), units)
        finally:
            await pool.aclose()

    return asyncio.run(scale())


def capacity_of(pool: WorkerPool) -> Capacity:
    async def read() -> Capacity:
        try:
            return await pool.capacity()
        finally:
            await pool.aclose()

    return asyncio.run(read())


class WorkerPoolContract:
    FULL: ClassVar[int]

    def test_capacity_is_what_takes_work_now(
        self, make_pool: MakePool, taking_work: Callable[[], int]
    ) -> None:
        assert capacity_of(make_pool()).units == self.FULL == taking_work()

    def test_zero_pauses_and_full_capacity_resumes(
        self, make_pool: MakePool, taking_work: Callable[[], int]
    ) -> None:
        capacity = capacity_of(make_pool())
        on(make_pool(), 0, capacity)
        assert taking_work() == 0
        on(make_pool(), capacity.units, capacity)
        assert taking_work() == self.FULL

    def test_every_level_is_absolute_and_setting_one_twice_changes_nothing(
        self, make_pool: MakePool, taking_work: Callable[[], int]
    ) -> None:
        capacity = capacity_of(make_pool())
        for units in (0, 1, 1, self.FULL, self.FULL, 1):
            on(make_pool(), units, capacity)
            assert taking_work() == units, f"after scaling to {units}"

    def test_queue_depth_counts_what_waits(
        self, make_pool: MakePool, backlog: Callable[[int], None]
    ) -> None:
        backlog(5)
        pool = make_pool()

        async def look() -> int | None:
            try:
                return (await pool.observe()).queue_depth
            finally:
                await pool.aclose()

        assert asyncio.run(look()) == 5

    def test_an_unreachable_system_is_a_sentence_that_says_what_was_not_done(
        self, unreachable: MakePool
    ) -> None:
        with pytest.raises(ExternalServiceError) as raised:
            on(unreachable(), 1, Capacity(units=2))
        assert "nothing" in str(raised.value) or "not" in str(raised.value)

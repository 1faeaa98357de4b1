"""The Celery backend against two real Celery workers (prefork pool of 2, solo pool of 1) on
a real Redis broker: pause is cancel_consumer everywhere, resume comes back one worker at a
time, a prefork pool resized to the level."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from playbooks.providers.celery_workers import CeleryWorkers
from playbooks.providers.workers import CeleryTarget, Snapshot
from tests.integration.playbooks.providers.worker_pool_contract import (
    MakePool,
    WorkerPoolContract,
    capacity_of,
    on,
)
from tests.support.celery_pool import QUEUE, W1, W2, CeleryPool
from tests.support.ports import free_port
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def target(broker: str) -> CeleryTarget:
    return CeleryTarget(backend="celery", broker=broker, queues=[QUEUE], control_timeout=0.3)


class TestCeleryWorkers(WorkerPoolContract):
    FULL = 3  # w1's two prefork slots and w2's solo one

    @pytest.fixture
    def make_pool(self, celery_pool: CeleryPool) -> MakePool:
        return lambda: CeleryWorkers(target(celery_pool.broker))

    @pytest.fixture
    def taking_work(self, celery_pool: CeleryPool) -> Callable[[], int]:
        def units() -> int:
            sizes = celery_pool.pool_sizes()
            return sum(sizes[name] for name in celery_pool.consuming())

        return units

    @pytest.fixture
    def backlog(self, celery_pool: CeleryPool, make_pool: MakePool) -> Callable[[int], None]:
        def leave(n: int) -> None:
            on(make_pool(), 0)
            for i in range(n):
                celery_pool.send(f"waiting-{i}")
            # The broker's own count first: a depth read before the last publish lands (or
            # after a not-yet-paused worker took one) would test the timing, not the reading.
            wait_until(lambda: celery_pool.waiting() == n, what=f"{n} tasks in the broker")

        return leave

    @pytest.fixture
    def unreachable(self) -> MakePool:
        return lambda: CeleryWorkers(target(f"redis://127.0.0.1:{free_port()}/1"))

    def test_tasks_sent_while_paused_wait_and_run_after_the_resume(
        self, celery_pool: CeleryPool, make_pool: MakePool
    ) -> None:
        capacity = capacity_of(make_pool())
        on(make_pool(), 0, capacity)
        for i in range(4):
            celery_pool.send(f"t{i}")
        wait_until(lambda: celery_pool.waiting() == 4, what="4 tasks in the queue")
        assert celery_pool.consuming() == []
        assert celery_pool.done() == []  # nothing consumed while paused
        assert celery_pool.waiting() == 4
        on(make_pool(), capacity.units, capacity)
        wait_until(lambda: len(celery_pool.done()) == 4, what="the 4 tasks to run")
        assert sorted(celery_pool.done()) == ["t0", "t1", "t2", "t3"]

    def test_the_ramp_shows_in_the_consumer_lists_one_worker_at_a_time(
        self, celery_pool: CeleryPool, make_pool: MakePool
    ) -> None:
        capacity = capacity_of(make_pool())
        assert [(w.name, w.size, w.resizable) for w in capacity.workers] == [
            (W1, 2, True),  # prefork, serving only this queue: Seawall may resize its pool
            (W2, 1, False),  # solo: it comes back whole
        ]
        seen = []
        for units in (0, 1, 2, 3):
            on(make_pool(), units, capacity)
            seen.append((celery_pool.consuming(), celery_pool.pool_sizes()[W1]))
        assert seen == [([], 2), ([W1], 1), ([W1], 2), ([W1, W2], 2)]

    def test_the_snapshot_counts_tasks_running_and_workers_taking_work(
        self, celery_pool: CeleryPool, make_pool: MakePool
    ) -> None:
        # On w1 only: a solo worker answers no remote control while it runs a task.
        capacity = capacity_of(make_pool())
        on(make_pool(), 2, capacity)
        celery_pool.send("slow", seconds=1)
        wait_until(lambda: celery_pool.waiting() == 0, what="the slow task taken")
        pool = make_pool()

        async def look() -> Snapshot:
            try:
                return await pool.observe(capacity)
            finally:
                await pool.aclose()

        snapshot = asyncio.run(look())
        assert (snapshot.active, snapshot.running, snapshot.workers) == (1, 2, (W1,))
        assert snapshot.summary() == f"0 waiting; 1 running now; 2 taking new work: {W1}"

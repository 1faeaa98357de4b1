"""Real Celery workers for the worker-pool tests: started once per session (about 4 s), put
back to "all consuming, full pools, empty queue" before each test that uses them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.celery_pool import CeleryPool, start_pool


@pytest.fixture(scope="session")
def celery_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CeleryPool]:
    broker_server, pool = start_pool(tmp_path_factory.mktemp("celery"))
    try:
        yield pool
    finally:
        for worker in pool.workers:
            worker.stop()
        pool.close()
        broker_server.stop()


@pytest.fixture
def celery_pool(celery_workers: CeleryPool) -> CeleryPool:
    celery_workers.reset()
    return celery_workers

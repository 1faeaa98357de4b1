"""Two real Celery workers on their own broker, shared by every test that needs them.

w1 runs a prefork pool of 2 (Seawall may resize it), w2 a solo pool (it comes back whole):
together 3 pool slots, enough for a ramp to show in `inspect().active_queues()` one worker at
a time. The broker is a redis-server of its own, not the one Seawall's tests flush between
tests: a FLUSHALL would drop the bindings the workers' remote control listens on."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from celery import Celery

from tests.fixtures.celery_app import DONE
from tests.support.celery_worker import CeleryWorker
from tests.support.redis_server import RedisServer
from tests.support.waiting import wait_until

QUEUE = "emails"
W1, W2 = "w1@seawall-test", "w2@seawall-test"
FULL = {W1: 2, W2: 1}  # pool slots of each worker when fully on


@dataclass
class CeleryPool:
    broker: str
    workers: list[CeleryWorker]
    app: Celery
    client: redis.Redis

    def send(self, value: str, seconds: float = 0.0) -> None:
        self.app.send_task("tests.record", args=[value, seconds], queue=QUEUE)

    def done(self) -> list[str]:
        return [v.decode() for v in self.client.lrange(DONE, 0, -1)]

    def waiting(self) -> int:
        return int(self.client.llen(QUEUE))

    def inspect(self, method: str) -> dict[str, Any]:
        """`inspect().<method>()` of both workers, on a fresh connection (kombu loses replies
        on a reused one with Redis: see playbooks/providers/celery_workers.py)."""
        with self.app.connection_for_write() as connection:
            inspect = self.app.control.inspect(timeout=2, limit=2, connection=connection)
            return dict(getattr(inspect, method)() or {})

    def consuming(self) -> list[str]:
        """Workers whose consumer list holds the queue now (`inspect().active_queues()`)."""
        found = self.inspect("active_queues")
        return sorted(n for n, qs in found.items() if any(q["name"] == QUEUE for q in qs))

    def pool_sizes(self) -> dict[str, int]:
        """Each worker's pool size now: its prefetch count (prefetch multiplier 1)."""
        return {name: int(info["prefetch_count"]) for name, info in self.inspect("stats").items()}

    def reset(self) -> None:
        """Everyone consuming at full size, an empty queue, nothing running, nothing recorded."""
        self.client.delete(QUEUE)  # first: workers coming back must not find old tasks
        sizes = self.pool_sizes()
        with self.app.connection_for_write() as connection:
            for name, size in FULL.items():
                if sizes.get(name, size) < size:
                    self.app.control.pool_grow(
                        size - sizes[name], destination=[name], reply=True, limit=1,
                        connection=connection,
                    )  # fmt: skip
        with self.app.connection_for_write() as connection:
            self.app.control.add_consumer(
                QUEUE, destination=list(FULL), reply=True, limit=2, connection=connection
            )
        wait_until(lambda: self.consuming() == [W1, W2], what="both workers consuming")
        wait_until(lambda: not any(self.inspect("active").values()), what="no task running")
        self.client.delete(DONE)

    def close(self) -> None:
        self.app.close()
        self.client.close()


def start_pool(workdir: Path) -> tuple[RedisServer, CeleryPool]:
    broker_server = RedisServer(workdir / "broker")
    broker_server.start()
    broker = broker_server.url.rsplit("/", 1)[0] + "/1"
    workers = [
        CeleryWorker(workdir, broker, W1, [QUEUE], pool="prefork", concurrency=2),
        CeleryWorker(workdir, broker, W2, [QUEUE], pool="solo", concurrency=1),
    ]
    errors: list[BaseException] = []

    def start(worker: CeleryWorker) -> None:
        try:
            worker.start()
        except BaseException as exc:  # reported below, from the test thread
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        for worker in workers:
            worker.stop()
        broker_server.stop()
        raise errors[0]
    app = Celery("seawall-tests", broker=broker, set_as_current=False)
    return broker_server, CeleryPool(broker, workers, app, redis.Redis.from_url(broker))

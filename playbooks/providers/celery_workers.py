"""Celery workers, through Celery's remote control (the broker's pidbox): pause is
`cancel_consumer` of the target's queues on every worker; resuming adds the consumer back one
worker at a time, each worker's pool first sized with `pool_shrink` / `pool_grow` where the
pool allows it (docs/decisions.md: which pools, and why only workers that serve nothing else).

Celery's control client is synchronous (kombu), so every call runs in a thread
(`asyncio.to_thread`): the worker's event loop keeps renewing leases and posting cards.
Tasks a worker already prefetched still run after a pause: the snapshot counts them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from celery import Celery

from bot.core.errors import ExternalServiceError
from playbooks.providers.workers import (
    Capacity,
    CeleryTarget,
    Snapshot,
    WorkerRecord,
    queue_depth,
)
from playbooks.ramp import WorkerShape, spread

# Pools whose size can change at runtime (celery/concurrency: prefork, eventlet, gevent have
# grow/shrink; solo and threads do not). Autoscaling workers refuse pool_grow/pool_shrink.
RESIZABLE_POOLS = ("prefork", "eventlet", "gevent")

Replies = list[dict[str, Any]]


class CeleryWorkers:
    """The Celery workers that consume one target's queues."""

    def __init__(self, target: CeleryTarget) -> None:
        self.target = target
        self._app: Celery | None = None

    @property
    def app(self) -> Celery:
        """A bare Celery app on the target's broker, only to send control commands."""
        if self._app is None:
            app = Celery("seawall-control", broker=self.target.broker, set_as_current=False)
            # A person waits on these calls: a broker that does not answer is reported within
            # about a second (three quick retries), not after kombu's default backoff.
            app.conf.broker_connection_timeout = 3
            app.conf.broker_connection_max_retries = 3
            app.conf.broker_transport_options = {
                "max_retries": 3,
                "interval_start": 0,
                "interval_step": 0.2,
                "interval_max": 0.5,
            }
            self._app = app
        return self._app

    async def aclose(self) -> None:
        if self._app is not None:
            await asyncio.to_thread(self._app.close)

    async def observe(self, capacity: Capacity | None = None) -> Snapshot:
        queues, active, reserved, stats, depth = await asyncio.gather(
            self._inspect("active_queues"),
            self._inspect("active"),
            self._inspect("reserved"),
            self._inspect("stats"),
            queue_depth(self.target.broker, list(self.target.queues)),
        )
        consuming = sorted(name for name, qs in queues.items() if self._serves(qs))
        per_slot = {w.name: w.prefetch for w in capacity.workers} if capacity else {}
        return Snapshot(
            queue_depth=depth,
            active=self._count(active),
            reserved=self._count(reserved),
            running=sum(_pool_size(stats.get(name), per_slot.get(name, 0)) for name in consuming),
            workers=tuple(consuming),
        )

    async def capacity(self) -> Capacity:
        queues, stats = await asyncio.gather(self._inspect("active_queues"), self._inspect("stats"))
        workers = []
        for name in sorted(queues):
            if not self._serves(queues[name]):
                continue
            info = stats.get(name) or {}
            size = max(1, _max_concurrency(info))
            prefetch = info.get("prefetch_count")
            per_slot = prefetch // size if isinstance(prefetch, int) and prefetch > 0 else 0
            dedicated = {q.get("name") for q in queues[name]} <= set(self.target.queues)
            pool = str((info.get("pool") or {}).get("implementation", ""))
            resizable = (
                dedicated
                and per_slot > 0
                and "autoscaler" not in info
                and any(f".{kind}:" in pool for kind in RESIZABLE_POOLS)
            )
            workers.append(
                WorkerRecord(name=name, size=size, resizable=resizable, prefetch=per_slot)
            )
        return Capacity(units=sum(w.size for w in workers), workers=workers)

    async def scale(self, capacity: Capacity, units: int) -> str:
        if units <= 0:
            return await self._pause_everywhere(len(capacity.workers))
        shapes = [WorkerShape(w.name, w.size, w.resizable) for w in capacity.workers]
        shares = spread(shapes, units)
        names = [w.name for w in capacity.workers]
        stats = await self._inspect("stats", destination=names)
        lines = []
        for worker, share in zip(capacity.workers, shares, strict=True):
            lines.append(await self._set_worker(worker, share, stats.get(worker.name)))
        return "; ".join(lines)

    async def _pause_everywhere(self, known: int) -> str:
        """Every worker, not only the ones remembered: one started since must stop too (the
        command goes to all; `limit` only ends the wait for replies once the known ones came)."""
        stopped: set[str] = set()
        for queue in self.target.queues:
            replies = await self._control(
                self.app.control.cancel_consumer,
                queue,
                reply=True,
                timeout=self._timeout,
                limit=known or None,
            )
            stopped |= _ok(replies)
        names = ", ".join(sorted(stopped)) or "no worker answered"
        return f"stopped consuming {', '.join(self.target.queues)}: {names}"

    async def _set_worker(self, worker: WorkerRecord, share: int, stats: Any) -> str:
        one: dict[str, Any] = {"destination": [worker.name], "reply": True, "limit": 1}
        one["timeout"] = self._timeout
        if stats is None:
            return f"{worker.name} did not answer (stopped or renamed?); left as it is"
        if share == 0:
            for queue in self.target.queues:
                await self._control(self.app.control.cancel_consumer, queue, **one)
            return f"{worker.name} paused"
        sized = ""
        if worker.resizable:
            now = _pool_size(stats, worker.prefetch)
            change = share - now
            command = self.app.control.pool_grow if change > 0 else self.app.control.pool_shrink
            if change:
                replies = await self._control(command, abs(change), **one)
                if worker.name not in _ok(replies):
                    why = _error(replies) or "no answer"
                    return f"{worker.name} left out: its pool could not go to {share} ({why})"
            sized = f" with {share} of {worker.size} slots"
        for queue in self.target.queues:
            replies = await self._control(self.app.control.add_consumer, queue, **one)
            if worker.name not in _ok(replies):
                return f"{worker.name} did not take {queue}: {_error(replies) or 'no answer'}"
        return f"{worker.name} takes {', '.join(self.target.queues)}{sized}"

    @property
    def _timeout(self) -> float:
        return self.target.control_timeout

    def _serves(self, queues: Sequence[dict[str, Any]]) -> bool:
        return any(q.get("name") in self.target.queues for q in queues)

    def _count(self, tasks_by_worker: dict[str, Any]) -> int:
        """Tasks of this target's queues (by routing key; all of a worker's when unknown)."""
        total = 0
        for tasks in tasks_by_worker.values():
            for task in tasks or []:
                key = (task.get("delivery_info") or {}).get("routing_key")
                total += key is None or key in self.target.queues
        return total

    async def _inspect(self, method: str, destination: list[str] | None = None) -> dict[str, Any]:
        def call(connection: Any) -> dict[str, Any]:
            limit = len(destination) if destination else None
            inspect = self.app.control.inspect(
                destination=destination, timeout=self._timeout, limit=limit, connection=connection
            )
            return dict(getattr(inspect, method)() or {})

        result: dict[str, Any] = await self._guarded(call)
        return result

    async def _control(self, command: Callable[..., Any], *args: Any, **kwargs: Any) -> Replies:
        def call(connection: Any) -> Replies:
            return list(command(*args, connection=connection, **kwargs) or [])

        result: Replies = await self._guarded(call)
        return result

    async def _guarded(self, call: Callable[[Any], Any]) -> Any:
        """Run `call(connection)` in a thread, on a connection of its own: kombu declares a
        reply queue once per connection and Redis drops it after each call, so a reused
        connection loses the workers' replies (inspect answers None)."""

        def run() -> Any:
            with self.app.connection_for_write() as connection:
                return call(connection)

        try:
            return await asyncio.to_thread(run)
        except Exception as exc:  # kombu raises many kinds for an unreachable broker
            raise ExternalServiceError(
                f"Celery's broker for {', '.join(self.target.queues)} could not be reached "
                f"({type(exc).__name__}: {exc}); nothing was changed by this call"
            ) from exc


def _ok(replies: Replies) -> set[str]:
    return {name for reply in replies for name, answer in reply.items() if "ok" in answer}


def _error(replies: Replies) -> str | None:
    for reply in replies:
        for answer in reply.values():
            if "error" in answer:
                return str(answer["error"])[:200]
    return None


def _max_concurrency(stats: dict[str, Any]) -> int:
    value = (stats.get("pool") or {}).get("max-concurrency", 1)
    return value if isinstance(value, int) else 1


def _pool_size(stats: Any, prefetch_per_slot: int = 0) -> int:
    """The pool size a worker is at now: its prefetch count over the prefetch per slot (the
    worker updates it in the same call that resizes the pool; the process list lags behind
    while processes exit), else its configured concurrency."""
    if not isinstance(stats, dict):
        return 0
    prefetch = stats.get("prefetch_count")
    if prefetch_per_slot > 0 and isinstance(prefetch, int) and prefetch > 0:
        return max(1, prefetch // prefetch_per_slot)
    return _max_concurrency(stats)

"""ClockedJobQueue: a JobQueue backend whose delays run on a FrozenClock, for tests that walk
a ladder through minutes of escalation in milliseconds.

Production timers are saq jobs whose delays are real seconds (bot/core/jobs.py); the crash
drill runs those in real `seawall worker` processes. Everywhere else a test holds the clock:
jobs wait here until the test moves the clock past their time, then run the same job
functions a worker runs (handlers/features.py), on the app's event loop. Keys collapse
duplicates while a job waits, as saq's do.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.core.clock import FrozenClock
from bot.deps import Deps
from handlers.features import job_functions
from tests.support.servers import ServerThread


@dataclass(order=True)
class _Job:
    due: datetime
    seq: int
    function: str = field(compare=False)
    key: str | None = field(compare=False)
    kwargs: dict[str, Any] = field(compare=False)


class ClockedJobQueue:
    def __init__(self, clock: FrozenClock) -> None:
        self.clock = clock
        self.ran: list[tuple[datetime, str, dict[str, Any]]] = []
        self._jobs: list[_Job] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()

    async def enqueue(
        self,
        function: str,
        *,
        key: str | None = None,
        delay_s: float = 0.0,
        retries: int | None = None,
        **kwargs: Any,
    ) -> bool:
        del retries
        full_key = f"{function}:{key}" if key else None
        with self._lock:
            if full_key and any(j.key == full_key for j in self._jobs):
                return False
            due = self.clock.now() + timedelta(seconds=delay_s)
            self._jobs.append(_Job(due, next(self._seq), function, full_key, kwargs))
        return True

    def clear(self) -> None:
        with self._lock:
            self._jobs.clear()
        self.ran.clear()

    def pending(self, function: str | None = None) -> list[tuple[datetime, str]]:
        with self._lock:
            return sorted((j.due, j.function) for j in self._jobs if function in (None, j.function))

    async def run_due(self, deps: Deps) -> int:
        """Run every job due now (and those they enqueue for now), oldest first."""
        functions = job_functions()
        count = 0
        while True:
            with self._lock:
                due = sorted(j for j in self._jobs if j.due <= self.clock.now())
                if not due:
                    return count
                job = due[0]
                self._jobs.remove(job)
            self.ran.append((self.clock.now(), job.function, job.kwargs))
            await functions[job.function](deps, **job.kwargs)
            count += 1


class Driver:
    """Moves a stack's FrozenClock and runs the jobs that fall due, on the app's loop."""

    def __init__(self, server: ServerThread, deps: Deps, queue: ClockedJobQueue) -> None:
        self.server = server
        self.deps = deps
        self.queue = queue
        self.clock = queue.clock

    def run_due(self) -> int:
        return self.server.run_coroutine(self.queue.run_due(self.deps), timeout=60)

    def advance(self, seconds: float) -> None:
        """Walk the clock forward, stopping at each job's due time to run it."""
        target = self.clock.now() + timedelta(seconds=seconds)
        self.run_due()
        while True:
            upcoming = [due for due, _ in self.queue.pending() if due <= target]
            if not upcoming:
                break
            step = (min(upcoming) - self.clock.now()).total_seconds()
            self.clock.advance(max(step, 0.0))
            self.run_due()
        self.clock.advance((target - self.clock.now()).total_seconds())
        self.run_due()

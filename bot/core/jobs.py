"""A thin wrapper over the job queue, so the core never depends on the queue library.

Production uses saq on Redis (docs/decisions.md: delayed jobs, retries, and recovery of jobs
whose worker died). Delivery is at least once whichever queue runs underneath: every job
guards its own effects by key (run lease, step markers), so a job that runs twice is harmless.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from saq import Queue
from saq.queue.redis import RedisQueue

from bot.core.redis_target import RedisTarget

log = logging.getLogger("seawall.jobs")

QUEUE_NAME = "seawall"
# Long enough for any single playbook step; steps heartbeat, so a dead worker is noticed by the
# heartbeat, not by this timeout (jobqueues.md: saq's settings for kill recovery).
JOB_TIMEOUT_S = 600
JOB_HEARTBEAT_S = 6
JOB_RETRIES = 5


class JobQueue(Protocol):
    async def enqueue(
        self,
        function: str,
        *,
        key: str | None = None,
        delay_s: float = 0.0,
        retries: int | None = None,
        **kwargs: Any,
    ) -> bool:
        """Queue `function(**kwargs)` to run after `delay_s`. A `key` already queued or running
        makes this a no-op (returns False): callers use keys to collapse duplicates. `retries`
        (total attempts) defaults to several; 1 for work that must not be repeated."""
        ...


class SaqJobQueue:
    """Jobs on saq: shared by every worker process on the same Redis."""

    def __init__(self, queue: Queue) -> None:
        self.queue = queue

    @classmethod
    def from_url(cls, redis_url: str) -> SaqJobQueue:
        return cls.connect(RedisTarget(url=redis_url))

    @classmethod
    def connect(cls, target: RedisTarget) -> SaqJobQueue:
        """saq on its own client to `target`. Under Sentinel that client follows a failover
        like every other one: saq's worker loops log a failed command and go on, and the next
        connection asks the Sentinels for the primary (docs/decisions.md)."""
        return cls(
            RedisQueue(target.client(decode_responses=False, for_jobs=True), name=QUEUE_NAME)
        )

    async def enqueue(
        self,
        function: str,
        *,
        key: str | None = None,
        delay_s: float = 0.0,
        retries: int | None = None,
        **kwargs: Any,
    ) -> bool:
        job = await self.queue.enqueue(
            function,
            key=f"{function}:{key}" if key else f"{function}:{secrets.token_hex(8)}",
            scheduled=int(time.time() + delay_s) if delay_s > 0 else 0,
            timeout=JOB_TIMEOUT_S,
            heartbeat=JOB_HEARTBEAT_S,
            retries=retries if retries is not None else JOB_RETRIES,
            retry_delay=1.0,
            retry_backoff=True,
            **kwargs,
        )
        return job is not None

    async def aclose(self) -> None:
        await self.queue.disconnect()


JobFunction = Callable[..., Awaitable[Any]]


def cron_for(every_s: float) -> str:
    """The cron expression (croniter, seconds as a sixth field) that fires every `every_s`
    seconds, for a periodic job saq runs once per tick across all workers. Only periods that
    divide a minute or an hour evenly fire at an even pace; others raise ValueError."""
    seconds = int(every_s)
    if seconds != every_s or seconds < 1:
        raise ValueError("must be a whole number of seconds, at least 1s")
    if seconds < 60 and 60 % seconds == 0:
        return f"* * * * * */{seconds}"
    minutes, rest = divmod(seconds, 60)
    if rest == 0 and minutes == 60:
        return "0 * * * *"
    if rest == 0 and 60 % minutes == 0:
        return f"*/{minutes} * * * *" if minutes > 1 else "* * * * *"
    raise ValueError(
        "must divide a minute (1s, 2s, 5s, 10s, 15s, 20s, 30s) or an hour (1m, 2m, 5m, 10m, "
        "15m, 20m, 30m, 1h) so the watch runs at an even pace"
    )


class InlineJobQueue:
    """Runs jobs as tasks of the current event loop. Only for `seawall sandbox`, which has no
    Redis for saq; nothing survives the process, which is fine for a demo."""

    def __init__(self) -> None:
        self.functions: dict[str, JobFunction] = {}
        self.context: dict[str, Any] = {}
        self._keys: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def enqueue(
        self,
        function: str,
        *,
        key: str | None = None,
        delay_s: float = 0.0,
        retries: int | None = None,
        **kwargs: Any,
    ) -> bool:
        del retries  # inline jobs run once
        full_key = f"{function}:{key}" if key else None
        if full_key and full_key in self._keys:
            return False
        if full_key:
            self._keys.add(full_key)
        task = asyncio.create_task(self._run(function, full_key, delay_s, kwargs))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _run(
        self, function: str, key: str | None, delay_s: float, kwargs: dict[str, Any]
    ) -> None:
        try:
            if delay_s > 0:
                await asyncio.sleep(delay_s)
            if key:
                self._keys.discard(key)
            await self.functions[function](self.context, **kwargs)
        except Exception:
            log.exception("inline job %s failed", function)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()

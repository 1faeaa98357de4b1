"""The worker process: saq jobs (playbook steps, timers) and the outbound Slack poster.

Any number of workers may run against one Redis. saq delivers each job at least once and
re-runs a job whose worker died (noticed by its heartbeat); every job function is written so
that running twice is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from saq import CronJob, Queue, Worker
from saq.types import Context, PartialTimersDict

from bot.cards.common import RenderContext
from bot.core import health, keys
from bot.core.config import Settings
from bot.core.jobs import JOB_HEARTBEAT_S, QUEUE_NAME, InlineJobQueue, SaqJobQueue, cron_for
from bot.deps import Deps
from bot.paging.heartbeat import ping_loop
from bot.poster import OutboundPoster
from bot.storm.flow import planner_from
from handlers import wiring
from handlers.features import cron_jobs, job_functions
from handlers.slack.feature import JobFn

log = logging.getLogger("seawall.worker")

HEARTBEAT_EVERY_S = JOB_HEARTBEAT_S / 3
# Sweep often: a job whose worker was SIGKILLed is re-run once its heartbeat lapses.
SWEEP_TIMERS: PartialTimersDict = {"sweep": 2, "schedule": 1, "abort": 1, "worker_info": 10}


def render_context(settings: Settings) -> RenderContext:
    """What cards may offer in this setup: no button that can only answer "not configured"."""
    return RenderContext(sentry_api=bool(settings.sentry_api_token and settings.sentry_org))


def build_poster(deps: Deps) -> OutboundPoster:
    """The outbound Slack poster, from the parts it needs (the worker and the sandbox run it)."""
    return OutboundPoster(
        deps.store,
        deps.poster_slack,
        deps.clock,
        deps.metrics,
        post_interval_s=deps.settings.seawall_post_interval,
        context=render_context(deps.settings),
        replicas=deps.replicas,
        updates_per_minute=deps.settings.seawall_updates_per_minute,
        planner=planner_from(deps),  # storms: one summary card, then the groups worst first
    )


def _with_heartbeat(name: str, fn: JobFn) -> Callable[..., Awaitable[Any]]:
    """A saq job function that beats while `fn` runs, so a killed worker is noticed fast."""

    async def job(ctx: dict[str, Any], **kwargs: Any) -> Any:
        saq_job = ctx["job"]
        beat = asyncio.create_task(_beat(saq_job))
        started = time.perf_counter()
        outcome = "failed"
        try:
            result = await fn(ctx["deps"], **kwargs)
            outcome = "done"
            return result
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
            # One line per job, with its ids (saq's own INFO lines dump the whole job).
            log.info(
                "job %s %s in %.2f s (key %s, attempt %s)",
                name,
                outcome,
                time.perf_counter() - started,
                saq_job.key,
                saq_job.attempts,
            )

    job.__name__ = name
    job.__qualname__ = name
    return job


async def _beat(job: Any) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_EVERY_S)
        try:
            await job.update()
        except Exception as exc:  # a missed beat is retried next time; never kill the job
            log.warning("heartbeat of job %s failed: %s", job.key, exc)


class SeawallWorker(Worker[Context]):
    """saq's worker, minus its signal handlers: `seawall worker` stops the poster and the
    jobs together on SIGTERM, and tests run workers in threads, where handlers can't be set."""

    SIGNALS: ClassVar[list[signal.Signals]] = []  # type: ignore[misc]


def build_worker(deps: Deps, queue: Queue, *, concurrency: int = 8) -> SeawallWorker:
    wiring.install(deps)
    beating: list[asyncio.Task[None]] = []

    async def startup(ctx: Context) -> None:
        ctx["deps"] = deps  # type: ignore[typeddict-unknown-key]  # saq allows extra keys
        beating.append(asyncio.create_task(announce(deps, str(worker.id))))

    async def shutdown(ctx: Context) -> None:
        for task in beating:
            task.cancel()
        with contextlib.suppress(Exception):  # Redis may be the reason we stop
            await health.worker_gone(deps.redis, str(worker.id))

    wrapped = {name: _with_heartbeat(name, fn) for name, fn in job_functions().items()}
    worker = SeawallWorker(
        queue,
        functions=list(wrapped.items()),
        concurrency=concurrency,
        startup=startup,
        shutdown=shutdown,
        timers=SWEEP_TIMERS,
        cron_jobs=schedule(deps, wrapped),
    )
    return worker


def schedule(
    deps: Deps, wrapped: dict[str, Callable[..., Awaitable[Any]]]
) -> list[CronJob[Context]]:
    """The features' periodic jobs as saq cron jobs. saq queues each tick under one key
    (`cron:<job>`) while it is pending or running, so any number of workers run it once per
    tick; a tick that overruns the next one is skipped, not stacked."""
    return [
        CronJob(
            wrapped[cron.job],
            cron=cron_for(cron.every_s),
            timeout=max(int(cron.every_s), 30),
            heartbeat=JOB_HEARTBEAT_S,
            retries=1,  # the next tick is the retry
        )
        for cron in cron_jobs(deps)
    ]


async def announce(deps: Deps, worker_id: str) -> None:
    """The worker's own heartbeat in Redis, read by /readyz and `seawall check` (core/health)."""
    while True:
        try:
            await health.worker_beat(deps.redis, deps.clock, worker_id)
        except Exception as exc:  # Redis down: the next beat tries again; never stop the worker
            log.warning("worker heartbeat not written: %s", exc)
        await asyncio.sleep(keys.WORKER_HEARTBEAT_S)


def bind_inline_jobs(deps: Deps, jobs: InlineJobQueue) -> None:
    """The sandbox's in-process queue runs the same job functions."""
    for name, fn in job_functions().items():

        async def call(ctx: dict[str, Any], _fn: JobFn = fn, **kwargs: Any) -> Any:
            return await _fn(deps, **kwargs)

        jobs.functions[name] = call


async def run_worker(settings: Settings, install_stop: Callable[[asyncio.Event], None]) -> None:
    deps = Deps.connect(settings)
    stop = asyncio.Event()
    install_stop(stop)
    try:
        await work(deps, stop)
    finally:
        await deps.aclose()


async def work(deps: Deps, stop: asyncio.Event) -> None:
    """Run jobs and the outbound poster until `stop` is set (`seawall worker`, `seawall run`)."""
    assert isinstance(deps.jobs, SaqJobQueue)
    worker = build_worker(deps, deps.jobs.queue)
    log.info("worker %s started on queue %s", worker.id, QUEUE_NAME)
    poster = asyncio.create_task(build_poster(deps).run(stop))
    jobs = asyncio.create_task(worker.start())
    tasks = [poster, jobs]
    if deps.settings.seawall_heartbeat_url:
        # The outside dead-man's switch: one ping job a minute, fleet-wide (bot/paging).
        tasks.append(asyncio.create_task(ping_loop(jobs=deps.jobs, clock=deps.clock, stop=stop)))
    try:
        await stop.wait()
    finally:
        await worker.stop()
        await asyncio.gather(*tasks, return_exceptions=True)

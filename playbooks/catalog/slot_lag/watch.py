"""The slot watch: every `watch.interval`, look at each configured database and raise,
update or resolve one card per slot that crossed `warn_percent` / `critical_percent` of
max_slot_wal_keep_size, or became unreserved or lost, so the page comes before the cap.

It runs once per interval across any number of workers: saq schedules it as a cron job with
a unique key (handlers/slack/slots.py), so each tick is queued once whoever queues it. A
check that runs twice anyway (saq is at-least-once) decides each card change once: every
change is a compare-and-set on the card (bot/slots/intake.py).
"""

from __future__ import annotations

import asyncio
import logging

from bot.core.errors import ExternalServiceError
from bot.deps import Deps
from bot.slots import intake, rules
from bot.slots.intake import Watcher
from playbooks.catalog.slot_lag.settings import Database, Settings, configured
from playbooks.providers.postgres import PsycopgSlots, SlotSource

log = logging.getLogger("seawall.slot_watch")

JOB = "slot_watch"
CHECK_TIMEOUT_S = 20.0  # one database's look; a hung server must not hold the others


async def watch(deps: Deps) -> None:
    """One tick: every configured database, side by side."""
    settings = configured(deps.config)
    if settings is None:
        return
    await asyncio.gather(
        *(
            check(deps, name, db, settings, source=PsycopgSlots(db.dsn, label=name, read_only=True))
            for name, db in settings.databases.items()
        )
    )


async def check(
    deps: Deps, name: str, db: Database, settings: Settings, *, source: SlotSource
) -> list[str]:
    """Look at one database and apply it to its watch cards; the ids of cards that changed."""
    watcher = Watcher(
        store=deps.store,
        timeline=deps.timeline,
        config=deps.config,
        default_channel=deps.settings.seawall_channel,
        thresholds=settings.watch.thresholds,
        interval_s=settings.watch.interval,
        now=deps.clock.now(),
    )
    timeout = min(CHECK_TIMEOUT_S, max(settings.watch.interval, 5.0))
    try:
        snap = await asyncio.wait_for(source.snapshot(name), timeout)
    except (ExternalServiceError, TimeoutError) as exc:
        reason = (
            str(exc) if isinstance(exc, ExternalServiceError) else f"no answer in {timeout:.0f} s"
        )
        log.warning("slot watch: %s not checked: %s", name, reason)
        return await watcher.cannot_check(name, reason)
    samples = await intake.recent_samples(name, redis=deps.redis)
    report, sample = rules.build_report(
        snap, samples, thresholds=settings.watch.thresholds, production=db.production
    )
    await intake.keep_sample(name, sample, redis=deps.redis)
    return await watcher.observe(report)

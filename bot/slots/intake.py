"""Looks and checks of replication slots become cards: the report of a look (one card per
run), and the watch card of each slot that crossed a threshold (one card per database and
slot, updated, never duplicated), like an Alertmanager group's card in bot/alerts/intake.py.

Also the samples kept between looks, from which the rules measure rates. Every card change
is one `Store.mutate_card` (compare-and-set), so two workers checking at once, or a look and a
check, decide each transition once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

import redis.asyncio as aioredis
from pydantic import ValidationError

from bot.core import keys
from bot.core.config import FileConfig
from bot.models.card import TriageCard
from bot.models.slots import (
    Case,
    Level,
    Sample,
    SlotReport,
    SlotView,
    SlotWatch,
    slot_watch_card_id,
)
from bot.slots.rules import Thresholds, WatchChange, watch_database, watch_slot
from bot.slots.runbook import runbook
from bot.store import CardMutation, Store
from bot.timeline import Timeline

FAILURES_BEFORE_CARD = 2  # one failed check is a blip; the second in a row raises the card

# What a check decides for one card, from the watch it holds now (None: no card yet).
Decide = Callable[[SlotWatch | None], WatchChange | None]


async def recent_samples(database: str, *, redis: aioredis.Redis) -> list[Sample]:
    """The kept samples of `database`, newest first (unreadable ones skipped)."""
    raw: list[str] = await redis.lrange(keys.slot_samples(database), 0, keys.SLOT_SAMPLES_MAX)
    samples = []
    for item in raw:
        try:
            samples.append(Sample.model_validate_json(item))
        except ValidationError:
            continue  # written by a release that stored something else: it only costs a rate
    return samples


async def keep_sample(database: str, sample: Sample, *, redis: aioredis.Redis) -> None:
    key = keys.slot_samples(database)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.lpush(key, sample.model_dump_json())
        pipe.ltrim(key, 0, keys.SLOT_SAMPLES_MAX - 1)
        pipe.expire(key, keys.SLOT_SAMPLES_TTL_S)
        await pipe.execute()


def needs_runbook(report: SlotReport) -> bool:
    return report.level is not Level.OK or any(v.case is not Case.HEALTHY for v in report.slots)


async def show_report(
    report: SlotReport, *, card_id: str, channel: str, store: Store, now: datetime
) -> None:
    """Post (or replace) a look's report card; the first time something needs attention,
    the recovery checklist goes in its thread."""

    def mutate(card: TriageCard | None) -> CardMutation:
        earlier = card.subject if card is not None else None
        had_runbook = isinstance(earlier, SlotReport) and needs_runbook(earlier)
        replies = [runbook(report.database)] if needs_runbook(report) and not had_runbook else []
        if card is None:
            card = TriageCard(
                card_id=card_id, channel=channel, subject=report, created_at=now, updated_at=now
            )
        card.subject = report
        return CardMutation(card=card, replies=replies)

    await store.mutate_card(card_id, mutate)


class Watcher:
    """Applies one database's check to its watch cards; built per check with the services
    it writes with."""

    def __init__(
        self,
        *,
        store: Store,
        timeline: Timeline,
        config: FileConfig,
        default_channel: str,
        thresholds: Thresholds,
        interval_s: float,
        now: datetime,
    ) -> None:
        self.store = store
        self.timeline = timeline
        self.config = config
        self.default_channel = default_channel
        self.thresholds = thresholds
        self.interval_s = interval_s
        self.now = now

    async def observe(self, report: SlotReport) -> list[str]:
        """Raise, update or resolve the card of every slot of the report, and of every slot
        whose card is firing but that the report no longer lists (dropped). Returns the ids
        of the cards that changed."""
        redis = self.store.redis
        database = report.database
        await redis.delete(keys.slot_watch_failures(database))
        problem = None
        if report.cap_bytes is None:
            problem = (
                f"max_slot_wal_keep_size is -1 on {database}: nothing limits the WAL a stalled "
                "slot keeps, so the watch has no cap to measure against and the disk fills "
                "before a slot is invalidated. Set a cap."
            )
        changed = await self._apply(
            database,
            None,
            partial(_database_change, database=database, problem=problem, now=self.now),
        )
        views = {v.row.name: v for v in report.slots}
        open_slots: set[str] = set(await redis.smembers(keys.slot_watch_open(database)))
        for name in sorted(views.keys() | open_slots):
            decide = partial(
                _slot_change,
                view=views.get(name),
                report=report,
                thresholds=self.thresholds,
                now=self.now,
            )
            changed += await self._apply(database, name, decide)
        return changed

    async def cannot_check(self, database: str, error: str) -> list[str]:
        """A check that failed: the database's card is raised from the second in a row."""
        redis = self.store.redis
        key = keys.slot_watch_failures(database)
        async with redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, max(60, int(3 * self.interval_s)))
            failures, _ = await pipe.execute()
        if int(failures) < FAILURES_BEFORE_CARD:
            return []
        problem = (
            f"Seawall cannot check the replication slots on {database} ({error}); nothing is "
            "watched there until it can."
        )
        decide = partial(_database_change, database=database, problem=problem, now=self.now)
        return await self._apply(database, None, decide)

    async def _apply(self, database: str, slot: str | None, decide: Decide) -> list[str]:
        card_id = slot_watch_card_id(database, slot)
        flips: list[str] = []
        state: list[SlotWatch] = []

        def mutate(card: TriageCard | None) -> CardMutation | None:
            state.clear()  # a retried transaction decides again, from what it read then
            flips.clear()
            current = card.subject if card is not None else None
            if current is not None and not isinstance(current, SlotWatch):
                raise TypeError(f"card {card_id} is not a slot watch")  # hash collision: never
            change = decide(current)
            if change is None:
                return None
            state.append(change.watch)
            flips.extend([change.flip] if change.flip else [])
            if card is None:
                labels = {"source": "slot-lag", "database": database, "slot": slot or ""}
                card = TriageCard(
                    card_id=card_id,
                    channel=self.config.channel_for_labels(labels, self.default_channel),
                    subject=change.watch,
                    created_at=self.now,
                    updated_at=self.now,
                )
            card.subject = change.watch
            return CardMutation(card=card, replies=change.replies)

        result = await self.store.mutate_card(card_id, mutate)
        if not result.changed or result.card is None or not state:
            return []
        if slot is not None:
            members = keys.slot_watch_open(database)
            if state[-1].closed:
                await self.store.redis.srem(members, slot)
            else:
                await self.store.redis.sadd(members, slot)
        if result.card.incident is not None and flips:
            await self.timeline.append(
                result.card.incident.incident_id, "alert", flips[-1], ref=card_id
            )
        return [card_id]


def _slot_change(
    current: SlotWatch | None,
    *,
    view: SlotView | None,
    report: SlotReport,
    thresholds: Thresholds,
    now: datetime,
) -> WatchChange | None:
    return watch_slot(current, view, report, thresholds, now)


def _database_change(
    current: SlotWatch | None, *, database: str, problem: str | None, now: datetime
) -> WatchChange | None:
    return watch_database(current, database, problem, now)

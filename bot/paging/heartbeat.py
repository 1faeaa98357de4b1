"""Dead-man's switches, both ways.

Inbound (oncall.heartbeats): an alert meant to fire for ever (Alertmanager's Watchdog) is a
heartbeat. Each delivery records when it came and schedules a check `timeout` later; a check
that finds no newer delivery raises a card `heartbeat-<name>`, which pages like a critical
alert, once per outage. The heartbeat's return resolves that card (and so its page).

Outbound (SEAWALL_HEARTBEAT_URL): every minute each worker enqueues one ping job, keyed by
the minute so the fleet pings once; the job GETs the URL (healthchecks.io and the like). It
runs only if Redis, the job queue and a worker all work, so when Seawall cannot page, the
outside service notices the silence and pages instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

import httpx
import redis.asyncio as aioredis

from bot.core import keys
from bot.core.clock import Clock
from bot.core.config import FileConfig
from bot.core.jobs import JobQueue
from bot.core.paging_config import Heartbeat
from bot.models.card import TriageCard
from bot.models.heartbeat import HeartbeatAlarm, heartbeat_card_id
from bot.store import CardMutation, Store

log = logging.getLogger("seawall.paging.heartbeat")

HEARTBEAT_CHECK_JOB = "heartbeat_check"
HEARTBEAT_PING_JOB = "heartbeat_ping"
PING_INTERVAL_S = 60.0
PING_TIMEOUT_S = 10.0


async def beat(
    heartbeat: Heartbeat, *, redis: aioredis.Redis, jobs: JobQueue, clock: Clock
) -> bool:
    """A delivery of the heartbeat arrived. True when it had been missing (and paged)."""
    now = clock.now()
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(keys.heartbeat_seen(heartbeat.name), now.timestamp(), ex=keys.HEARTBEAT_KEY_TTL_S)
        pipe.get(keys.heartbeat_outage(heartbeat.name))
        _, outage = await pipe.execute()
    await jobs.enqueue(
        HEARTBEAT_CHECK_JOB,
        key=f"{heartbeat.name}:{int(now.timestamp())}",
        delay_s=heartbeat.timeout.total_seconds(),
        name=heartbeat.name,
    )
    return outage is not None


async def back(heartbeat: Heartbeat, *, redis: aioredis.Redis, store: Store, clock: Clock) -> str:
    """The heartbeat returned: its card resolves (the caller tells paging). Its card id."""
    now = clock.now()
    card_id = heartbeat_card_id(heartbeat.name)

    def mutate(card: TriageCard | None) -> CardMutation | None:
        if card is None or not isinstance(card.subject, HeartbeatAlarm) or card.subject.resolved:
            return None
        card.subject = card.subject.model_copy(update={"back_at": now})
        return CardMutation(card=card, replies=[f"💚 The heartbeat {heartbeat.name} is back."])

    await store.mutate_card(card_id, mutate)
    await redis.delete(keys.heartbeat_outage(heartbeat.name))
    return card_id


async def check(
    heartbeat: Heartbeat,
    *,
    redis: aioredis.Redis,
    store: Store,
    clock: Clock,
    config: FileConfig,
    default_channel: str,
) -> str | None:
    """Job: if the heartbeat has not arrived for its timeout, raise its card (once per outage)
    and return the card id for paging; None while it is alive."""
    seen = await redis.get(keys.heartbeat_seen(heartbeat.name))
    if seen is None:
        return None
    now = clock.now()
    last = datetime.fromtimestamp(float(seen), tz=UTC)
    if now < last + heartbeat.timeout:
        return None  # a later delivery came; its own check follows
    claimed = await redis.set(
        keys.heartbeat_outage(heartbeat.name), seen, nx=True, ex=keys.HEARTBEAT_KEY_TTL_S
    )
    if not claimed:
        return None  # this outage has paged already
    alarm = HeartbeatAlarm(
        name=heartbeat.name,
        alertname=heartbeat.alertname,
        timeout_s=int(heartbeat.timeout.total_seconds()),
        last_seen=last,
        missing_since=last + heartbeat.timeout,
    )
    card_id = heartbeat_card_id(heartbeat.name)
    channel = config.channel_for_labels({"alertname": heartbeat.alertname}, default_channel)

    def raise_card(card: TriageCard | None) -> CardMutation | None:
        if card is None:
            new = TriageCard(
                card_id=card_id, channel=channel, subject=alarm, created_at=now, updated_at=now
            )
            return CardMutation(card=new)
        card.subject, card.ack = alarm, None  # a new outage: acknowledge it anew
        return CardMutation(
            card=card, replies=[f"🔴 The heartbeat {heartbeat.name} is missing again."]
        )

    await store.mutate_card(card_id, raise_card)
    log.warning("heartbeat %s missing since %s: paging", heartbeat.name, last + heartbeat.timeout)
    return card_id


async def ping(http: httpx.AsyncClient, url: str) -> bool:
    """Job: tell the outside watcher that Seawall is alive (any 2xx counts)."""
    try:
        response = await http.get(url, timeout=PING_TIMEOUT_S)
    except httpx.HTTPError as exc:
        log.warning("heartbeat ping to SEAWALL_HEARTBEAT_URL failed: %s", type(exc).__name__)
        return False
    if response.is_success:
        return True
    log.warning("heartbeat ping to SEAWALL_HEARTBEAT_URL answered %d", response.status_code)
    return False


async def ping_loop(
    *, jobs: JobQueue, clock: Clock, stop: asyncio.Event, interval_s: float = PING_INTERVAL_S
) -> None:
    """In every worker: queue the ping of each interval (one job per interval, fleet-wide)."""
    while not stop.is_set():
        slot = int(clock.now().timestamp() // interval_s)
        try:
            await jobs.enqueue(HEARTBEAT_PING_JOB, key=str(slot), retries=1)
        except Exception as exc:  # Redis down: no ping, which is exactly the signal
            log.warning("heartbeat ping not queued: %s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_s)

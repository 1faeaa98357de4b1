"""Recording changes and attaching the relevant ones to a card.

A change is one JSON key with the retention's TTL, indexed in one sorted set by when it
happened (trimmed on every write). Cards get their "Changed recently" list from a job run
after the card is created (handlers/webhooks enqueue it), so the webhook's answer never
waits for this look-up; the list is a snapshot of the window before the alert started.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import redis.asyncio as aioredis

from bot.changes.rules import WINDOW, relevant
from bot.core import keys
from bot.core.retention import Retention
from bot.models.alert import AlertGroup
from bot.models.card import TriageCard
from bot.models.change import Change
from bot.models.incident import Incident
from bot.models.sentry import SentryIssue, SentryMetricAlert
from bot.store import CardMutation, Store
from bot.timeline import Timeline


async def record(
    change: Change, *, redis: aioredis.Redis, retention: Retention, now: datetime
) -> bool:
    """Store a change once (its id decides); False when it was already recorded. The index
    keeps the retention window before `now` (a change reported as older simply falls out)."""
    ttl_s = int(retention.changes.total_seconds())
    stored = await redis.set(
        keys.change(change.change_id), change.model_dump_json(), nx=True, ex=ttl_s
    )
    if not stored:
        return False
    oldest_ms = int((now - retention.changes).timestamp() * 1000)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zadd(keys.CHANGES, {change.change_id: int(change.at.timestamp() * 1000)})
        pipe.zremrangebyscore(keys.CHANGES, "-inf", f"({oldest_ms}")
        pipe.zremrangebyrank(keys.CHANGES, 0, -keys.CHANGES_MAX - 1)
        await pipe.execute()
    return True


async def between(*, redis: aioredis.Redis, since: datetime, until: datetime) -> list[Change]:
    """Changes that happened in [since, until], oldest first (expired ones skipped)."""
    ids: list[str] = await redis.zrangebyscore(
        keys.CHANGES, int(since.timestamp() * 1000), int(until.timestamp() * 1000)
    )
    if not ids:
        return []
    raw = await redis.mget([keys.change(i) for i in ids])
    return [Change.model_validate_json(r) for r in raw if r]


def card_context(card: TriageCard) -> tuple[Mapping[str, str], datetime]:
    """What a card's alert is about (labels to match changes by) and when it started."""
    subject = card.subject
    if isinstance(subject, AlertGroup):
        labels = {**subject.group_labels, **subject.common_labels}
        starts = [a.starts_at for a in subject.alerts.values()]
        started = subject.first_starts_at or (min(starts) if starts else card.created_at)
        return labels, started
    if isinstance(subject, SentryIssue):
        labels = {"service": subject.project_slug or "", "environment": subject.environment or ""}
        return labels, subject.first_seen or card.created_at
    if isinstance(subject, SentryMetricAlert):
        return {}, subject.date_started or card.created_at
    if isinstance(subject, Incident):
        return {}, subject.declared_at
    return {}, card.created_at


ATTACH_JOB = "attach_changes"  # queued by whoever creates a card (webhooks, incidents)


async def attach(card_id: str, *, store: Store, timeline: Timeline) -> list[Change]:
    """Give the card the changes of the window before its alert started; returns them. A card
    that belongs to an incident (or is one) adds the newly shown changes to its timeline."""
    card = await store.get_card(card_id)
    if card is None:
        return []
    labels, started = card_context(card)
    if isinstance(card.subject, Incident) and card.subject.alert_card_ids:
        # An incident declared from an alert: what changed before that alert started.
        linked = await store.get_card(card.subject.alert_card_ids[0])
        if linked is not None:
            labels, started = card_context(linked)
    window = await between(redis=store.redis, since=started - WINDOW, until=started)
    shown, matched = relevant(window, labels, started)
    before: list[Change] = []

    def mutate(current: TriageCard | None) -> CardMutation | None:
        nonlocal before
        if current is None or (current.changes, current.changes_matched) == (shown, matched):
            return None
        before = list(current.changes)
        # Nothing to show before or now: stored for the record, but no chat.update (in a storm
        # that would be one more Slack call per new card, for nothing to see).
        visible = current.changes != shown
        current.changes, current.changes_matched = shown, matched
        return CardMutation(card=current, render=visible)

    result = await store.mutate_card(card_id, mutate)
    incident_id = _incident_of(result.card) if result.changed else None
    known = {c.change_id for c in before}
    for change in reversed(shown):  # oldest first, as the timeline reads
        if incident_id and change.change_id not in known:
            await timeline.append(
                incident_id, "change", describe(change), actor="seawall", ref=change.change_id
            )
    return shown


def _incident_of(card: TriageCard | None) -> str | None:
    if card is None:
        return None
    if isinstance(card.subject, Incident):
        return card.subject.incident_id
    return card.incident.incident_id if card.incident else None


def describe(change: Change) -> str:
    """One plain line for the timeline and the postmortem."""
    where = " ".join(x for x in (change.service, change.environment) if x)
    who = change.author or (f"@{change.author_slack_id}" if change.author_slack_id else None)
    parts = [f"Changed before: {change.summary}"]
    if where:
        parts.append(f"({where})")
    if who:
        parts.append(f"by {who}")
    parts.append(f"at {change.at:%Y-%m-%d %H:%M} UTC")
    if change.url:
        parts.append(change.url)
    return " ".join(parts)


async def recent(
    *, redis: aioredis.Redis, now: datetime, since: timedelta, service: str | None
) -> list[Change]:
    """`/incident changes [service] [--since 6h]`: newest first."""
    found = await between(redis=redis, since=now - since, until=now)
    if service:
        found = [c for c in found if (c.service or "").lower() == service.lower()]
    return sorted(found, key=lambda c: c.at, reverse=True)

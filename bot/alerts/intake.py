"""Turn an Alertmanager notification into the state of its triage card."""

from __future__ import annotations

from datetime import datetime

from bot.alerts.payload import AlertmanagerWebhook
from bot.alerts.rules import (
    GroupUpdate,
    apply_notification,
    card_id_for_group,
    delivery_digest,
    routing_labels,
)
from bot.cards.alert_group import alert_name
from bot.cards.common import slack_time
from bot.core import keys
from bot.core.config import FileConfig
from bot.models.alert import AlertGroup, Status
from bot.models.card import TriageCard
from bot.store import CardMutation, Store
from bot.timeline import Timeline
from bot.triage import IntakeResult


def _thread_reply(update: GroupUpdate) -> list[str]:
    """A thread reply only when the group's state flips, so the thread reads as a history."""
    if not update.status_changed:
        return []
    group = update.group
    if group.status is Status.RESOLVED and group.resolved_at is not None:
        return [f"🟢 Resolved at {slack_time(group.resolved_at)}: all alerts in this group ended."]
    firing = group.count(Status.FIRING)
    return [f"🔥 Firing again: {firing} alert{'s' if firing != 1 else ''} in this group."]


async def receive_alertmanager(
    hook: AlertmanagerWebhook,
    *,
    store: Store,
    timeline: Timeline,
    config: FileConfig,
    default_channel: str,
    received_at: datetime,
) -> IntakeResult:
    card_id = card_id_for_group(hook.group_key)
    outcome = "unchanged"
    for_timeline: tuple[str, str] | None = None  # (incident id, what changed)

    def mutate(card: TriageCard | None) -> CardMutation | None:
        nonlocal outcome, for_timeline
        group = card.subject if card is not None else None
        if group is not None and not isinstance(group, AlertGroup):
            raise TypeError(f"card {card_id} is not an alert group")  # hash collision: never
        update = apply_notification(group, hook, received_at, config.retention)
        if card is None:
            outcome = "created"
            channel = config.channel_for_labels(routing_labels(update.group), default_channel)
            new = TriageCard(
                card_id=card_id,
                channel=channel,
                subject=update.group,
                created_at=received_at,
                updated_at=received_at,
            )
            return CardMutation(card=new)
        outcome = "updated"
        card.subject = update.group
        if card.incident is not None and update.status_changed:
            for_timeline = (card.incident.incident_id, _state_change(update))
        return CardMutation(card=card, replies=_thread_reply(update))

    result = await store.mutate_card(
        card_id,
        mutate,
        dedup_keys=(keys.alertmanager_delivery(delivery_digest(hook)),),
        dedup_ttl_s=keys.ALERTMANAGER_DELIVERY_TTL_S,
    )
    if result.changed and for_timeline is not None:
        incident_id, text = for_timeline
        await timeline.append(incident_id, "alert", text, ref=card_id)
    return IntakeResult(card_id=card_id, outcome="duplicate" if result.duplicate else outcome)


def _state_change(update: GroupUpdate) -> str:
    """A linked alert's state flip, as the incident timeline tells it."""
    name = alert_name(update.group)
    if update.group.status is Status.RESOLVED:
        return f"Alert resolved: {name}"
    firing = update.group.count(Status.FIRING)
    return f"Alert firing again: {name} ({firing} alert{'s' if firing != 1 else ''})"

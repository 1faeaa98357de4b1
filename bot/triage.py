"""What every triage card shares, whatever sent it (an Alertmanager group, a Sentry issue or
metric alert): the outcome of an intake, Acknowledge, notes on the card, its title, and its
place in an incident's timeline once linked to one.

Shared machinery: alerts/ and sentry/ use it and never each other."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.cards.alert_group import alert_name
from bot.cards.common import slack_time
from bot.models.alert import AlertGroup
from bot.models.card import Ack, TriageCard
from bot.models.sentry import SentryIssue, SentryMetricAlert
from bot.models.slots import SlotWatch
from bot.store import CardMutation, Store
from bot.timeline import Timeline

CARD_GONE = "This card is no longer in Seawall's store; nothing was changed."


@dataclass(frozen=True)
class IntakeResult:
    card_id: str
    outcome: str  # "created", "updated", "unchanged" or "duplicate"


def card_title(card: TriageCard) -> str:
    """What the card is about, in a few words (an incident declared from it is called so)."""
    subject = card.subject
    if isinstance(subject, AlertGroup):
        return alert_name(subject)
    if isinstance(subject, SentryIssue | SentryMetricAlert):
        return subject.title
    if isinstance(subject, SlotWatch):
        return subject.title
    return "Incident"


async def acknowledge(
    card_id: str, user_id: str, *, store: Store, timeline: Timeline, now: datetime
) -> str:
    """Record the first acknowledgement; later clicks (double clicks too) change nothing."""
    earlier: Ack | None = None

    def mutate(card: TriageCard | None) -> CardMutation | None:
        nonlocal earlier
        if card is None or card.ack is not None:
            earlier = card.ack if card else None
            return None
        card.ack = Ack(user_id=user_id, at=now)
        return CardMutation(card=card, replies=[f"👀 <@{user_id}> acknowledged this."])

    result = await store.mutate_card(card_id, mutate)
    if result.card is None:
        return CARD_GONE
    if not result.changed and earlier is not None:
        return f"Already acknowledged by <@{earlier.user_id}> at {slack_time(earlier.at)}."
    await to_incident_timeline(result.card, "acknowledged", user_id, timeline=timeline)
    return "Acknowledged. The card shows it to everyone."


async def add_note(card_id: str, text: str, *, store: Store, now: datetime) -> None:
    """A line on the card (e.g. a button that failed), so the channel sees what happened."""

    def mutate(card: TriageCard | None) -> CardMutation | None:
        if card is None:
            return None
        card.add_note(text, now)
        return CardMutation(card=card)

    await store.mutate_card(card_id, mutate)


async def to_incident_timeline(
    card: TriageCard, what: str, user_id: str, *, timeline: Timeline
) -> None:
    """An action on a card linked to an incident joins that incident's timeline."""
    if card.incident is None:
        return
    text = f"Alert {what}: {card_title(card)}"
    await timeline.append(
        card.incident.incident_id, "action", text, actor=user_id, ref=card.card_id
    )

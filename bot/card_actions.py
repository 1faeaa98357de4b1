"""What the buttons on a card do. Each returns the sentence to show the person who clicked."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from bot import keys, timeline
from bot.alert_groups import silence_matchers
from bot.alertmanager_api import create_silence
from bot.cards.alert_group import alert_name
from bot.cards.common import slack_time
from bot.errors import ExternalServiceError
from bot.models import Ack, AlertGroup, Silence, Status, TriageCard
from bot.store import CardMutation, Store

SILENCE_DURATION = timedelta(hours=1)
CARD_GONE = "This card is no longer in Seawall's store; nothing was changed."


async def acknowledge(store: Store, card_id: str, user_id: str, now: datetime) -> str:
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
    await _to_timeline(store, result.card, "acknowledged", user_id)
    return "Acknowledged. The card shows it to everyone."


async def silence_for_an_hour(
    store: Store,
    http: httpx.AsyncClient,
    alertmanager_url: str | None,
    card_id: str,
    user_id: str,
    user_name: str,
    now: datetime,
) -> str:
    """Create an Alertmanager silence for the group's labels, once, and show it on the card."""
    card = await store.get_card(card_id)
    if card is None:
        return CARD_GONE
    group = card.subject
    if not isinstance(group, AlertGroup):
        return "Only Alertmanager cards can be silenced; nothing was changed."
    if card.silence is not None and card.silence.until > now:
        return (
            f"Already silenced by <@{card.silence.user_id}> until "
            f"{slack_time(card.silence.until)}; nothing was changed."
        )
    if group.status is Status.RESOLVED:
        return "This group is resolved; there is nothing to silence."
    if not alertmanager_url:
        return "Silencing is not set up (ALERTMANAGER_URL is unset); nothing was silenced."
    matchers = silence_matchers(group)
    if not matchers:
        return "This group has no labels in common to silence on; silence it in Alertmanager."
    # Double clicks and parallel clicks: only one silence per card at a time.
    if not await store.claim(
        keys.card_action_guard(card_id, "silence"), keys.CARD_ACTION_GUARD_TTL_S
    ):
        return "A silence for this card is already being created."

    until = now + SILENCE_DURATION
    try:
        silence_id = await create_silence(
            http,
            alertmanager_url,
            matchers,
            starts_at=now,
            ends_at=until,
            created_by=f"{user_name} via Seawall (Slack {user_id})",
            comment=f"Silenced for 1h from Seawall card {card_id}",
        )
    except ExternalServiceError as exc:
        await store.redis.delete(keys.card_action_guard(card_id, "silence"))
        await _add_note(
            store, card_id, f"Silence by <@{user_id}> failed: {exc}; nothing was silenced.", now
        )
        return (
            f"The silence was not created: {exc}. Nothing was silenced; "
            "try again or silence it in Alertmanager."
        )

    def mutate(current: TriageCard | None) -> CardMutation | None:
        if current is None:
            return None
        current.silence = Silence(
            silence_id=silence_id, user_id=user_id, until=until, created_at=now
        )
        return CardMutation(
            card=current,
            replies=[
                f"🔕 <@{user_id}> silenced this group until {slack_time(until)} "
                f"(silence {silence_id})."
            ],
        )

    result = await store.mutate_card(card_id, mutate)
    if result.card is not None:
        await _to_timeline(store, result.card, f"silenced for 1h ({silence_id})", user_id)
    return f"Silenced until {slack_time(until)} (Alertmanager silence {silence_id})."


async def _add_note(store: Store, card_id: str, text: str, now: datetime) -> None:
    def mutate(card: TriageCard | None) -> CardMutation | None:
        if card is None:
            return None
        card.add_note(text, now)
        return CardMutation(card=card)

    await store.mutate_card(card_id, mutate)


async def _to_timeline(store: Store, card: TriageCard, what: str, user_id: str) -> None:
    """An action on a card linked to an incident joins that incident's timeline."""
    if card.incident is None:
        return
    name = alert_name(card.subject) if isinstance(card.subject, AlertGroup) else card.card_id
    text = f"Alert {what}: {name}"
    await timeline.append(
        store.redis,
        store.clock,
        card.incident.incident_id,
        "action",
        text,
        actor=user_id,
        ref=card.card_id,
    )

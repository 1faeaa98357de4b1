"""What the Alertmanager buttons on a group card do: Silence 1h (through Alertmanager's API v2).
Each returns what to show the person who clicked: a sentence, or the question asked before a
silence that would reach further than the card (bot/cards/silence.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from bot.alerts.api import create_silence, matching_fingerprints
from bot.alerts.rules import silence_matchers, silence_scope
from bot.cards.common import CardMessage, slack_time
from bot.cards.silence import confirmation, matchers_text, reach_text
from bot.core import keys
from bot.core.errors import ExternalServiceError
from bot.models.alert import AlertGroup, Status, matchers_digest
from bot.models.card import Silence, TriageCard
from bot.store import CardMutation, Store
from bot.timeline import Timeline
from bot.triage import CARD_GONE, add_note, to_incident_timeline

SILENCE_DURATION = timedelta(hours=1)
STALE_CONFIRMATION = (
    "This group's alerts changed since you were asked, so *Silence anyway* no longer matches "
    "what you saw; nothing was silenced. Press *Silence 1h* on the card again to see what it "
    "would silence now."
)


async def silence_for_an_hour(
    card_id: str,
    user_id: str,
    user_name: str,
    *,
    store: Store,
    timeline: Timeline,
    http: httpx.AsyncClient,
    alertmanager_url: str | None,
    now: datetime,
    confirmed: str | None = None,
) -> str | CardMessage:
    """Silence the card's alerts for an hour, once, and show it on the card.

    The matchers are the card's own (rules.silence_matchers). When Alertmanager says they
    select more firing alerts elsewhere than on the card, nothing is silenced and the clicker
    is asked; `confirmed` is the digest of the matchers they then agreed to."""
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
    if confirmed is not None and confirmed != matchers_digest(matchers):
        return STALE_CONFIRMATION
    reach = ""
    if confirmed is None:
        try:
            found = await matching_fingerprints(http, alertmanager_url, matchers)
        except ExternalServiceError as exc:
            return (
                f"Seawall could not check what the silence would cover: {exc}. Nothing was "
                "silenced; try again or silence it in Alertmanager."
            )
        scope = silence_scope(group, matchers, found)
        if scope.too_broad:
            return confirmation(card_id, scope)
        reach = f": {reach_text(scope)}"
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
        await add_note(
            card_id,
            f"Silence by <@{user_id}> failed: {exc}; nothing was silenced.",
            store=store,
            now=now,
        )
        return (
            f"The silence was not created: {exc}. Nothing was silenced; "
            "try again or silence it in Alertmanager."
        )
    await _show_on_card(
        card_id, user_id, silence_id, until, store=store, timeline=timeline, now=now
    )
    return (
        f"Silenced until {slack_time(until)} (Alertmanager silence {silence_id}) with "
        f"{matchers_text(matchers)}{reach or ', as you confirmed'}."
    )


async def _show_on_card(
    card_id: str,
    user_id: str,
    silence_id: str,
    until: datetime,
    *,
    store: Store,
    timeline: Timeline,
    now: datetime,
) -> None:
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
        what = f"silenced for 1h ({silence_id})"
        await to_incident_timeline(result.card, what, user_id, timeline=timeline)

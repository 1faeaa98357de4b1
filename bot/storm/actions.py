"""What the storm card's buttons do: Acknowledge all (every firing group of the storm) and
Silence storm (one Alertmanager silence whose matchers every firing alert of the storm shares,
asked first with the exact matchers and what they would silence).

Alertmanager's API is the alerts feature's (bot/alerts/api.py); features never import each
other, so the composition root hands it in as `Silences` (handlers/slack/storm.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.cards.common import CardMessage, escape, slack_time
from bot.cards.silence import matchers_text, storm_question
from bot.core import keys
from bot.core.errors import ExternalServiceError
from bot.models.alert import AlertGroup, Status, matchers_digest
from bot.models.card import Ack, Silence, TriageCard
from bot.models.storm import Storm
from bot.store import CardMutation, Store
from bot.storm import rules
from bot.storm.state import StormState
from bot.timeline import Timeline
from bot.triage import CARD_GONE, add_note, to_incident_timeline

SILENCE_DURATION = timedelta(hours=1)
NOT_A_STORM = "That button is not on a storm card; nothing was changed."
STALE = (
    "The storm's alerts changed since you were asked, so *Silence storm 1h* no longer matches "
    "what you saw; nothing was silenced. Press *Silence storm 1h…* on the storm card again."
)
# Tells paging (through the composition root) that a card changed: acknowledging stops pages.
CardChanged = Callable[[str], Awaitable[None]]


class Silences(Protocol):
    """Alertmanager API v2, as the per-card Silence button uses it."""

    async def matching(self, matchers: dict[str, str]) -> list[str]:
        """Fingerprints of the active, unsilenced alerts the matchers select."""
        ...

    async def create(
        self, matchers: dict[str, str], *, starts_at: datetime, ends_at: datetime, by: str
    ) -> str:
        """Create the silence; its id."""
        ...


@dataclass(frozen=True)
class StormCard:
    card: TriageCard
    storm: Storm


async def _storm_card(store: Store, card_id: str) -> StormCard | str:
    card = await store.get_card(card_id)
    if card is None:
        return CARD_GONE
    if not isinstance(card.subject, Storm):
        return NOT_A_STORM
    return StormCard(card, card.subject)


async def acknowledge_all(
    card_id: str,
    user_id: str,
    *,
    store: Store,
    timeline: Timeline,
    now: datetime,
    changed: CardChanged,
) -> str:
    """Acknowledge every firing group of the storm that nobody acknowledged yet, as each
    card's own Acknowledge would (paging stops, linked incidents hear of it)."""
    found = await _storm_card(store, card_id)
    if isinstance(found, str):
        return found
    acked = already = 0
    for member in await StormState(store.redis).members(card_id):
        result = await store.mutate_card(member, _ack(user_id, now))
        if result.changed and result.card is not None:
            acked += 1
            await to_incident_timeline(result.card, "acknowledged", user_id, timeline=timeline)
            await changed(member)
        elif result.card is not None and result.card.ack is not None:
            already += 1
    await store.mutate_card(card_id, _ack_storm(user_id, now, acked))
    if not acked:
        return "Every firing group of this storm was already acknowledged; nothing was changed."
    more = f" ({already:,} already were)" if already else ""
    return (
        f"Acknowledged {acked:,} firing groups{more}. Their cards show it as Slack's pace "
        "allows; the storm card says so now."
    )


def _ack(user_id: str, now: datetime) -> Callable[[TriageCard | None], CardMutation | None]:
    def mutate(card: TriageCard | None) -> CardMutation | None:
        group = card.subject if card is not None else None
        if card is None or card.ack is not None or not isinstance(group, AlertGroup):
            return None
        if group.status is not Status.FIRING:
            return None
        card.ack = Ack(user_id=user_id, at=now)
        # No thread reply per group: a storm's worth would queue hundreds of posts behind
        # Slack's one a second. The storm card's thread says it once.
        return CardMutation(card=card)

    return mutate


def _ack_storm(
    user_id: str, now: datetime, acked: int
) -> Callable[[TriageCard | None], CardMutation | None]:
    def mutate(card: TriageCard | None) -> CardMutation | None:
        if card is None or not acked:
            return None
        card.ack = Ack(user_id=user_id, at=now)
        reply = f"👀 <@{user_id}> acknowledged all {acked:,} firing groups of this storm."
        return CardMutation(card=card, replies=[reply])

    return mutate


async def silence_storm(
    card_id: str,
    user_id: str,
    user_name: str,
    *,
    store: Store,
    silences: Silences | None,
    now: datetime,
    confirmed: str | None,
) -> str | CardMessage:
    """First press (`confirmed` None): the question, with the matchers and the counts.
    Confirmed with the digest of those matchers: create the silence, once."""
    found = await _storm_card(store, card_id)
    if isinstance(found, str):
        return found
    card = found.card
    if card.silence is not None and card.silence.until > now:
        return (
            f"Already silenced by <@{card.silence.user_id}> until "
            f"{slack_time(card.silence.until)}; nothing was changed."
        )
    if silences is None:
        return "Silencing is not set up (ALERTMANAGER_URL is unset); nothing was silenced."
    groups = await _firing_groups(store, card_id)
    if not groups:
        return "No group of this storm is firing; there is nothing to silence."
    matchers = rules.storm_matchers(groups)
    if not matchers:
        return (
            "The storm's firing alerts share no label, so one silence cannot cover them "
            "without covering everything; nothing was silenced. Silence groups from their own "
            "cards, or in Alertmanager."
        )
    digest = matchers_digest(matchers)
    if confirmed is None:
        try:
            selected = set(await silences.matching(matchers))
        except ExternalServiceError as exc:
            return (
                f"Seawall could not check what the silence would cover: {exc}. Nothing was "
                "silenced; try again or silence it in Alertmanager."
            )
        ours = rules.firing_fingerprints(groups)
        return storm_question(card_id, matchers, len(selected & ours), len(selected - ours), digest)
    if confirmed != digest:
        return STALE
    return await _create(card_id, user_id, user_name, matchers, store, silences, now)


async def _firing_groups(store: Store, card_id: str) -> list[AlertGroup]:
    state = StormState(store.redis)
    cards = await state.cards(await state.members(card_id))
    return [
        c.subject
        for c in cards
        if c is not None and isinstance(c.subject, AlertGroup) and c.subject.status is Status.FIRING
    ]


async def _create(
    card_id: str,
    user_id: str,
    user_name: str,
    matchers: dict[str, str],
    store: Store,
    silences: Silences,
    now: datetime,
) -> str:
    guard = keys.card_action_guard(card_id, "silence")
    if not await store.claim(guard, keys.CARD_ACTION_GUARD_TTL_S):
        return "A silence for this storm is already being created."
    until = now + SILENCE_DURATION
    try:
        silence_id = await silences.create(
            matchers, starts_at=now, ends_at=until, by=f"{user_name} via Seawall (Slack {user_id})"
        )
    except ExternalServiceError as exc:
        await store.redis.delete(guard)
        await add_note(
            card_id,
            f"Silence storm by <@{user_id}> failed: {exc}; nothing was silenced.",
            store=store,
            now=now,
        )
        return f"The silence was not created: {exc}. Nothing was silenced; try again."

    def show(current: TriageCard | None) -> CardMutation | None:
        if current is None:
            return None
        current.silence = Silence(
            silence_id=silence_id, user_id=user_id, until=until, created_at=now
        )
        reply = (
            f"🔕 <@{user_id}> silenced this storm until {slack_time(until)} "
            f"(silence {escape(silence_id)}) with {matchers_text(matchers)}."
        )
        return CardMutation(card=current, replies=[reply])

    await store.mutate_card(card_id, show)
    return (
        f"Silenced until {slack_time(until)} (Alertmanager silence {escape(silence_id)}) with "
        f"{matchers_text(matchers)}, as you confirmed."
    )

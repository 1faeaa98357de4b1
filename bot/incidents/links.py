"""Incidents declared from a triage card: the alert is linked both ways.

The incident lists the card (title and permalink); the card stores an IncidentLink, so it shows
the incident and its later state changes and actions go into the incident's timeline.
"""

from __future__ import annotations

from bot.core import keys
from bot.core.errors import ExternalServiceError
from bot.deps import Deps
from bot.incidents import channels, flow
from bot.models.card import TriageCard
from bot.models.incident import DEFAULT_SEVERITY, IncidentLink, LinkedAlert, Severity
from bot.store import CardMutation
from bot.triage import card_title

CARD_GONE = "This card is no longer in Seawall's store; nothing was declared."


async def card_to_declare(deps: Deps, card_id: str) -> TriageCard | str:
    """The card, when an incident can be declared from it; else why not (gone, or already
    linked). Asked before its modal opens, so nobody fills in a form that cannot succeed."""
    card = await deps.store.get_card(card_id)
    if card is None:
        return CARD_GONE
    if card.incident is not None:
        return _already_linked(card.incident.channel)
    return card


def _already_linked(channel: str) -> str:
    return f"This alert is already part of incident <#{channel}>; nothing new was declared."


async def declare_from_card(
    deps: Deps,
    card_id: str,
    user_id: str,
    *,
    title: str | None = None,
    severity: Severity = DEFAULT_SEVERITY,
    oncall: str | None = None,
) -> str:
    """Declare an incident linked to a triage card (its "Declare incident" modal), called
    `title` (the card's own title when None); returns the sentence for the person. `oncall`
    (the on-call person, from the composition root) is invited too."""
    card = await deps.store.get_card(card_id)
    if card is None:
        return CARD_GONE
    if card.incident is not None:
        return _already_linked(card.incident.channel)
    guard = keys.card_action_guard(card_id, "declare")
    if not await deps.store.claim(guard, keys.CARD_ACTION_GUARD_TTL_S):
        return "An incident for this card is already being declared; nothing more was done."
    alert_title = card_title(card)
    where = await deps.store.card_message(card_id)
    url = await channels.permalink(deps.slack, *where) if where else None
    try:
        declared = await flow.declare(
            deps,
            title=title or alert_title,
            severity=severity,
            user_id=user_id,
            declared_in=card.channel,
            alert=LinkedAlert(card_id=card_id, title=alert_title, url=url),
            oncall=oncall,
        )
    except ExternalServiceError as exc:
        await deps.redis.delete(guard)
        return (
            f"The incident was not declared: {exc}. Nothing was created; try again, or use "
            "`/incident declare <title>`."
        )
    incident = declared.incident
    assert incident is not None
    link = IncidentLink(
        incident_id=incident.incident_id,
        channel=incident.channel,
        declared_by=user_id,
        declared_at=incident.declared_at,
    )

    def mark(current: TriageCard | None) -> CardMutation | None:
        if current is None:
            return None
        current.incident = link
        reply = f"🚨 <@{user_id}> declared incident <#{incident.channel}> for this alert."
        return CardMutation(card=current, replies=[reply])

    await deps.store.mutate_card(card_id, mark)
    text = f"Incident <#{incident.channel}> declared ({incident.severity.upper()}); join it there."
    return " ".join([text, *declared.problems])

"""The card of a heartbeat that stopped arriving (a dead-man's switch, oncall.heartbeats)."""

from __future__ import annotations

from datetime import datetime, timedelta

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.cards.common import (
    CONTEXT_TEXT_MAX,
    ActionId,
    CardMessage,
    action_button,
    safe_text,
    slack_time,
    truncate,
)
from bot.cards.incident import incident_link_line
from bot.cards.page import paging_lines
from bot.core.times import duration_words
from bot.models.card import TriageCard
from bot.models.heartbeat import HeartbeatAlarm


def render_heartbeat(card: TriageCard, alarm: HeartbeatAlarm, now: datetime) -> CardMessage:
    del now
    name = safe_text(alarm.name, 60)
    alertname = safe_text(alarm.alertname, 200)
    timeout = duration_words(timedelta(seconds=alarm.timeout_s))
    if alarm.resolved:
        header = f"🟢 RESOLVED · heartbeat {alarm.name} is back"
        body = (
            f"The heartbeat *{name}* (alert `{alertname}`) arrives again since "
            f"{slack_time(alarm.back_at or alarm.last_seen)}."
        )
        fallback = f"Heartbeat {alarm.name} is back"
    else:
        header = f"🔴 MISSING · heartbeat {alarm.name}"
        body = (
            f"The heartbeat *{name}* (alert `{alertname}`) has not arrived for {timeout}; "
            f"last seen {slack_time(alarm.last_seen)}. The monitoring that sends it "
            "(Prometheus, Alertmanager, or the path to Seawall) may be down, so other alerts "
            "may not be reaching you either. Check it before trusting a quiet channel."
        )
        fallback = f"Heartbeat {alarm.name} missing for {timeout}"
    context = [f"Missing since {slack_time(alarm.missing_since)}"]
    if card.ack:
        context.append(f"👀 Acknowledged by <@{card.ack.user_id}> at {slack_time(card.ack.at)}")
    incident = incident_link_line(card)
    if incident:
        context.append(incident)
    context += paging_lines(card)
    context += [f"⚠️ {note.text}" for note in card.notes]
    blocks: list[Block] = [
        HeaderBlock(text=truncate(header, 150)),
        SectionBlock(text=MarkdownTextObject(text=body)),
        ContextBlock(
            elements=[MarkdownTextObject(text=truncate(t, CONTEXT_TEXT_MAX)) for t in context]
        ),
    ]
    buttons: list[ButtonElement] = []
    if card.ack is None and not alarm.resolved:
        buttons.append(action_button(ActionId.ACK, "Acknowledge", card.card_id, "primary"))
    if card.incident is None and not alarm.resolved:
        buttons.append(action_button(ActionId.DECLARE_INCIDENT, "Declare incident", card.card_id))
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    return CardMessage(text=fallback, blocks=blocks)

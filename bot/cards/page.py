"""Paging in Slack: a paged person's DM (with Acknowledge), the channel's "nobody
acknowledged" message, and the paging line every triage card shows while it pages."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.cards.common import (
    CONTEXT_TEXT_MAX,
    FALLBACK_TEXT_MAX,
    HEADER_TEXT_MAX,
    SECTION_TEXT_MAX,
    ActionId,
    CardMessage,
    action_button,
    escape,
    safe_text,
    slack_time,
    truncate,
)
from bot.models.card import TriageCard
from bot.models.page import PagedCard, PageNotice, PagingStatus

ICON = {5: "🔴", 4: "🔴", 3: "🟠"}
PAUSE_ICON = "🔧"


def _mentions(users: list[str]) -> str:
    return ", ".join(f"<@{u}>" for u in users) or "nobody"


def _card_line(card: PagedCard) -> str:
    icon = "🟢" if card.resolved else ICON.get(card.rank, "🔵")
    severity = f" ({safe_text(card.severity, 40)})" if card.severity else ""
    return f"{icon} *{safe_text(card.title, 200)}*{severity} in <#{card.channel}>"


def state_line(notice: PageNotice) -> str | None:
    if notice.state == "acked" and notice.acked_by:
        when = f" at {slack_time(notice.acked_at)}" if notice.acked_at else ""
        via = f" ({escape(notice.ack_via)})" if notice.ack_via else ""
        return f"✅ Acknowledged by <@{notice.acked_by}>{when}{via}. Paging stopped."
    if notice.state == "resolved":
        return "🟢 Resolved before anyone acknowledged: no action needed. Paging stopped."
    if notice.state == "exhausted":
        return "Nobody acknowledged; the channel was told. Acknowledge if you are taking it."
    if notice.state == "waiting":
        return f"{PAUSE_ICON} Paging is paused for maintenance; this pages when the pause ends."
    return None


def render_page_notice(card: TriageCard, notice: PageNotice, now: datetime) -> CardMessage:
    """A paged person's DM, or (recipient None) the channel's "nobody acknowledged"."""
    del now
    what = notice.summary or "a page"
    channel_alarm = notice.recipient is None
    if channel_alarm:
        header = f"📣 Nobody acknowledged: {what}"
        lead = (
            f"<!here> Nobody acknowledged the page for *{escape(what)}*. "
            f"Paged so far: {_mentions(notice.paged)}, since {slack_time(notice.raised_at)}. "
            "Look at it now and press *Acknowledge* if you take it."
        )
    else:
        header = f"🚨 Page: {what}"
        lead = (
            f"You are being paged: *{escape(what)}*. Press *Acknowledge* to stop the "
            "escalation, then look at the card in its channel."
        )
    lines = [_card_line(c) for c in notice.cards]
    if notice.total_cards > len(notice.cards):
        lines.append(f"…and {notice.total_cards - len(notice.cards)} more")
    blocks: list[Block] = [
        HeaderBlock(text=truncate(" ".join(header.split()), HEADER_TEXT_MAX)),
        SectionBlock(text=MarkdownTextObject(text=truncate(lead, SECTION_TEXT_MAX))),
    ]
    if lines:  # Slack refuses an empty section
        text = truncate("\n".join(lines), SECTION_TEXT_MAX)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
    context = [
        f"Raised {slack_time(notice.raised_at)} · level {notice.level} of {notice.levels} · "
        f"round {notice.round} of {notice.rounds}",
        *(f"ℹ️ {escape(reason)}" for reason in notice.reasons),
    ]
    state = state_line(notice)
    if state:
        context.append(state)
    blocks.append(
        ContextBlock(
            elements=[MarkdownTextObject(text=truncate(t, CONTEXT_TEXT_MAX)) for t in context]
        )
    )
    if notice.state in ("open", "exhausted", "waiting"):
        button = action_button(ActionId.PAGE_ACK, "Acknowledge", card.card_id, "primary")
        blocks.append(ActionsBlock(elements=[button]))
    prefix = "<!here> " if channel_alarm and notice.state == "exhausted" else ""
    fallback = f"{prefix}{'Nobody acknowledged' if channel_alarm else 'Page'}: {escape(what)}"
    return CardMessage(text=truncate(fallback, FALLBACK_TEXT_MAX), blocks=blocks)


def paging_lines(card: TriageCard) -> list[str]:
    """The paging line(s) of a triage card (bot/paging keeps card.paging up to date)."""
    status = card.paging
    if status is None:
        return []
    lines = [line for line in (_status_line(status),) if line]
    lines += [f"⚠️ {note}" for note in status.notes]
    return lines


def _status_line(s: PagingStatus) -> str | None:
    if s.page_id is None or s.state == "waiting":
        if s.paused_until is None:
            return None
        who = f" by <@{s.paused_by}>" if s.paused_by else ""
        tail = (
            "this pages then if it still fires"
            if s.state == "waiting"
            else "cards post here but wake nobody"
        )
        until = slack_time(s.paused_until)
        return f"{PAUSE_ICON} Paging paused{who} until {until} (maintenance): {tail}."
    if s.state == "open" and not s.primary:
        first = safe_text(s.worst_title or "", 150)
        return f"📟 Paging: part of the page raised by *{first}*; its card shows the ladder."
    if s.state == "open":
        line = (
            f"📟 Paging {_mentions(s.paging)} · level {s.level} of {s.levels} · "
            f"round {s.round} of {s.rounds}"
        )
        if s.next_at is not None:
            line += f" · next: {s.next_what or 'escalation'} at {slack_time(s.next_at)}"
        if s.cards > 1:
            line += f" · {s.cards} alerts in this page"
        return line
    if s.state == "acked":
        via = f" ({escape(s.ack_via)})" if s.ack_via else ""
        return f"📟 Paging stopped: acknowledged by <@{s.acked_by}>{via}."
    if s.state == "resolved":
        return "📟 Paging stopped: resolved before anyone acknowledged (no action needed)."
    if s.state == "exhausted":
        return (
            f"📟 Nobody acknowledged after {s.rounds} round(s); the channel was alerted. "
            "Press Acknowledge if you take it."
        )
    return None

"""Cards about replication slots: the report of a look (`/playbook slot-lag`) and the watch
card of one slot. Written for a phone at 3 a.m.: the sentence that matters and the advice
first, then one short block per slot, then the transactions that may hold WAL back.

Slot names, application and user names and query text come from the database: escaped and
cut short, the free text in code spans. The diagnosis and advice are Seawall's own sentences
(bot/slots/diagnosis.py) and are shown as they are.
"""

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
    FALLBACK_TEXT_MAX,
    HEADER_TEXT_MAX,
    SECTION_TEXT_MAX,
    ActionId,
    CardMessage,
    action_button,
    code,
    escape,
    plain,
    slack_time,
    truncate,
)
from bot.cards.incident import incident_link_line
from bot.core.sizes import human_bytes, human_rate
from bot.core.times import duration_text
from bot.models.card import TriageCard
from bot.models.slots import Case, Holder, Level, SlotReport, SlotView, SlotWatch

SLOTS_SHOWN = 10  # one section each: the card stays far below Slack's 50 blocks
HOLDERS_SHOWN = 5
QUERY_SHOWN = 120
NAME_SHOWN = 40
LEVEL_WORD = {Level.OK: "ok", Level.WARNING: "warning", Level.CRITICAL: "critical"}


def _since(start: datetime | None, now: datetime) -> str:
    return duration_text(start, now) if start is not None and start < now else "0 s"


def activity(view: SlotView, now: datetime) -> str:
    row = view.row
    if row.active:
        who = f" {code(row.consumer, NAME_SHOWN)}" if row.consumer else ""
        return f"active, pid {row.active_pid}{who}"
    if view.inactive_since is not None and view.inactive_since < now:
        return f"*inactive for {_since(view.inactive_since, now)}*"
    return "*inactive*"


def growth_text(view: SlotView) -> str:
    if view.row.wal_status == "lost":
        return "*lost*: its WAL is gone, the consumer must re-snapshot"
    if view.seconds_to_cap == 0:
        return "*past the cap*: lost at the next checkpoint"
    if view.growth is None:
        return "growth not measured yet"
    if view.growth <= 0:
        return "not growing"
    grows = f"grows {human_rate(view.growth)}" + (
        " (server's WAL rate)" if view.growth_assumed else ""
    )
    if view.seconds_to_cap is not None:
        start = datetime(2000, 1, 1)
        left = duration_text(start, start + timedelta(seconds=view.seconds_to_cap))
        return f"{grows} → *cap in ~{left}*"
    return grows


def slot_text(view: SlotView, report: SlotReport) -> str:
    """One slot in three short lines."""
    row = view.row
    kind = row.slot_type + (f" ({escape(row.plugin)})" if row.plugin else "")
    lines = [f"{view.level.icon} *{escape(row.name)}* · {kind} · {activity(view, report.taken_at)}"]
    if row.retained is not None:
        held = f"Retains *{human_bytes(row.retained)}*"
        if view.percent is not None and report.cap_bytes is not None:
            held += f" = *{view.percent:.0f}%* of the {human_bytes(report.cap_bytes)} cap"
        if row.safe_wal_size is not None and row.safe_wal_size > 0:
            held += f" · {human_bytes(row.safe_wal_size)} left"
        lines.append(f"{held} · {escape(row.wal_status or '?')}")
    lag = f"Consumer lag {human_bytes(row.lag)} · " if row.lag is not None else ""
    lines.append(lag + growth_text(view))
    return "\n".join(lines)


def holder_text(holder: Holder, now: datetime) -> str:
    if holder.pid is None:
        since = f" since {slack_time(holder.xact_start)}" if holder.xact_start else ""
        owner = f" · owner {code(holder.user, NAME_SHOWN)}" if holder.user else ""
        return f"• prepared {code(holder.gid or '?', NAME_SHOWN)}{since}{owner}"
    state = escape(holder.state or "?")
    parts = [f"• pid {holder.pid} · *{state}*"]
    if holder.state_change is not None and holder.state == "idle in transaction":
        parts[0] += f" for {_since(holder.state_change, now)}"
    if holder.xact_start is not None:
        parts.append(
            f"transaction open {_since(holder.xact_start, now)} "
            f"(since {slack_time(holder.xact_start)})"
        )
    if holder.xid_age is not None:
        parts.append(f"xid age {holder.xid_age}")
    kind = holder.backend_type or "client backend"
    who = [
        escape(kind) if kind != "client backend" else "",
        f"user {code(holder.user, NAME_SHOWN)}" if holder.user else "",
        f"app {code(holder.application, NAME_SHOWN)}" if holder.application else "",
        code(holder.query, QUERY_SHOWN) if holder.query else "",
    ]
    detail = " · ".join(w for w in who if w)
    return " · ".join(parts) + (f"\n      {detail}" if detail else "")


def holders_block(holders: list[Holder], now: datetime) -> SectionBlock | None:
    if not holders:
        return None
    lines = ["*Oldest open transactions*"]
    lines += [holder_text(h, now) for h in holders[:HOLDERS_SHOWN]]
    return SectionBlock(text=MarkdownTextObject(text=truncate("\n".join(lines), SECTION_TEXT_MAX)))


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_TEXT_MAX)))


def report_blocks(report: SlotReport) -> list[Block]:
    """The body both cards share: sentence, advice, warnings, slots, transactions."""
    blocks: list[Block] = [_section(f"*{report.diagnosis}*\n➡️ {report.recommendation}")]
    if report.warnings:
        blocks.append(_section("\n".join(f"⚠️ *{w}*" for w in report.warnings)))
    blocks.extend(_section(slot_text(v, report)) for v in report.slots[:SLOTS_SHOWN])
    if len(report.slots) > SLOTS_SHOWN:
        rest = len(report.slots) - SLOTS_SHOWN
        blocks.append(_section(f"…and {rest} more slot{'s' if rest > 1 else ''}, all less urgent."))
    holders = holders_block(report.holders, report.taken_at)
    if holders is not None:
        blocks.append(holders)
    return blocks


def numbers_line(report: SlotReport) -> str:
    parts = []
    if report.wal_rate is not None and report.rate_window_s:
        parts.append(
            f"WAL {human_rate(report.wal_rate)} over the last {report.rate_window_s:.0f} s"
        )
    cap = human_bytes(report.cap_bytes) if report.cap_bytes is not None else "-1 (no cap)"
    parts.append(f"max_slot_wal_keep_size {cap}")
    if report.wal_dir_bytes is not None:
        parts.append(f"pg_wal {human_bytes(report.wal_dir_bytes)}")
    parts.append(f"checked {slack_time(report.taken_at)}")
    return " · ".join(parts)


def _context(lines: list[str]) -> ContextBlock:
    return ContextBlock(
        elements=[MarkdownTextObject(text=truncate(t, CONTEXT_TEXT_MAX)) for t in lines if t]
    )


def render_slot_report(card: TriageCard, report: SlotReport, now: datetime) -> CardMessage:
    del now
    db = report.database
    after = f" · after {report.action}" if report.stage == "after" and report.action else ""
    header = f"{report.level.icon} Replication slots on {db} · {LEVEL_WORD[report.level]}{after}"
    blocks: list[Block] = [HeaderBlock(text=truncate(plain(header), HEADER_TEXT_MAX))]
    blocks.extend(report_blocks(report))
    who = f" by <@{report.requested_by}>" if report.requested_by else ""
    run = f"Run `{report.run_id}`{who}" if report.run_id else ""
    production = "production database (four-eyes to act)" if report.production else ""
    lines = [numbers_line(report), " · ".join(p for p in (run, production) if p)]
    lines += [f"⚠️ {escape(n.text)}" for n in card.notes]
    blocks.append(_context(lines))
    fallback = f"Replication slots on {db}: {report.diagnosis}"
    return CardMessage(text=truncate(escape(fallback), FALLBACK_TEXT_MAX), blocks=blocks)


def watch_header(watch: SlotWatch) -> str:
    if watch.closed:
        return f"🟢 {watch.title} · recovered"
    lost = (
        watch.report is not None
        and bool(watch.report.slots)
        and watch.report.slots[0].case is Case.LOST
    )
    word = "lost" if lost else LEVEL_WORD[watch.severity]
    return f"{watch.severity.icon} {watch.title} · {word}"


def watch_lines(card: TriageCard, watch: SlotWatch) -> list[str]:
    if watch.closed and watch.resolved_at is not None:
        when = f"Recovered {slack_time(watch.resolved_at)} (fired {slack_time(watch.fired_at)})"
    else:
        when = f"Firing since {slack_time(watch.fired_at)} · severity *{watch.severity.value}*"
    if watch.peak_percent is not None:
        when += f" · peak {watch.peak_percent:.0f}% of the cap"
    if watch.times_fired > 1:
        when += f" · fired {watch.times_fired}×"
    lines = [
        when,
        numbers_line(watch.report) if watch.report else f"checked {slack_time(watch.checked_at)}",
    ]
    if card.ack:
        lines.append(f"👀 Acknowledged by <@{card.ack.user_id}> at {slack_time(card.ack.at)}")
    lines.append(incident_link_line(card) or "")
    lines.append(f"Look again: `/playbook slot-lag {escape(watch.database)}`")
    lines += [f"⚠️ {escape(n.text)}" for n in card.notes]
    return lines


def watch_buttons(card: TriageCard, watch: SlotWatch) -> list[ButtonElement]:
    elements = []
    if card.ack is None and not watch.closed:
        elements.append(action_button(ActionId.ACK, "Acknowledge", card.card_id, "primary"))
    if card.incident is None:
        elements.append(action_button(ActionId.DECLARE_INCIDENT, "Declare incident", card.card_id))
    return elements


def render_slot_watch(card: TriageCard, watch: SlotWatch, now: datetime) -> CardMessage:
    del now
    blocks: list[Block] = [HeaderBlock(text=truncate(plain(watch_header(watch)), HEADER_TEXT_MAX))]
    if watch.problem:
        blocks.append(_section(f"*{escape(watch.problem)}*"))
    if watch.report is not None:
        blocks.extend(report_blocks(watch.report))
    blocks.append(_context(watch_lines(card, watch)))
    buttons = watch_buttons(card, watch)
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    summary = watch.problem or (watch.report.diagnosis if watch.report else "")
    fallback = f"{watch_header(watch)}: {summary}"
    return CardMessage(text=truncate(escape(fallback), FALLBACK_TEXT_MAX), blocks=blocks)

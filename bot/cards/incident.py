"""The pinned incident summary card, timeline lines, and the incident line on triage cards."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.cards.changes import changed_recently
from bot.cards.common import (
    CONTEXT_TEXT_MAX,
    FALLBACK_TEXT_MAX,
    FIELD_TEXT_MAX,
    HEADER_TEXT_MAX,
    SECTION_TEXT_MAX,
    CardMessage,
    escape,
    plain,
    safe_text,
    slack_time,
    truncate,
    usable_url,
)
from bot.core.times import duration_text
from bot.models.card import Note, TriageCard
from bot.models.incident import DEFAULT_SEVERITY, SEVERITIES, Incident
from bot.models.timeline import TimelineEntry

SEVERITY_ICON = {"sev1": "🔴", "sev2": "🟠", "sev3": "🟡", "sev4": "🔵"}
# The "Declare incident" modal of a triage card (handlers/slack/incidents.py reads it back).
DECLARE_CALLBACK = "incident.declare_from_card"
TITLE_BLOCK = TITLE_ACTION = "title"
SEVERITY_BLOCK = SEVERITY_ACTION = "severity"
TITLE_MAX = 150  # the title names the channel (inc-YYYYMMDD-slug)
RESOLVED_ICON = "🟢"
KIND_ICON = {
    "incident": "🚨",
    "alert": "🔔",
    "action": "👉",
    "step": "⚙️",
    "prompt": "✋",
    "approval": "✅",
    "message": "💬",
    "note": "📝",
}
LINKED_MAX = 10  # lines of linked alerts / runs on the card; the rest are counted
ENTRY_TEXT_MAX = 200  # per timeline line: 30 lines must fit a message comfortably
HOW_TO = (
    "*How to use this channel:* post what you see and what you do here; every message "
    "goes into the incident's timeline. `/incident status` · `/incident timeline` · "
    "`/incident resolve` · `/incident help`"
)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def header_text(incident: Incident) -> str:
    sev = incident.severity.upper()
    title = _one_line(incident.title)
    if incident.status == "resolved":
        text = f"{RESOLVED_ICON} RESOLVED · {sev} · {title}"
    else:
        text = f"{SEVERITY_ICON.get(incident.severity, '🟠')} {sev} · OPEN · {title}"
    return truncate(plain(text), HEADER_TEXT_MAX)  # plain_text: Slack parses nothing in it


def fallback_text(incident: Incident) -> str:
    text = f"{incident.severity.upper()} incident {incident.status}: {_one_line(incident.title)}"
    return truncate(escape(text), FALLBACK_TEXT_MAX)


def _field(name: str, value: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=truncate(f"*{name}*\n{value}", FIELD_TEXT_MAX))


def _fields(incident: Incident) -> list[MarkdownTextObject]:
    declared = f"<@{incident.declared_by}> · {slack_time(incident.declared_at)}"
    fields = [
        _field("Severity", incident.severity.upper()),
        _field("Status", incident.status.capitalize()),
        _field("Declared by", declared),
    ]
    if incident.resolved_at is not None:
        who = f"<@{incident.resolved_by}> · " if incident.resolved_by else ""
        fields.append(_field("Resolved by", f"{who}{slack_time(incident.resolved_at)}"))
        fields.append(_field("Duration", duration_text(incident.declared_at, incident.resolved_at)))
    return fields


def _alert_line(title: str, url: str | None) -> str:
    label = safe_text(_one_line(title), 150)
    link = usable_url(url)
    # Slack splits <url|label> at the first "|", so only the URL must be free of it.
    if link and "|" not in link and ">" not in link:
        return f"• <{link}|{label}>"
    return f"• {label}"


def _list_section(heading: str, lines: list[str]) -> SectionBlock:
    shown = lines[:LINKED_MAX]
    if len(lines) > LINKED_MAX:
        shown.append(f"…and {len(lines) - LINKED_MAX} more")
    text = truncate("\n".join([f"*{heading}*", *shown]), SECTION_TEXT_MAX)
    return SectionBlock(text=MarkdownTextObject(text=text))


def summary_blocks(incident: Incident, notes: Sequence[Note] = ()) -> list[Block]:
    """The card's blocks; also the top of the ephemeral `/incident status` answer."""
    blocks: list[Block] = [
        HeaderBlock(text=header_text(incident)),
        SectionBlock(fields=_fields(incident)),
    ]
    if incident.linked_alerts:
        lines = [_alert_line(a.title, a.url) for a in incident.linked_alerts]
        blocks.append(_list_section("Linked alerts", lines))
    if incident.run_ids:
        lines = [f"• `{safe_text(run_id, 100)}`" for run_id in incident.run_ids]
        blocks.append(_list_section("Playbook runs", lines))
    context = [HOW_TO, *(f"⚠️ {note.text}" for note in notes)]
    blocks.append(
        ContextBlock(
            elements=[MarkdownTextObject(text=truncate(t, CONTEXT_TEXT_MAX)) for t in context]
        )
    )
    return blocks


def render_incident(card: TriageCard, subject: Incident, now: datetime) -> CardMessage:
    """The pinned summary card. `now` is unused, as in every card today."""
    del now
    blocks = summary_blocks(subject, card.notes)
    return CardMessage(text=fallback_text(subject), blocks=[*blocks, *changed_recently(card)])


def incident_link_line(card: TriageCard) -> str | None:
    """The line a triage card shows once an incident was declared from it."""
    link = card.incident
    if link is None:
        return None
    return (
        f"🚨 Incident <#{link.channel}> declared by <@{link.declared_by}> "
        f"at {slack_time(link.declared_at)}"
    )


def _who(entry: TimelineEntry) -> str:
    if entry.by_person:
        return f"<@{entry.actor}>"
    return safe_text(entry.actor, 40) if entry.actor else "Seawall"


def timeline_line(entry: TimelineEntry) -> str:
    icon = KIND_ICON.get(entry.kind, "•")
    text = safe_text(_one_line(entry.text), ENTRY_TEXT_MAX)
    return f"{icon} {slack_time(entry.at)} · {_who(entry)} · {text}"


def timeline_sections(entries: Sequence[TimelineEntry]) -> list[SectionBlock]:
    """Timeline lines packed into as few sections as Slack's 3000-character limit allows."""
    if not entries:
        return [SectionBlock(text=MarkdownTextObject(text="_No timeline entries yet._"))]
    sections: list[SectionBlock] = []
    chunk: list[str] = []
    for line in (timeline_line(e) for e in entries):
        if chunk and len("\n".join([*chunk, line])) > SECTION_TEXT_MAX:
            sections.append(SectionBlock(text=MarkdownTextObject(text="\n".join(chunk))))
            chunk = []
        chunk.append(line)
    sections.append(SectionBlock(text=MarkdownTextObject(text="\n".join(chunk))))
    return sections


def timeline_message(incident: Incident, entries: Sequence[TimelineEntry]) -> CardMessage:
    """`/incident timeline`: the last entries, oldest first (an ephemeral message)."""
    title = truncate(plain(f"Timeline · {_one_line(incident.title)}"), HEADER_TEXT_MAX)
    blocks: list[Block] = [HeaderBlock(text=title), *timeline_sections(entries)]
    text = f"Timeline of {incident.severity.upper()} incident {_one_line(incident.title)}"
    return CardMessage(text=truncate(escape(text), FALLBACK_TEXT_MAX), blocks=blocks)


def _severity_option(severity: str) -> Option:
    label = f"{SEVERITY_ICON[severity]} {severity.upper()}"
    return Option(value=severity, text=PlainTextObject(text=label))


def declare_view(card_id: str, title: str) -> dict[str, Any]:
    """The modal of a triage card's "Declare incident": a title (the card's, to edit) and a
    severity (SEV2 unless changed); `card_id` comes back in private_metadata."""
    options = [_severity_option(severity) for severity in SEVERITIES]
    view = View(
        type="modal",
        callback_id=DECLARE_CALLBACK,
        private_metadata=card_id,
        title="Declare incident",
        submit="Declare",
        close="Cancel",
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text="Seawall creates the incident's channel, pins its summary there, "
                    "invites you, and links this card to it."
                )
            ),
            InputBlock(
                block_id=TITLE_BLOCK,
                label="Title",
                element=PlainTextInputElement(
                    action_id=TITLE_ACTION,
                    initial_value=truncate(plain(_one_line(title)), TITLE_MAX) or None,
                    max_length=TITLE_MAX,
                ),
            ),
            InputBlock(
                block_id=SEVERITY_BLOCK,
                label="Severity",
                element=StaticSelectElement(
                    action_id=SEVERITY_ACTION,
                    options=options,
                    initial_option=options[SEVERITIES.index(DEFAULT_SEVERITY)],
                ),
            ),
        ],
    )
    result: dict[str, Any] = view.to_dict()
    return result

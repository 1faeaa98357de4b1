"""Triage card for an Alertmanager alert group."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.cards.changes import changed_recently
from bot.cards.common import (
    CONTEXT_TEXT_MAX,
    FALLBACK_TEXT_MAX,
    FIELD_TEXT_MAX,
    FIELDS_MAX,
    HEADER_TEXT_MAX,
    SECTION_TEXT_MAX,
    ActionId,
    CardMessage,
    action_button,
    escape,
    link_button,
    plain,
    safe_text,
    slack_time,
    truncate,
    with_notes,
)
from bot.cards.incident import incident_link_line
from bot.cards.page import paging_lines
from bot.models.alert import Alert, AlertGroup, Status
from bot.models.card import TriageCard

SEVERITY_ICON = {"critical": "🔴", "page": "🔴", "error": "🔴", "warning": "🟠", "info": "🔵"}
RESOLVED_ICON = "🟢"
DEFAULT_ICON = "🟠"
# Labels an on-call engineer looks for first; the rest follow alphabetically.
KEY_LABELS = ("severity", "instance", "job", "namespace", "service", "pod", "cluster", "env")
HIDDEN_FIELD_LABELS = ("alertname",)  # already in the header
ALERT_LINES_MAX = 10


def alert_name(group: AlertGroup) -> str:
    for labels in (group.common_labels, group.group_labels):
        if labels.get("alertname"):
            return labels["alertname"]
    names = sorted({a.labels.get("alertname", "") for a in group.alerts.values()} - {""})
    if names:
        return ", ".join(names)
    return "Alert group"


def severity(group: AlertGroup) -> str | None:
    return group.common_labels.get("severity") or group.group_labels.get("severity")


def summary_text(group: AlertGroup) -> tuple[str | None, str | None]:
    """(summary, description) that hold for the whole group: its common annotations, or the
    annotations of its only alert. Never one alert's summary over another's description: in
    a group whose alerts say different things, each is shown on its own line instead."""
    sources = [group.common_annotations]
    if len(group.alerts) == 1:
        sources = [group.common_annotations, next(iter(group.alerts.values())).annotations]
    for source in sources:
        summary = source.get("summary") or source.get("message")
        if summary:
            description = source.get("description")
            return summary, description if description != summary else None
    return None, None


# Worst first: what a severity label means for the order of a group's alerts (unknown last).
SEVERITY_RANK = {"critical": 0, "page": 0, "error": 1, "warning": 2, "info": 3}


def _ordered_alerts(group: AlertGroup) -> list[Alert]:
    # Firing first, then by severity, then the longest burning (the likely cause comes first).
    return sorted(
        group.alerts.values(),
        key=lambda a: (
            a.status is not Status.FIRING,
            SEVERITY_RANK.get(a.labels.get("severity", "").lower(), len(SEVERITY_RANK)),
            a.starts_at,
            a.fingerprint,
        ),
    )


# Shown on a card whose group Seawall first heard of in a resolve (AlertGroup.first_heard_resolved).
NO_RECORD = (
    "⚠️ *Seawall has no record of this group before this resolve:* its state may have been "
    "lost (e.g. Redis restarted without persistence), so an older card for it may still show "
    "it firing. This card shows what was resolved."
)


def header_text(group: AlertGroup) -> str:
    sev = severity(group)
    if group.status is Status.RESOLVED:
        text = f"{RESOLVED_ICON} RESOLVED · {alert_name(group)}"
    else:
        icon = SEVERITY_ICON.get((sev or "").lower(), DEFAULT_ICON)
        text = f"{icon} FIRING · {sev + ' · ' if sev else ''}{alert_name(group)}"
    # Header is plain_text: Slack does not parse mentions or links in it.
    return truncate(plain(text), HEADER_TEXT_MAX)


def fallback_text(group: AlertGroup) -> str:
    summary, _ = summary_text(group)
    if summary is None and len(group.alerts) > 1:
        summary = f"{len(group.alerts):,} alerts"
    status = "RESOLVED" if group.status is Status.RESOLVED else "FIRING"
    text = f"{status}: {alert_name(group)}" + (f" — {summary}" if summary else "")
    return truncate(escape(text), FALLBACK_TEXT_MAX)


def label_fields(group: AlertGroup) -> list[MarkdownTextObject]:
    labels = {k: v for k, v in group.common_labels.items() if k not in HIDDEN_FIELD_LABELS}
    ordered = [k for k in KEY_LABELS if k in labels] + sorted(set(labels) - set(KEY_LABELS))
    return [
        MarkdownTextObject(text=truncate(f"*{escape(k)}*\n{escape(labels[k])}", FIELD_TEXT_MAX))
        for k in ordered[:FIELDS_MAX]
    ]


def alert_lines(group: AlertGroup) -> str | None:
    """One line per alert, naming what distinguishes it from the rest of the group."""
    if len(group.alerts) <= 1:
        return None
    ordered = _ordered_alerts(group)
    lines = []
    for alert in ordered[:ALERT_LINES_MAX]:
        icon = RESOLVED_ICON if alert.status is Status.RESOLVED else "🔥"
        distinct = {k: v for k, v in alert.labels.items() if group.common_labels.get(k) != v} or {
            "fingerprint": alert.fingerprint
        }
        labels = ", ".join(f"{k}={v}" for k, v in sorted(distinct.items()))
        note = alert.annotations.get("summary") or alert.annotations.get("description") or ""
        line = f"{icon} `{escape(truncate(labels, 200))}`"
        if note:
            line += f" {escape(truncate(note, 200))}"
        lines.append(line)
    hidden = len(ordered) - ALERT_LINES_MAX
    if hidden > 0:
        lines.append(f"…and {hidden} more")
    return truncate("\n".join(lines), SECTION_TEXT_MAX)


def first_start(group: AlertGroup) -> datetime | None:
    """When the group's earliest alert started, including alerts that have left the group."""
    starts = [a.starts_at for a in group.alerts.values()]
    if group.first_starts_at is not None:
        starts.append(group.first_starts_at)
    return min(starts, default=None)


def context_lines(card: TriageCard, group: AlertGroup) -> list[str]:
    firing = group.count(Status.FIRING)
    counts = f"*{firing:,} firing* · {group.resolved_total:,} resolved"
    started = first_start(group)
    if started:
        counts += f" · since {slack_time(started)}"
    counts += f" · notified {group.notifications}×"
    if group.receiver:
        counts += f" · receiver `{safe_text(group.receiver, 100)}`"
    lines = [counts]
    if group.resolved_dropped:
        lines.append(
            f"{group.resolved_dropped:,} older resolved alerts are counted here but no longer "
            "listed."
        )
    if group.resolved_at is not None:
        lines.append(f"{RESOLVED_ICON} Resolved at {slack_time(group.resolved_at)}")
    if group.truncated_alerts:
        lines.append(
            f"⚠️ Alertmanager left out {group.truncated_alerts} more alerts "
            "(max_alerts on its webhook receiver); see Alertmanager for all of them."
        )
    if card.ack:
        lines.append(f"👀 Acknowledged by <@{card.ack.user_id}> at {slack_time(card.ack.at)}")
    if card.silence:
        lines.append(
            f"🔕 Silenced by <@{card.silence.user_id}> until {slack_time(card.silence.until)}"
        )
    incident = incident_link_line(card)
    if incident:
        lines.append(incident)
    lines.extend(paging_lines(card))
    lines = with_notes(lines, [f"⚠️ {note.text}" for note in card.notes])
    return [truncate(line, CONTEXT_TEXT_MAX) for line in lines]


def buttons(card: TriageCard, group: AlertGroup) -> list[ButtonElement]:
    elements: list[ButtonElement] = []
    if card.ack is None and group.status is Status.FIRING:  # nothing to take on once resolved
        elements.append(action_button(ActionId.ACK, "Acknowledge", card.card_id, "primary"))
    if group.status is Status.FIRING and card.silence is None:
        elements.append(action_button(ActionId.SILENCE_1H, "Silence 1h", card.card_id))
    if card.incident is None:
        elements.append(action_button(ActionId.DECLARE_INCIDENT, "Declare incident", card.card_id))
    first = next(iter(_ordered_alerts(group)), None)
    runbook = group.common_annotations.get("runbook_url") or (
        first.annotations.get("runbook_url") if first else None
    )
    links = [
        link_button("source", "Source", first.generator_url if first else None),
        link_button("runbook", "Runbook", runbook),
        link_button("alertmanager", "Alertmanager", group.external_url),
    ]
    elements.extend(b for b in links if b is not None)
    return elements


def headline(group: AlertGroup) -> tuple[str | None, bool]:
    """The lines under the header, and whether they already list the alerts: the group's
    own summary when it has one, else "N alerts: worst first" and the alerts themselves."""
    summary, description = summary_text(group)
    if summary is None and len(group.alerts) > 1:
        return f"*{len(group.alerts):,} alerts: worst first*\n{alert_lines(group)}", True
    parts = [f"*{escape(summary)}*" if summary else None, escape(description or "") or None]
    return "\n".join(p for p in parts if p) or None, False


def render_alert_group(card: TriageCard, group: AlertGroup, now: datetime) -> CardMessage:
    """The whole card. `now` is unused today but part of every card's signature so that
    relative times ("for 5 min") can be added without changing callers."""
    del now
    blocks: list[Block] = [HeaderBlock(text=header_text(group))]
    if group.first_heard_resolved:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=NO_RECORD)))
    body, listed = headline(group)
    if body:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate(body, SECTION_TEXT_MAX))))
    fields = label_fields(group)
    if fields:
        blocks.append(SectionBlock(fields=fields))
    lines = None if listed else alert_lines(group)
    if lines:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=lines)))
    blocks.append(
        ContextBlock(elements=[MarkdownTextObject(text=t) for t in context_lines(card, group)])
    )
    blocks.extend(changed_recently(card))
    blocks.append(ActionsBlock(elements=buttons(card, group)))
    return CardMessage(text=fallback_text(group), blocks=blocks)

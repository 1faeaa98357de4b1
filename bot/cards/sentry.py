"""Triage cards for a Sentry issue and a Sentry metric alert.

Everything Sentry sends is untrusted (titles, culprits, user and team names): it is escaped
before it reaches mrkdwn, and only shown unescaped in plain_text, which Slack never parses.
"""

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
    HEADER_TEXT_MAX,
    SECTION_TEXT_MAX,
    ActionId,
    CardMessage,
    RenderContext,
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
from bot.models.card import TriageCard
from bot.models.sentry import SentryIssue, SentryMetricAlert

LEVEL_ICON = {"fatal": "🔴", "error": "🔴", "warning": "🟠", "info": "🔵", "debug": "🔵"}
STATUS_ICON = {"resolved": "🟢", "ignored": "🔕"}
METRIC_ICON = {"critical": "🔴", "warning": "🟠", "resolved": "🟢", "open": "🔵"}
DEFAULT_ICON = "🟠"
CLOSED_STATUSES = ("resolved", "ignored")


def render_sentry(
    card: TriageCard,
    subject: SentryIssue | SentryMetricAlert,
    now: datetime,
    context: RenderContext,
) -> CardMessage:
    """The whole card for either Sentry subject. `now` is unused, as in every card today."""
    del now
    if isinstance(subject, SentryIssue):
        return render_issue(card, subject, context)
    return render_metric_alert(card, subject)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _header(text: str) -> HeaderBlock:
    # Header text is plain_text: Slack shows mentions and links in it as typed, so the
    # raw title is safe here and reads better than escaped entities.
    return HeaderBlock(text=truncate(plain(_one_line(text)), HEADER_TEXT_MAX))


def _field(name: str, value: str) -> MarkdownTextObject:
    """A "*Name*\\nvalue" field; `value` must already be mrkdwn-safe."""
    return MarkdownTextObject(text=truncate(f"*{name}*\n{value}", FIELD_TEXT_MAX))


def _context(lines: list[str]) -> ContextBlock:
    return ContextBlock(
        elements=[MarkdownTextObject(text=truncate(line, CONTEXT_TEXT_MAX)) for line in lines]
    )


def _ack_and_notes(card: TriageCard, lines: list[str]) -> list[str]:
    """`lines`, then the acknowledgement, incident, paging and notes lines."""
    lines = list(lines)
    if card.ack:
        lines.append(f"👀 Acknowledged by <@{card.ack.user_id}> at {slack_time(card.ack.at)}")
    incident = incident_link_line(card)
    if incident:
        lines.append(incident)
    lines.extend(paging_lines(card))
    return with_notes(lines, [f"⚠️ {note.text}" for note in card.notes])


# --- issue ---------------------------------------------------------------------------------


def issue_header_text(issue: SentryIssue) -> str:
    if issue.status in STATUS_ICON:
        return f"{STATUS_ICON[issue.status]} {issue.status.upper()} · {issue.title}"
    level = (issue.level or "").lower()
    icon = LEVEL_ICON.get(level, DEFAULT_ICON)
    return f"{icon} {level.upper()} · {issue.title}" if level else f"{icon} {issue.title}"


def issue_fallback_text(issue: SentryIssue) -> str:
    state = issue.status.upper() if issue.status in CLOSED_STATUSES else (issue.level or "issue")
    text = f"Sentry {state}: {issue.title}" + (f" — {issue.culprit}" if issue.culprit else "")
    return truncate(escape(_one_line(text)), FALLBACK_TEXT_MAX)


def issue_summary(issue: SentryIssue) -> str | None:
    parts = []
    if issue.short_id:
        parts.append(f"*{safe_text(issue.short_id, 200)}*")
    if issue.culprit:
        # A code span reads well for "module in function"; a backtick would end it early.
        culprit = safe_text(issue.culprit.replace("`", "'"), 1000)
        parts.append(f"`{culprit}`")
    return truncate(" · ".join(parts), SECTION_TEXT_MAX) if parts else None


def issue_fields(issue: SentryIssue) -> list[MarkdownTextObject]:
    values: list[tuple[str, str | None]] = [
        ("Level", safe_text(issue.level, 100) if issue.level else None),
        ("Project", safe_text(issue.project_slug or issue.project_name or "", 300) or None),
        ("Environment", safe_text(issue.environment, 300) if issue.environment else None),
        ("Release", safe_text(issue.release, 300) if issue.release else None),
        ("Events", f"{issue.event_count:,}" if issue.event_count is not None else None),
        ("Users affected", f"{issue.user_count:,}" if issue.user_count is not None else None),
        ("First seen", slack_time(issue.first_seen) if issue.first_seen else None),
        ("Last seen", slack_time(issue.last_seen) if issue.last_seen else None),
        ("Assigned to", safe_text(issue.assigned_to, 300) if issue.assigned_to else "nobody"),
    ]
    return [_field(name, value) for name, value in values if value is not None]


def issue_context(card: TriageCard, issue: SentryIssue) -> list[str]:
    status = f"Status: *{safe_text(issue.status, 64)}*"
    if issue.substatus:
        status += f" ({safe_text(issue.substatus.replace('_', ' '), 64)})"
    if issue.last_actor_slack_id:
        who = f" by <@{issue.last_actor_slack_id}> from Slack"
    elif issue.last_actor:
        who = f" by {safe_text(issue.last_actor, 200)}"
    else:
        who = ""
    lines = [status, f"Last action: {safe_text(issue.last_action, 100)}{who}"]
    if issue.triggered_rule:
        lines.append(f"🔔 Alert rule “{safe_text(issue.triggered_rule, 300)}” fired")
    return _ack_and_notes(card, lines)


def issue_buttons(
    card: TriageCard, issue: SentryIssue, context: RenderContext
) -> list[ButtonElement]:
    elements: list[ButtonElement] = []
    # Nothing is left to acknowledge once resolved; an ignored issue may come back.
    if card.ack is None and issue.status != "resolved":
        elements.append(action_button(ActionId.ACK, "Acknowledge", card.card_id, "primary"))
    # Only where Seawall may call Sentry's API. A resolved issue needs neither; an ignored one
    # may still be resolved.
    if context.sentry_api and issue.status != "resolved":
        elements.append(action_button(ActionId.SENTRY_RESOLVE, "Resolve in Sentry", card.card_id))
    if context.sentry_api and issue.status not in CLOSED_STATUSES:
        elements.append(action_button(ActionId.SENTRY_IGNORE_1H, "Ignore 1h", card.card_id))
    link = link_button("sentry", "Open in Sentry", issue.web_url)
    if link is not None:
        elements.append(link)
    return elements


def render_issue(card: TriageCard, issue: SentryIssue, context: RenderContext) -> CardMessage:
    blocks: list[Block] = [_header(issue_header_text(issue))]
    summary = issue_summary(issue)
    if summary:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=summary)))
    blocks.append(SectionBlock(fields=issue_fields(issue)))
    blocks.append(_context(issue_context(card, issue)))
    blocks.extend(changed_recently(card))
    buttons = issue_buttons(card, issue, context)
    if buttons:  # Slack refuses an empty actions block
        blocks.append(ActionsBlock(elements=buttons))
    return CardMessage(text=issue_fallback_text(issue), blocks=blocks)


# --- metric alert --------------------------------------------------------------------------


def metric_header_text(alert: SentryMetricAlert) -> str:
    icon = METRIC_ICON.get(alert.status, DEFAULT_ICON)
    return f"{icon} {alert.status.upper()} · {alert.rule_name or alert.title}"


def metric_body(alert: SentryMetricAlert) -> str | None:
    parts = []
    if alert.description_title:
        parts.append(f"*{escape(alert.description_title)}*")
    if alert.description_text:
        parts.append(escape(alert.description_text))
    if alert.rule_name and alert.title != alert.rule_name:
        parts.append(f"Alert: {escape(alert.title)}")
    return truncate("\n".join(parts), SECTION_TEXT_MAX) if parts else None


def metric_context(card: TriageCard, alert: SentryMetricAlert) -> list[str]:
    if alert.date_started:
        times = f"Started {slack_time(alert.date_started)}"
    else:
        times = f"First reported to Seawall {slack_time(card.created_at)}"
    if alert.date_closed:
        times += f" · closed {slack_time(alert.date_closed)}"
    return _ack_and_notes(card, [times])


def render_metric_alert(card: TriageCard, alert: SentryMetricAlert) -> CardMessage:
    blocks: list[Block] = [_header(metric_header_text(alert))]
    body = metric_body(alert)
    if body:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=body)))
    blocks.append(_context(metric_context(card, alert)))
    buttons: list[ButtonElement] = []
    if card.ack is None and alert.status != "resolved":
        buttons.append(action_button(ActionId.ACK, "Acknowledge", card.card_id, "primary"))
    link = link_button("sentry", "Open in Sentry", alert.web_url)
    if link is not None:
        buttons.append(link)
    blocks.extend(changed_recently(card))
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    fallback = f"Sentry metric alert {alert.status}: {alert.rule_name or alert.title}"
    return CardMessage(text=truncate(escape(_one_line(fallback)), FALLBACK_TEXT_MAX), blocks=blocks)

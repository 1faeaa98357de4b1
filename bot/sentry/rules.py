"""Pure rules for folding Sentry webhooks into a SentryIssue or SentryMetricAlert.

An `issue` webhook carries a snapshot of the issue, but deliveries can repeat (retries),
arrive late (an `assigned` sent before a `resolved` but delivered after it) or echo a change
Seawall itself made (the Resolve button). So only the status actions move the status, counts
and times only grow, and a thread reply is written only when the state really changes.

Snapshots are ordered by the issue's `lastSeen` (the time of its latest event: it only
grows over an issue's life). A snapshot older than the one that set the current status is
stale: it changes neither status nor assignee (a delayed or replayed `unresolved` must not
reopen an issue resolved since). An equal `lastSeen` is applied: people resolve and reopen
issues without new events, and Sentry's snapshot carries no time of the change, so equal
snapshots cannot be told apart (the body digest catches an exact replay: keys.py). A snapshot
without `lastSeen` cannot be ordered and is applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from bot.cards.common import escape
from bot.models.sentry import SentryIssue, SentryMetricAlert
from bot.sentry.payload import (
    SentryAssignee,
    SentryEventAlertWebhook,
    SentryIssueWebhook,
    SentryMetricAlertWebhook,
)

# The status an action leaves the issue in ("archived" is the docs' name for "ignored").
STATUS_BY_ACTION = {
    "resolved": "resolved",
    "ignored": "ignored",
    "archived": "ignored",
    "unresolved": "unresolved",
}
KNOWN_STATUSES = frozenset({"unresolved", "resolved", "ignored"})
RESOLUTION_NOTE = {
    "in_next_release": " (in the next release)",
    "in_release": " (in a release)",
    "in_commit": " (in a commit)",
}
IGNORE_NOTE = {
    "archived_until_escalating": " until it escalates",
    "archived_until_condition_met": " until its condition is met",
    "archived_forever": " forever",
}
Ordered = TypeVar("Ordered", int, datetime)

METRIC_REPLY_ICON = {"critical": "🔴", "warning": "🟠", "resolved": "🟢", "open": "🔵"}


def card_id_for_issue(issue_id: str) -> str:
    return f"sentry-issue-{issue_id}"


def card_id_for_metric_alert(alert_id: str) -> str:
    return f"sentry-metric-{alert_id}"


def issue_page_url(org_url: str | None, issue_id: str) -> str | None:
    """The issue's page in Sentry, for payloads whose `permalink` is null (most real ones)."""
    return f"{org_url}/issues/{issue_id}/" if org_url else None


@dataclass
class IssueUpdate:
    subject: SentryIssue
    replies: list[str] = field(default_factory=list)


@dataclass
class MetricAlertUpdate:
    subject: SentryMetricAlert
    replies: list[str] = field(default_factory=list)


def assignee_label(
    assigned_to: SentryAssignee | None, assignee: SentryAssignee | None
) -> str | None:
    """Who the issue is assigned to, as plain (untrusted) text.

    `issue.assignedTo` names a team by its slug, `data.assignee` by its display name, and
    their ids differ in type (string vs integer). The issue snapshot is preferred so that
    every delivery names the same assignee the same way."""
    if assigned_to is not None:
        name = assigned_to.name or assigned_to.email or assigned_to.id
        if assigned_to.type == "team":
            return f"#{name}"
        return name
    if assignee is not None:
        name = assignee.name or assignee.email or assignee.id
        return f"team {name}" if assignee.type == "team" else name
    return None


def _by(actor: str | None) -> str:
    return f" by {escape(actor)}" if actor else ""


def _status_reply(issue: SentryIssue, resolution_type: str | None) -> str:
    by = _by(issue.last_actor)
    if issue.status == "resolved":
        how = RESOLUTION_NOTE.get(resolution_type or "", "")
        return f"🟢 Resolved in Sentry{by}{how}."
    if issue.status == "ignored":
        until = IGNORE_NOTE.get(issue.substatus or "", "")
        return f"🔕 Ignored in Sentry{by}{until}."
    why = f" ({escape(issue.substatus)})" if issue.substatus in ("regressed", "escalating") else ""
    return f"🔴 Unresolved again{by}{why}."


def _snapshot_status(status: str | None) -> str:
    normalised = STATUS_BY_ACTION.get(status or "", status or "unresolved")
    return normalised if normalised in KNOWN_STATUSES else "unresolved"


def is_stale_snapshot(status_seen: datetime | None, snapshot_seen: datetime | None) -> bool:
    """True when a snapshot is older than the one that set the stored status."""
    return status_seen is not None and snapshot_seen is not None and snapshot_seen < status_seen


def apply_issue_webhook(
    current: SentryIssue | None, hook: SentryIssueWebhook, fallback_url: str | None
) -> IssueUpdate:
    """Fold one `issue` delivery into the issue (None: the first Seawall hears of it)."""
    raw = hook.data.issue
    actor = hook.actor.label() if hook.actor else None
    issue = (
        current.model_copy(deep=True)
        if current is not None
        else SentryIssue(
            issue_id=raw.id,
            title=raw.title,
            status=_snapshot_status(raw.status),
            substatus=raw.substatus,
        )
    )
    issue.title = raw.title or issue.title or f"Sentry issue {raw.id}"
    issue.short_id = raw.short_id or issue.short_id
    issue.culprit = raw.culprit or issue.culprit
    issue.level = raw.level or issue.level
    if raw.project is not None:
        issue.project_slug = raw.project.slug or issue.project_slug
        issue.project_name = raw.project.name or issue.project_name
    # Counts and times only grow: a late delivery must not make the card look younger.
    issue.event_count = _max(issue.event_count, raw.count)
    issue.user_count = _max(issue.user_count, raw.user_count)
    issue.last_seen = _max(issue.last_seen, raw.last_seen)
    issue.first_seen = _min(issue.first_seen, raw.first_seen)
    issue.web_url = raw.web_url or raw.permalink or issue.web_url or fallback_url
    stale = current is not None and is_stale_snapshot(current.status_seen, raw.last_seen)
    assignee = assignee_label(raw.assigned_to, hook.data.assignee)
    # `created` is the first thing Sentry says about an issue, so after any other delivery it
    # is a late retry whose snapshot is older: it may fill in an assignee, never drop one.
    if not stale and (hook.action != "created" or issue.assigned_to is None):
        issue.assigned_to = assignee

    new_status = STATUS_BY_ACTION.get(hook.action)
    if current is None:
        issue.status_seen = raw.last_seen
    if new_status is not None and not stale:
        issue.status = new_status
        issue.substatus = raw.substatus
        issue.status_seen = _max(issue.status_seen, raw.last_seen)
    status_changed = current is not None and current.status != issue.status
    assignee_changed = current is not None and current.assigned_to != issue.assigned_to
    if current is None or status_changed or assignee_changed:
        # An unchanged state (e.g. Sentry echoing a Resolve clicked in Seawall) keeps the
        # actor already shown, which may be the Slack user who clicked.
        issue.last_action = STATUS_BY_ACTION.get(hook.action, hook.action)
        issue.last_actor = actor
        issue.last_actor_slack_id = None

    replies: list[str] = []
    if status_changed:
        replies.append(_status_reply(issue, hook.data.resolution_type))
    if assignee_changed:
        who = escape(issue.assigned_to) if issue.assigned_to else None
        replies.append(
            f"👤 Assigned to {who}{_by(actor)}." if who else f"👤 Unassigned{_by(actor)}."
        )
    return IssueUpdate(subject=issue, replies=replies)


def apply_event_alert(
    current: SentryIssue | None,
    hook: SentryEventAlertWebhook,
    issue_id: str,
    fallback_url: str | None,
) -> IssueUpdate:
    """Fold an alert rule's notification about one event into its issue's card.

    The event says nothing about the issue's status, so the status stays as it is; the card
    shows which rule fired and when. No thread reply: a busy rule would flood the thread."""
    event = hook.data.event
    rule = hook.data.triggered_rule or (
        hook.data.issue_alert.title if hook.data.issue_alert else None
    )
    seen = event.timestamp or event.occurred
    issue = (
        current.model_copy(deep=True)
        if current is not None
        else SentryIssue(
            issue_id=issue_id,
            title=event.title or event.message or f"Sentry issue {issue_id}",
            project_slug=event.project_slug(),
            last_action="triggered",
            last_actor=hook.actor.label() if hook.actor else None,
        )
    )
    issue.culprit = issue.culprit or event.culprit
    issue.level = issue.level or event.level or event.tag("level")
    issue.environment = event.environment or event.tag("environment") or issue.environment
    issue.release = event.release or event.tag("release") or issue.release
    issue.last_seen = _max(issue.last_seen, seen)
    issue.web_url = issue.web_url or event.web_url or fallback_url
    issue.triggered_rule = rule or issue.triggered_rule
    return IssueUpdate(subject=issue)


def apply_metric_alert(
    current: SentryMetricAlert | None, hook: SentryMetricAlertWebhook, received_at: datetime
) -> MetricAlertUpdate | None:
    """Fold a metric alert delivery; None when it is a late one for an already closed alert.

    Sentry opens a new metric alert (new id) each time a rule fires again, so once an alert
    is resolved, a critical or warning for the same id can only be a delayed delivery."""
    if current is not None and current.status == "resolved" and hook.action != "resolved":
        return None
    raw = hook.data.metric_alert
    rule_name = raw.alert_rule.name if raw.alert_rule and raw.alert_rule.name else None
    status = hook.action
    closed = raw.date_closed or (current.date_closed if current else None)
    if status == "resolved" and closed is None:
        closed = received_at  # the docs' example resolves with date_closed null
    # Sentry double-escapes newlines in this field: a literal backslash-n reaches us.
    text = hook.data.description_text.replace("\\n", "\n") if hook.data.description_text else None
    subject = SentryMetricAlert(
        alert_id=raw.id,
        title=raw.title or rule_name or (current.title if current else f"Metric alert {raw.id}"),
        rule_name=rule_name or (current.rule_name if current else None),
        status=status,
        description_title=hook.data.description_title,
        description_text=text,
        web_url=hook.data.web_url or (current.web_url if current else None),
        date_started=raw.date_started
        or raw.date_detected
        or (current.date_started if current else None),
        date_closed=closed,
    )
    replies: list[str] = []
    if current is not None and current.status != subject.status:
        icon = METRIC_REPLY_ICON.get(status, "🔵")
        detail = f": {escape(subject.description_title)}" if subject.description_title else ""
        replies.append(f"{icon} Metric alert is now {status}{detail}.")
    return MetricAlertUpdate(subject=subject, replies=replies)


def metric_alert_project(hook: SentryMetricAlertWebhook) -> str | None:
    """The project to route a metric alert by: the first one its rule watches."""
    raw = hook.data.metric_alert
    projects = raw.projects or (raw.alert_rule.projects if raw.alert_rule else [])
    return projects[0] if projects else None


def _max(old: Ordered | None, new: Ordered | None) -> Ordered | None:
    if old is None or new is None:
        return new if old is None else old
    return max(old, new)


def _min(old: datetime | None, new: datetime | None) -> datetime | None:
    if old is None or new is None:
        return new if old is None else old
    return min(old, new)

"""Ordering of Sentry issue snapshots: an older one never changes the status."""

from __future__ import annotations

from typing import Any

from bot.models.sentry import SentryIssue
from bot.sentry.payload import SentryIssueWebhook
from bot.sentry.rules import apply_issue_webhook
from tests.fixtures.sentry_payloads import encode, issue_body


def fold(current: SentryIssue | None, **body: Any) -> SentryIssue:
    hook = SentryIssueWebhook.model_validate_json(encode(issue_body(**body)))
    return apply_issue_webhook(current, hook, None).subject


def resolved_at_noon() -> SentryIssue:
    created = fold(None, lastSeen="2026-11-23T11:00:00Z")
    return fold(created, action="resolved", status="resolved", lastSeen="2026-11-23T12:00:00Z")


def test_an_older_unresolved_snapshot_does_not_reopen_a_resolved_issue() -> None:
    issue = fold(
        resolved_at_noon(),
        action="unresolved",
        status="unresolved",
        lastSeen="2026-11-23T11:30:00Z",
    )
    assert issue.status == "resolved"


def test_an_older_snapshot_does_not_change_the_assignee_either() -> None:
    issue = fold(
        resolved_at_noon(),
        action="assigned",
        lastSeen="2026-11-23T11:30:00Z",
        assignedTo={"type": "user", "id": "9", "name": "Old Owner"},
    )
    assert issue.assigned_to is None


def test_a_snapshot_with_the_same_last_seen_reopens_the_issue() -> None:
    # People reopen an issue without new events; equal snapshots cannot be told apart.
    issue = fold(
        resolved_at_noon(),
        action="unresolved",
        status="unresolved",
        lastSeen="2026-11-23T12:00:00Z",
    )
    assert issue.status == "unresolved"


def test_a_newer_snapshot_reopens_the_issue() -> None:
    issue = fold(
        resolved_at_noon(),
        action="unresolved",
        status="unresolved",
        lastSeen="2026-11-23T12:05:00Z",
    )
    assert (issue.status, issue.status_seen and issue.status_seen.minute) == ("unresolved", 5)


def test_a_snapshot_without_last_seen_is_applied() -> None:
    issue = fold(resolved_at_noon(), action="unresolved", status="unresolved", lastSeen=None)
    assert issue.status == "unresolved"

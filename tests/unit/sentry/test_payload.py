"""Sentry webhooks: every real-world quirk parses, and folds into the right domain model."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.models.sentry import SentryIssue, SentryMetricAlert
from bot.sentry.payload import (
    SentryDelivery,
    SentryEvent,
    SentryEventAlertWebhook,
    SentryIssueWebhook,
    SentryMetricAlertWebhook,
    is_handled,
)
from bot.sentry.rules import (
    apply_event_alert,
    apply_issue_webhook,
    apply_metric_alert,
    card_id_for_issue,
    issue_page_url,
    metric_alert_project,
)
from tests.fixtures.sentry_payloads import (
    IGNORED,
    QUIRKS,
    encode,
    event_alert_body,
    issue_body,
    metric_alert_body,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ORG_URL = "https://sentry.example.net/organizations/acme"
# How Sentry names the integration itself when it echoes a change Seawall asked for.
SENTRY_APP = {"type": "application", "id": "seawall-app", "name": "Seawall"}


def issue_hook(body: dict[str, Any]) -> SentryIssueWebhook:
    return SentryIssueWebhook.model_validate_json(encode(body))


def event_hook(body: dict[str, Any]) -> SentryEventAlertWebhook:
    return SentryEventAlertWebhook.model_validate_json(encode(body))


def metric_hook(body: dict[str, Any]) -> SentryMetricAlertWebhook:
    return SentryMetricAlertWebhook.model_validate_json(encode(body))


def fold(resource: str, body: dict[str, Any]) -> SentryIssue | SentryMetricAlert:
    """What Seawall keeps for a first delivery of `body`."""
    if resource == "issue":
        return apply_issue_webhook(None, issue_hook(body), None).subject
    if resource == "event_alert":
        hook = event_hook(body)
        issue_id = hook.data.event.resolved_issue_id()
        assert issue_id is not None
        return apply_event_alert(None, hook, issue_id, None).subject
    update = apply_metric_alert(None, metric_hook(body), NOW)
    assert update is not None
    return update.subject


@pytest.mark.parametrize("name", sorted(QUIRKS))
def test_every_quirk_parses_into_its_domain_model(name: str) -> None:
    resource, body = QUIRKS[name]
    assert is_handled(resource, body["action"])
    subject = fold(resource, body)
    expected = SentryMetricAlert if resource == "metric_alert" else SentryIssue
    assert isinstance(subject, expected)


@pytest.mark.parametrize("name", sorted(IGNORED))
def test_deliveries_seawall_does_not_act_on_are_recognised_as_such(name: str) -> None:
    resource, body = IGNORED[name]
    delivery = SentryDelivery.model_validate_json(encode(body))
    handled = is_handled(resource, delivery.action)
    if name == "event_alert_naming_no_issue":
        assert handled
        assert event_hook(body).data.event.resolved_issue_id() is None
    else:
        assert not handled


def test_count_sent_as_text_becomes_a_number() -> None:
    issue = fold(*QUIRKS["issue_created_with_substatus"])
    assert isinstance(issue, SentryIssue)
    assert issue.event_count == 3
    assert issue.user_count == 2


def test_substatus_is_kept_when_sent_and_empty_when_not() -> None:
    with_sub = fold(*QUIRKS["issue_created_with_substatus"])
    without = fold(*QUIRKS["issue_created_without_substatus"])
    assert isinstance(with_sub, SentryIssue)
    assert isinstance(without, SentryIssue)
    assert with_sub.substatus == "escalating"
    assert without.substatus is None


def test_sentry_itself_is_named_sentry_and_a_user_by_name_despite_an_integer_id() -> None:
    by_sentry = issue_hook(QUIRKS["issue_created_with_substatus"][1])
    by_user = issue_hook(QUIRKS["issue_ignored"][1])
    assert by_sentry.actor is not None
    assert by_sentry.actor.label() == "Sentry"
    assert by_user.actor is not None
    assert by_user.actor.id == "918273"
    assert by_user.actor.label() == "Dana Okafor"


def test_a_missing_actor_leaves_the_last_actor_empty() -> None:
    issue = fold(*QUIRKS["issue_unresolved_without_actor"])
    assert isinstance(issue, SentryIssue)
    assert issue.last_actor is None


def test_resolution_type_beside_the_issue_shows_in_the_thread_reply() -> None:
    open_issue = apply_issue_webhook(None, issue_hook(issue_body("5512349003")), None).subject
    resolved = issue_hook(QUIRKS["issue_resolved_by_user_in_next_release"][1])
    update = apply_issue_webhook(open_issue, resolved, None)
    assert update.subject.status == "resolved"
    assert update.replies == ["🟢 Resolved in Sentry by Dana Okafor (in the next release)."]


def test_a_team_assignee_is_named_by_the_issue_snapshot_whatever_the_id_types() -> None:
    open_issue = apply_issue_webhook(None, issue_hook(issue_body("5512349002")), None).subject
    update = apply_issue_webhook(open_issue, issue_hook(QUIRKS["issue_assigned_to_team"][1]), None)
    assert update.subject.assigned_to == "#payments-oncall"
    assert update.replies == ["👤 Assigned to #payments-oncall by Dana Okafor."]


def test_the_assignee_alone_names_the_team_when_the_snapshot_has_none() -> None:
    body = QUIRKS["issue_assigned_to_team"][1]
    body = json.loads(json.dumps(body))
    body["data"]["issue"]["assignedTo"] = None
    issue = fold("issue", body)
    assert isinstance(issue, SentryIssue)
    assert issue.assigned_to == "team Payments On-call"


def test_archived_means_ignored() -> None:
    issue = fold(*QUIRKS["issue_archived_until_escalating"])
    assert isinstance(issue, SentryIssue)
    assert issue.status == "ignored"
    assert issue.last_action == "ignored"


def test_a_null_permalink_falls_back_to_the_issue_page_in_the_org() -> None:
    hook = issue_hook(QUIRKS["issue_created_with_substatus"][1])
    fallback = issue_page_url(ORG_URL, hook.data.issue.id)
    issue = apply_issue_webhook(None, hook, fallback).subject
    assert issue.web_url == f"{ORG_URL}/issues/5512349001/"
    assert issue_page_url(None, "1") is None


def test_web_url_in_the_payload_wins_over_the_fallback() -> None:
    hook = issue_hook(QUIRKS["issue_unresolved_without_actor"][1])
    issue = apply_issue_webhook(None, hook, f"{ORG_URL}/issues/x/").subject
    assert issue.web_url == "https://sentry.example.net/organizations/acme/issues/5512349007/"


def test_event_alert_takes_the_environment_from_tags_and_the_release_from_the_event() -> None:
    issue = fold(*QUIRKS["event_alert_without_issue_id"])
    assert isinstance(issue, SentryIssue)
    assert issue.environment == "staging"
    assert issue.release == "checkout@2026.11.3"


def test_event_alert_without_issue_id_finds_it_in_the_issue_url() -> None:
    hook = event_hook(QUIRKS["event_alert_without_issue_id"][1])
    assert hook.data.event.issue_id is None
    assert hook.data.event.resolved_issue_id() == "5512349001"


def test_event_alert_float_epoch_timestamp_becomes_last_seen() -> None:
    issue = fold(*QUIRKS["event_alert_with_issue_alert"])
    assert isinstance(issue, SentryIssue)
    assert issue.last_seen == datetime(2026, 11, 23, 11, 58, 41, 907311, tzinfo=UTC)


def test_event_alert_project_slug_comes_from_the_event_url_not_the_number() -> None:
    hook = event_hook(QUIRKS["event_alert_with_issue_alert"][1])
    assert hook.data.event.project == "77"
    assert hook.data.event.project_slug() == "checkout-api"


def test_event_alert_names_the_rule_that_fired_with_or_without_issue_alert() -> None:
    for name in ("event_alert_with_issue_alert", "event_alert_without_issue_id"):
        issue = fold(*QUIRKS[name])
        assert isinstance(issue, SentryIssue)
        assert issue.triggered_rule == "New errors in checkout"


def test_event_alert_keeps_the_status_and_adds_no_thread_reply() -> None:
    resolved = issue_body("5512349001", action="resolved", status="resolved")
    issue = apply_issue_webhook(None, issue_hook(resolved), None).subject
    update = apply_event_alert(issue, event_hook(event_alert_body()), "5512349001", None)
    assert update.subject.status == "resolved"
    assert update.subject.triggered_rule == "New errors in checkout"
    assert update.replies == []


def test_metric_alert_literal_backslash_n_becomes_a_line_break() -> None:
    alert = fold(*QUIRKS["metric_alert_resolved"])
    assert isinstance(alert, SentryMetricAlert)
    assert alert.description_text == "312 events in the last 5 minutes\nFilter: level:error"


def test_metric_alert_without_title_url_or_dates_still_makes_an_alert() -> None:
    alert = fold(*QUIRKS["metric_alert_critical_mock_shape"])
    assert isinstance(alert, SentryMetricAlert)
    assert alert.status == "critical"
    assert alert.rule_name == "Checkout error rate"
    assert alert.description_title is None
    assert alert.web_url is None
    assert alert.date_started is None


def test_a_resolved_metric_alert_without_date_closed_is_closed_when_received() -> None:
    alert = fold(*QUIRKS["metric_alert_resolved"])
    assert isinstance(alert, SentryMetricAlert)
    assert alert.date_closed == NOW


def test_metric_alert_routes_by_the_first_project_its_rule_watches() -> None:
    assert metric_alert_project(metric_hook(metric_alert_body())) == "checkout-api"


def test_a_metric_alert_status_change_adds_one_reply() -> None:
    first = apply_metric_alert(None, metric_hook(metric_alert_body("913")), NOW)
    assert first is not None
    resolved = metric_alert_body(
        "913", action="resolved", description_title="Resolved: Checkout error rate"
    )
    update = apply_metric_alert(first.subject, metric_hook(resolved), NOW)
    assert update is not None
    assert update.replies == ["🟢 Metric alert is now resolved: Resolved: Checkout error rate."]


def test_a_late_critical_for_a_resolved_metric_alert_changes_nothing() -> None:
    resolved = apply_metric_alert(
        None, metric_hook(metric_alert_body("913", action="resolved")), NOW
    )
    assert resolved is not None
    late = apply_metric_alert(resolved.subject, metric_hook(metric_alert_body("913")), NOW)
    assert late is None


def test_the_same_resolve_twice_adds_one_reply() -> None:
    issue = apply_issue_webhook(None, issue_hook(issue_body()), None).subject
    resolve = issue_hook(issue_body(action="resolved", status="resolved"))
    once = apply_issue_webhook(issue, resolve, None)
    twice = apply_issue_webhook(once.subject, resolve, None)
    assert len(once.replies) == 1
    assert twice.replies == []
    assert twice.subject == once.subject


def test_an_unresolve_after_a_resolve_says_it_is_back() -> None:
    resolved = apply_issue_webhook(
        None, issue_hook(issue_body(action="resolved", status="resolved")), None
    ).subject
    body = issue_body(action="unresolved", substatus="regressed", actor=None)
    update = apply_issue_webhook(resolved, issue_hook(body), None)
    assert update.subject.status == "unresolved"
    assert update.replies == ["🔴 Unresolved again (regressed)."]


def test_a_late_created_does_not_reopen_a_resolved_issue() -> None:
    resolved = apply_issue_webhook(
        None, issue_hook(issue_body(action="resolved", status="resolved")), None
    ).subject
    update = apply_issue_webhook(resolved, issue_hook(issue_body(count="1")), None)
    assert update.subject.status == "resolved"
    assert update.replies == []


def test_counts_and_last_seen_never_go_backwards() -> None:
    newer = issue_body(count="40", lastSeen="2026-11-23T11:59:00Z")
    older = issue_body(count="3", lastSeen="2026-11-22T00:00:00Z")
    issue = apply_issue_webhook(None, issue_hook(newer), None).subject
    issue = apply_issue_webhook(issue, issue_hook(older), None).subject
    assert issue.event_count == 40
    assert issue.last_seen == datetime(2026, 11, 23, 11, 59, tzinfo=UTC)


def test_an_echo_of_a_change_made_from_slack_keeps_who_made_it() -> None:
    issue = apply_issue_webhook(None, issue_hook(issue_body()), None).subject
    issue.status, issue.last_action, issue.last_actor_slack_id = "resolved", "resolved", "U0ALICE"
    echo = issue_hook(issue_body(action="resolved", status="resolved", actor=SENTRY_APP))
    update = apply_issue_webhook(issue, echo, None)
    assert update.subject.last_actor_slack_id == "U0ALICE"
    assert update.replies == []


@pytest.mark.parametrize("bad_id", ["../../1", "1 2", "", "9" * 65, "1/issues/2"])
def test_issue_ids_that_could_escape_a_key_or_url_are_refused(bad_id: str) -> None:
    with pytest.raises(ValidationError):
        issue_hook(issue_body(bad_id))


def test_issue_ids_sent_as_integers_are_accepted_as_text() -> None:
    body = issue_body()
    body["data"]["issue"]["id"] = 5512349001
    assert card_id_for_issue(issue_hook(body).data.issue.id) == "sentry-issue-5512349001"


def test_tags_as_key_value_objects_read_like_pairs() -> None:
    event = SentryEvent.model_validate(
        {"tags": [{"key": "environment", "value": "prod"}, ["release", "1.2"]]}
    )
    assert event.tag("environment") == "prod"
    assert event.tag("release") == "1.2"


tag_items = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=5),
    st.lists(st.one_of(st.none(), st.integers(), st.text(max_size=5)), max_size=3),
    st.dictionaries(st.sampled_from(["key", "value", "x"]), st.one_of(st.none(), st.text())),
)


@given(st.lists(tag_items, max_size=8))
def test_malformed_tags_are_dropped_never_fatal(tags: list[Any]) -> None:
    event = SentryEvent.model_validate({"tags": tags})
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in event.tags)


def test_a_very_long_title_is_cut_not_refused() -> None:
    issue = fold("issue", issue_body(title="E" * 50_000))
    assert isinstance(issue, SentryIssue)
    assert 0 < len(issue.title) <= 8192


def test_an_absurdly_long_url_is_dropped_not_cut() -> None:
    hook = issue_hook(issue_body(web_url="https://sentry.example.net/" + "a" * 9000))
    assert hook.data.issue.web_url is None

"""Sentry cards: structure, buttons by status, Slack's limits, untrusted text kept as text."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.cards.common import ActionId, RenderContext
from bot.cards.render import render
from bot.emulator.blocks import validate_blocks
from bot.models.card import Ack, TriageCard
from bot.models.sentry import SentryIssue, SentryMetricAlert
from bot.sentry.payload import SentryEventAlertWebhook, SentryIssueWebhook, SentryMetricAlertWebhook
from bot.sentry.rules import apply_event_alert, apply_issue_webhook, apply_metric_alert
from tests.fixtures.sentry_payloads import QUIRKS, encode, issue_body, metric_alert_body

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
HOSTILE = "<!channel> <https://evil.example|bank> & <@U1>"
ISSUE_PAGE = "https://sentry.example.net/organizations/acme/issues/5512349001/"


def subject_for(resource: str, body: dict[str, Any]) -> SentryIssue | SentryMetricAlert:
    raw = encode(body)
    if resource == "issue":
        return apply_issue_webhook(None, SentryIssueWebhook.model_validate_json(raw), None).subject
    if resource == "event_alert":
        hook = SentryEventAlertWebhook.model_validate_json(raw)
        issue_id = hook.data.event.resolved_issue_id() or "1"
        return apply_event_alert(None, hook, issue_id, None).subject
    update = apply_metric_alert(None, SentryMetricAlertWebhook.model_validate_json(raw), NOW)
    assert update is not None
    return update.subject


def card_of(subject: SentryIssue | SentryMetricAlert, **extra: Any) -> TriageCard:
    return TriageCard(
        card_id="sentry-test",
        channel="C0ALERTS",
        subject=subject,
        created_at=NOW,
        updated_at=NOW,
        **extra,
    )


def issue(**changes: Any) -> SentryIssue:
    subject = subject_for("issue", issue_body())
    assert isinstance(subject, SentryIssue)
    return subject.model_copy(update=changes)


# Seawall as set up with SENTRY_API_TOKEN and SENTRY_ORG, so Resolve and Ignore can work.
WITH_SENTRY_API = RenderContext(sentry_api=True)


def blocks_of(card: TriageCard, context: RenderContext = WITH_SENTRY_API) -> list[dict[str, Any]]:
    return [b.to_dict() for b in render(card, NOW, context=context).blocks]


def header(card: TriageCard) -> str:
    first = blocks_of(card)[0]
    assert first["type"] == "header"
    return str(first["text"]["text"])


def button_ids(card: TriageCard, context: RenderContext = WITH_SENTRY_API) -> list[str]:
    actions = [b for b in blocks_of(card, context) if b["type"] == "actions"]
    return [e["action_id"] for e in actions[0]["elements"]] if actions else []


def fields(card: TriageCard) -> dict[str, str]:
    section = next(b for b in blocks_of(card) if b["type"] == "section" and "fields" in b)
    pairs = (f["text"].split("\n", 1) for f in section["fields"])
    return {name.strip("*"): value for name, value in pairs}


def mrkdwn_texts(blocks: list[dict[str, Any]]) -> list[str]:
    """Every text Slack parses as mrkdwn (where a mention or link would come alive)."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(str(node["text"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return found


@pytest.mark.parametrize(
    ("level", "icon"),
    [("fatal", "🔴"), ("error", "🔴"), ("warning", "🟠"), ("info", "🔵")],
)
def test_an_open_issue_header_shows_the_level_icon_level_and_title(level: str, icon: str) -> None:
    assert header(card_of(issue(level=level))) == f"{icon} {level.upper()} · KeyError: 'cart_id'"


@pytest.mark.parametrize(("status", "icon"), [("resolved", "🟢"), ("ignored", "🔕")])
def test_a_closed_issue_header_shows_its_status(status: str, icon: str) -> None:
    assert header(card_of(issue(status=status))).startswith(f"{icon} {status.upper()} · ")


def test_issue_card_shows_the_culprit_and_the_short_id() -> None:
    text = json.dumps(blocks_of(card_of(issue())))
    assert "CHECKOUT-API-1F" in text
    assert "checkout.views in apply_coupon" in text


def test_issue_card_fields_name_the_facts_an_on_call_engineer_needs() -> None:
    shown = fields(card_of(issue(environment="production", release="checkout@1.4.2")))
    assert list(shown) == [
        "Level",
        "Project",
        "Environment",
        "Release",
        "Events",
        "Users affected",
        "First seen",
        "Last seen",
        "Assigned to",
    ]
    assert shown["Events"] == "3"
    assert shown["Assigned to"] == "nobody"
    assert shown["Last seen"].startswith("<!date^")


def test_environment_and_release_are_left_out_when_unknown() -> None:
    shown = fields(card_of(issue()))
    assert "Environment" not in shown
    assert "Release" not in shown


def test_an_open_issue_offers_ack_resolve_ignore_and_a_link_to_sentry() -> None:
    card = card_of(issue(web_url=ISSUE_PAGE))
    assert button_ids(card) == [
        ActionId.ACK,
        ActionId.SENTRY_RESOLVE,
        ActionId.SENTRY_IGNORE_1H,
        "card.link.sentry",
    ]
    link = next(
        e for b in blocks_of(card) if b["type"] == "actions" for e in b["elements"] if e.get("url")
    )
    assert link["url"] == ISSUE_PAGE
    assert link["text"]["text"] == "Open in Sentry"


def test_a_resolved_issue_offers_neither_resolve_nor_ignore() -> None:
    ids = button_ids(card_of(issue(status="resolved")))
    assert ActionId.SENTRY_RESOLVE not in ids
    assert ActionId.SENTRY_IGNORE_1H not in ids


def test_an_ignored_issue_can_still_be_resolved_but_not_ignored_again() -> None:
    ids = button_ids(card_of(issue(status="ignored")))
    assert ActionId.SENTRY_RESOLVE in ids
    assert ActionId.SENTRY_IGNORE_1H not in ids


def test_without_sentry_api_access_an_issue_offers_neither_resolve_nor_ignore() -> None:
    card = card_of(issue(web_url=ISSUE_PAGE))
    assert button_ids(card, RenderContext()) == [ActionId.ACK, "card.link.sentry"]
    assert validate_blocks(blocks_of(card, RenderContext())) == []


def test_a_resolved_issue_offers_no_acknowledge() -> None:
    assert ActionId.ACK not in button_ids(card_of(issue(status="resolved")))


def test_an_ignored_issue_can_still_be_acknowledged() -> None:
    assert ActionId.ACK in button_ids(card_of(issue(status="ignored")))


def test_a_resolved_metric_alert_offers_no_acknowledge() -> None:
    alert = subject_for("metric_alert", metric_alert_body(action="resolved"))
    assert button_ids(card_of(alert)) == ["card.link.sentry"]


def test_an_issue_without_a_url_has_no_link_button() -> None:
    assert "card.link.sentry" not in button_ids(card_of(issue(web_url=None)))


def test_a_card_with_no_button_left_has_no_actions_block() -> None:
    card = card_of(issue(status="resolved"), ack=Ack(user_id="U0ALICE", at=NOW))
    assert [b for b in blocks_of(card) if b["type"] == "actions"] == []
    assert validate_blocks(blocks_of(card)) == []


def test_context_shows_status_substatus_and_who_acted() -> None:
    card = card_of(issue(substatus="archived_until_escalating", last_actor="Dana Okafor"))
    text = json.dumps(blocks_of(card), ensure_ascii=False)
    assert "Status: *unresolved* (archived until escalating)" in text
    assert "Last action: created by Dana Okafor" in text


def test_a_change_made_from_slack_names_the_slack_user() -> None:
    changed = issue(status="resolved", last_action="resolved", last_actor_slack_id="U0ALICE")
    assert "Last action: resolved by <@U0ALICE> from Slack" in json.dumps(
        blocks_of(card_of(changed))
    )


def test_acknowledgement_and_notes_appear_and_the_ack_button_goes() -> None:
    card = card_of(issue(), ack=Ack(user_id="U0BOB", at=NOW))
    card.add_note("Resolve failed: Sentry answered HTTP 500; nothing was changed in Sentry.", NOW)
    text = json.dumps(blocks_of(card))
    assert "Acknowledged by <@U0BOB>" in text
    assert "nothing was changed in Sentry" in text
    assert ActionId.ACK not in button_ids(card)


def test_the_rule_that_fired_is_named() -> None:
    text = json.dumps(blocks_of(card_of(issue(triggered_rule="New errors in checkout"))))
    assert "New errors in checkout" in text


def test_metric_alert_card_shows_status_rule_description_and_times() -> None:
    alert = subject_for("metric_alert", metric_alert_body())
    blocks = blocks_of(card_of(alert))
    assert blocks[0]["text"]["text"] == "🔴 CRITICAL · Checkout error rate"
    text = json.dumps(blocks, ensure_ascii=False)
    assert "*Critical: Checkout error rate*" in text
    assert "312 events in the last 5 minutes\\nFilter: level:error" in text  # a real line break
    assert "Started <!date^" in text


def test_metric_alert_card_offers_only_acknowledge_and_the_link() -> None:
    card = card_of(subject_for("metric_alert", metric_alert_body()))
    assert button_ids(card) == [ActionId.ACK, "card.link.sentry"]


def test_a_resolved_metric_alert_is_green_and_says_when_it_closed() -> None:
    alert = subject_for("metric_alert", metric_alert_body(action="resolved"))
    blocks = blocks_of(card_of(alert))
    assert blocks[0]["text"]["text"].startswith("🟢 RESOLVED")
    assert "closed <!date^" in json.dumps(blocks)


def test_a_metric_alert_without_dates_says_when_seawall_first_heard_of_it() -> None:
    alert = subject_for(*QUIRKS["metric_alert_critical_mock_shape"])
    assert "First reported to Seawall" in json.dumps(blocks_of(card_of(alert)))


@pytest.mark.parametrize("name", sorted(QUIRKS))
def test_every_quirk_renders_within_slack_limits(name: str) -> None:
    card = card_of(subject_for(*QUIRKS[name]))
    assert validate_blocks(blocks_of(card)) == []
    assert render(card, NOW).text


def test_huge_texts_are_cut_to_slack_limits() -> None:
    long = "x" * 20_000
    subject = issue(
        title=long,
        culprit=long,
        short_id=long,
        project_slug=long,
        environment=long,
        release=long,
        assigned_to=long,
        last_actor=long,
        triggered_rule=long,
        substatus=long,
    )
    card = card_of(subject, ack=Ack(user_id="U0ALICE", at=NOW))
    for _ in range(8):
        card.add_note(long, NOW)
    assert validate_blocks(blocks_of(card)) == []
    alert = subject_for("metric_alert", metric_alert_body(description_text=long))
    assert isinstance(alert, SentryMetricAlert)
    alert = alert.model_copy(update={"description_title": long, "rule_name": long, "title": long})
    assert validate_blocks(blocks_of(card_of(alert))) == []


def test_a_hostile_title_stays_text() -> None:
    subject = issue(
        title=HOSTILE, culprit=HOSTILE, assigned_to=HOSTILE, last_actor=HOSTILE, release=HOSTILE
    )
    card = card_of(subject)
    message = render(card, NOW)
    blocks = blocks_of(card)
    parsed = [*mrkdwn_texts(blocks), message.text]
    for text in parsed:
        assert "<!channel>" not in text
        assert "<https://evil" not in text
        assert "<@U1>" not in text
    assert any("&lt;!channel&gt;" in text for text in parsed)
    # The header shows the title as typed: plain_text, which Slack never turns into pings.
    assert blocks[0]["text"]["type"] == "plain_text"
    assert blocks[0]["text"]["text"] == f"🔴 ERROR · {HOSTILE}"


def test_a_hostile_metric_alert_description_stays_text() -> None:
    alert = subject_for("metric_alert", metric_alert_body(description_title=HOSTILE))
    card = card_of(alert)
    for text in [*mrkdwn_texts(blocks_of(card)), render(card, NOW).text]:
        assert "<!channel>" not in text
        assert "<@U1>" not in text

"""Alert group cards: structure, Slack's limits, and untrusted text kept as text."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.alerts.payload import AlertmanagerWebhook
from bot.alerts.rules import apply_notification, card_id_for_group
from bot.cards.alert_group import NO_RECORD
from bot.cards.common import ActionId, escape, truncate, usable_url
from bot.cards.render import render
from bot.emulator.blocks import validate_blocks
from bot.models.alert import AlertGroup
from bot.models.card import Ack, TriageCard
from tests.fixtures.alertmanager_payloads import QUIRKS, group_payload

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def card_for(raw: bytes | dict[str, Any], **extra: Any) -> TriageCard:
    body = raw if isinstance(raw, bytes) else json.dumps(raw).encode()
    hook = AlertmanagerWebhook.model_validate_json(body)
    group = apply_notification(None, hook, NOW).group
    return TriageCard(
        card_id=card_id_for_group(hook.group_key),
        channel="C0ALERTS",
        subject=group,
        created_at=NOW,
        updated_at=NOW,
        **extra,
    )


def blocks_of(card: TriageCard) -> list[dict[str, Any]]:
    return [b.to_dict() for b in render(card, NOW).blocks]


def all_text(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_firing_card_shows_status_severity_and_name_in_the_header() -> None:
    header = blocks_of(card_for(group_payload("HighLatency")))[0]
    assert header["type"] == "header"
    assert header["text"]["text"] == "🔴 FIRING · critical · HighLatency"


def test_resolved_card_is_green() -> None:
    card = card_for(group_payload("Disk", status="resolved", alerts=0, resolved=1))
    assert blocks_of(card)[0]["text"]["text"].startswith("🟢 RESOLVED")


def test_card_offers_ack_silence_incident_and_links() -> None:
    blocks = blocks_of(
        card_for(QUIRKS["resolved_with_runbook"].replace(b'"resolved"', b'"firing"'))
    )
    actions = next(b for b in blocks if b["type"] == "actions")["elements"]
    ids = [e["action_id"] for e in actions]
    assert ids[:3] == [ActionId.ACK, ActionId.SILENCE_1H, ActionId.DECLARE_INCIDENT]
    urls = {e["action_id"]: e.get("url") for e in actions}
    assert urls["card.link.runbook"] == "https://runbooks.example.net/cputhrottlinghigh"


def test_acknowledged_card_names_who_and_drops_the_button() -> None:
    card = card_for(group_payload("Disk"), ack=Ack(user_id="U0ALICE", at=NOW))
    blocks = blocks_of(card)
    assert "Acknowledged by <@U0ALICE>" in all_text(blocks)
    actions = next(b for b in blocks if b["type"] == "actions")["elements"]
    assert ActionId.ACK not in [e["action_id"] for e in actions]


def test_broken_urls_become_no_buttons() -> None:
    blocks = blocks_of(card_for(QUIRKS["spaces_in_alertname_empty_host"]))
    actions = next(b for b in blocks if b["type"] == "actions")["elements"]
    assert "card.link.alertmanager" not in [e["action_id"] for e in actions]
    assert usable_url("https:///console") is None
    assert usable_url("http://:9093") is None


def test_truncated_alerts_are_announced() -> None:
    assert "left out 2 more alerts" in all_text(
        blocks_of(card_for(QUIRKS["truncated_without_alertname"]))
    )


def test_every_quirky_payload_renders_within_slack_limits() -> None:
    for name, raw in QUIRKS.items():
        errors = validate_blocks(blocks_of(card_for(raw)))
        assert errors == [], f"{name}: {errors}"


def test_mentions_and_links_in_annotations_stay_text() -> None:
    hostile = "<!channel> click <https://evil.example|your bank> & <@U0BOSS>"
    card = card_for(group_payload("Evil", summary=hostile))
    text = all_text(blocks_of(card)) + render(card, NOW).text
    assert "<!channel>" not in text
    assert "<https://evil" not in text
    assert "<@U0BOSS>" not in text
    assert "&lt;!channel&gt;" in text


def test_braces_are_shown_verbatim() -> None:
    text = all_text(blocks_of(card_for(QUIRKS["braces_and_leading_whitespace"])))
    assert "No things for {minutes} minutes" in text


@given(st.text(max_size=400), st.integers(min_value=5, max_value=300))
def test_truncate_never_exceeds_the_limit_nor_splits_an_entity(text: str, limit: int) -> None:
    result = truncate(escape(text), limit)
    assert len(result) <= limit
    tail = result[result.rfind("&") :] if "&" in result else ""
    assert not tail or ";" in tail or tail == "&"  # an ampersand only as the start of an entity


@given(st.text(max_size=2000))
def test_escape_leaves_no_raw_angle_brackets(text: str) -> None:
    escaped = escape(text)
    assert "<" not in escaped
    assert ">" not in escaped


def test_a_group_first_heard_of_resolved_says_its_state_may_have_been_lost() -> None:
    blocks = blocks_of(card_for(group_payload("Disk", status="resolved", alerts=0, resolved=2)))
    assert validate_blocks(blocks) == []
    assert blocks[1]["text"]["text"] == NO_RECORD


def test_a_group_seen_firing_first_has_no_such_notice() -> None:
    assert NO_RECORD not in all_text(blocks_of(card_for(group_payload("Disk"))))


def test_resolved_alerts_that_left_the_group_are_still_counted_on_the_card() -> None:
    card = card_for(group_payload("PodCrash", alerts=1, resolved=2))
    assert isinstance(card.subject, AlertGroup)
    card.subject.resolved_dropped = 3_950
    card.subject.first_starts_at = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    text = all_text(blocks_of(card))
    assert "*1 firing* · 3,952 resolved" in text
    assert "3,950 older resolved alerts are counted here but no longer listed" in text
    assert "since <!date^1795161600^" in text  # the earliest start, though its alert left


def mixed_group(common: dict[str, str] | None = None) -> dict[str, Any]:
    """Two alerts of one group that say different things (the new user's 502 card)."""
    payload = group_payload("GatewayErrors", alerts=2)
    alerts: list[dict[str, Any]] = payload["alerts"]  # type: ignore[assignment]
    first, second = alerts
    first["annotations"] = {"summary": "5xx rate 3%"}
    first["labels"]["severity"] = "warning"
    second["annotations"] = {"summary": "web-1 upstream errors"}
    second["annotations"]["description"] = "returns 502 for 1 in 8"
    payload["commonLabels"] = {"alertname": "GatewayErrors"}
    payload["commonAnnotations"] = common or {}
    return payload


def body_lines(card: TriageCard) -> list[str]:
    """The lines of the section right under the header."""
    text: str = blocks_of(card)[1]["text"]["text"]
    return text.splitlines()


def test_a_group_without_a_common_summary_says_how_many_alerts_worst_first() -> None:
    card = card_for(mixed_group())
    lines = body_lines(card)
    assert lines[0] == "*2 alerts: worst first*"
    assert lines[1].startswith("🔥 `instance=web-1, severity=critical`")
    assert lines[1].endswith("web-1 upstream errors")
    assert "5xx rate 3%" not in lines[1]
    assert render(card, NOW).text == "FIRING: GatewayErrors — 2 alerts"
    assert validate_blocks(blocks_of(card)) == []


def test_the_headline_never_joins_one_alerts_summary_to_anothers_description() -> None:
    card = card_for(mixed_group())
    first_two = "\n".join(body_lines(card)[:2])
    assert not ("5xx rate 3%" in first_two and "returns 502 for 1 in 8" in first_two)
    assert "*5xx rate 3%*" not in all_text(blocks_of(card))


def test_a_common_summary_comes_only_with_the_common_description() -> None:
    card = card_for(mixed_group({"summary": "Gateway 5xx errors"}))
    assert body_lines(card) == ["*Gateway 5xx errors*"]
    with_description = card_for(
        mixed_group({"summary": "Gateway 5xx errors", "description": "See the gateway board"})
    )
    assert body_lines(with_description) == ["*Gateway 5xx errors*", "See the gateway board"]


def test_alerts_are_listed_worst_first_by_severity_then_start_time() -> None:
    payload = group_payload("PodCrash", alerts=3)
    alerts: list[dict[str, Any]] = payload["alerts"]  # type: ignore[assignment]
    alerts[0]["labels"]["severity"] = "warning"
    alerts[0]["startsAt"] = "2026-11-23T09:00:00Z"  # the oldest, but only a warning
    alerts[1]["startsAt"] = "2026-11-23T11:00:00Z"
    alerts[2]["startsAt"] = "2026-11-23T10:00:00Z"
    payload["commonAnnotations"] = {}
    payload["commonLabels"] = {"alertname": "PodCrash"}
    lines = body_lines(card_for(payload))
    assert [line.split("`")[1].split(",")[0] for line in lines[1:]] == [
        "instance=web-2",
        "instance=web-1",
        "instance=web-0",
    ]


def test_a_resolved_group_offers_no_acknowledge() -> None:
    card = card_for(group_payload("Disk", status="resolved", alerts=0, resolved=1))
    actions = [b for b in blocks_of(card) if b["type"] == "actions"]
    ids = [e["action_id"] for b in actions for e in b["elements"]]
    assert ActionId.ACK not in ids
    assert ActionId.DECLARE_INCIDENT in ids

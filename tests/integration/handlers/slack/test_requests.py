"""Requests from Slack: signatures, the replay window, retries and buttons on cards."""

from __future__ import annotations

import json
import time

import pytest
import redis

from bot.alerts.actions import STALE_CONFIRMATION
from bot.alerts.rules import card_id_for_group
from bot.cards.common import ActionId, CardRef
from bot.emulator.payloads import sign
from bot.models.alert import matchers_digest
from tests.conftest import StackFactory
from tests.fixtures.alertmanager_payloads import group_payload
from tests.support.redis_server import RedisServer
from tests.support.stack import (
    CHANNEL,
    SIGNING_SECRET,
    SeawallStack,
    button_value,
    click,
    declare_from_card,
)
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def metric(stack: SeawallStack, line_start: str) -> float:
    for line in stack.http.get(f"{stack.url}/metrics").text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def posted_card(stack: SeawallStack, name: str = "Disk"):
    stack.post_alertmanager(group_payload(name))
    [card] = wait_until(stack.messages, what="the card")
    return card


def card_text(stack: SeawallStack, ts: str) -> str:
    return json.dumps(stack.emulator.message(CHANNEL, ts).blocks)


def test_a_signed_slash_command_is_acked_then_answered(stack: SeawallStack) -> None:
    response = stack.sender.slash_command("/incident", "help")
    assert response.status_code == 200
    [answer] = wait_until(lambda: stack.emulator.ephemerals, what="the help text")
    assert "/incident" in answer.text


def test_unknown_slash_command_text_is_echoed_escaped(stack: SeawallStack) -> None:
    response = stack.sender.slash_command("/oncall", "<!channel> run")
    assert response.status_code == 200
    [answer] = wait_until(lambda: stack.emulator.ephemerals, what="the help text")
    assert "&lt;!channel&gt;" in answer.text
    assert "<!channel>" not in answer.text


def test_a_forged_signature_is_refused(stack: SeawallStack) -> None:
    response = stack.sender.slash_command("/incident", "help", signing_secret="not-the-secret")
    assert response.status_code == 401
    assert metric(stack, "seawall_slack_requests_rejected_total") == 1


def test_a_request_older_than_five_minutes_is_refused(stack: SeawallStack) -> None:
    response = stack.sender.slash_command("/incident", "help", timestamp=int(time.time()) - 301)
    assert response.status_code == 401


def test_a_request_just_inside_the_window_is_accepted(stack: SeawallStack) -> None:
    response = stack.sender.slash_command("/incident", "help", timestamp=int(time.time()) - 240)
    assert response.status_code == 200


def test_url_verification_echoes_the_challenge(stack: SeawallStack) -> None:
    response = stack.sender.url_verification("challenge-abc")
    assert response.status_code == 200
    assert "challenge-abc" in response.text


def test_a_retried_event_is_handled_once(stack: SeawallStack) -> None:
    event = {
        "type": "reaction_added",
        "user": "U0ALICE",
        "reaction": "+1",
        "item": {"type": "message", "channel": CHANNEL, "ts": "1.000001"},
        "event_ts": "1.000002",
    }
    first = stack.sender.event(event, event_id="Ev0001")
    retry = stack.sender.event(event, event_id="Ev0001", retry_num=1, retry_reason="http_timeout")
    assert (first.status_code, retry.status_code) == (200, 200)
    assert metric(stack, 'seawall_slack_events_total{outcome="handled"') == 1
    assert metric(stack, 'seawall_slack_events_total{outcome="duplicate"') == 1


def test_an_event_without_event_id_is_still_deduplicated(stack: SeawallStack) -> None:
    # Recorded real payloads sometimes lack event_id; the event's content identifies it.
    body = json.dumps(
        {
            "team_id": "T0SEAWALL",
            "type": "event_callback",
            "event": {
                "type": "reaction_added",
                "user": "U0ALICE",
                "reaction": "+1",
                "item": {"type": "message", "channel": CHANNEL, "ts": "1.000001"},
                "event_ts": "1.000003",
            },
        }
    ).encode()
    for retry in ("", "1"):
        ts = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": sign(body, ts, SIGNING_SECRET),
        }
        if retry:
            headers["X-Slack-Retry-Num"] = retry
        response = stack.http.post(f"{stack.url}/slack/events", content=body, headers=headers)
        assert response.status_code == 200
    assert metric(stack, 'seawall_slack_events_total{outcome="duplicate"') == 1


def test_an_event_during_a_redis_outage_is_left_for_slack_to_retry(
    stack: SeawallStack, redis_server: RedisServer
) -> None:
    redis_server.kill()
    event = {
        "type": "reaction_added",
        "user": "U0ALICE",
        "reaction": "eyes",
        "item": {"type": "message", "channel": CHANNEL, "ts": "1.0"},
        "event_ts": "2.0",
    }
    assert stack.sender.event(event, event_id="Ev0002").status_code >= 500


def test_acknowledge_shows_who_on_the_card_and_a_double_click_counts_once(
    stack: SeawallStack,
) -> None:
    card = posted_card(stack)
    assert click(stack, card, ActionId.ACK, "U0ALICE").status_code == 200
    assert click(stack, card, ActionId.ACK, "U0BOB").status_code == 200
    wait_until(lambda: "Acknowledged by <@U0ALICE>" in card_text(stack, card.ts), what="ack shown")
    wait_until(lambda: len(stack.emulator.ephemerals) == 2, what="both clicks answered")
    texts = sorted(e.text for e in stack.emulator.ephemerals)
    assert texts[0].startswith("Acknowledged")
    assert texts[1].startswith("Already acknowledged by <@U0ALICE>")
    wait_until(lambda: stack.emulator.message(CHANNEL, card.ts).replies, what="ack reply")
    assert len(stack.emulator.message(CHANNEL, card.ts).replies) == 1


def test_declare_incident_on_a_card_declares_one_and_shows_it_on_the_card(
    stack: SeawallStack,
) -> None:
    card = posted_card(stack)
    declare_from_card(stack, card, "U0BOB")
    [answer] = wait_until(lambda: stack.emulator.ephemerals, what="ephemeral answer")
    [create] = stack.emulator.calls_to("conversations.create")
    channel = create.response["channel"]["id"]
    assert f"Incident <#{channel}> declared" in answer.text
    wait_until(
        lambda: f"Incident <#{channel}> declared by <@U0BOB>" in card_text(stack, card.ts),
        what="the incident on the card",
    )


def test_silence_without_alertmanager_url_explains_and_changes_nothing(
    stack: SeawallStack,
) -> None:
    card = posted_card(stack)
    click(stack, card, ActionId.SILENCE_1H)
    [answer] = wait_until(lambda: stack.emulator.ephemerals, what="ephemeral answer")
    assert "ALERTMANAGER_URL is unset" in answer.text


def test_silence_anyway_after_the_group_changed_is_refused(make_stack: StackFactory) -> None:
    # Refused before Alertmanager is asked anything: nothing listens on this URL.
    stack = make_stack(alertmanager_url="http://127.0.0.1:9")
    card = posted_card(stack)
    asked_about = matchers_digest(
        {"alertname": "Disk", "severity": "critical", "instance": "web-0"}
    )
    # A second alert joins the group: the matchers the clicker saw no longer describe it.
    stack.post_alertmanager(group_payload("Disk", alerts=2))
    stack.sender.block_action(
        action_id=ActionId.SILENCE_CONFIRM,
        value=CardRef(
            c=card_id_for_group('{}:{alertname="Disk"}'), d=asked_about
        ).model_dump_json(),
        user_id="U0ALICE",
        channel_id=CHANNEL,
        message_ts=card.ts,
    )
    [answer] = wait_until(lambda: stack.emulator.ephemerals, what="ephemeral answer")
    assert answer.text == STALE_CONFIRMATION


def test_a_button_without_a_value_is_answered_harmlessly(stack: SeawallStack) -> None:
    card = posted_card(stack)
    response = stack.sender.block_action(
        action_id=ActionId.ACK,
        value=None,
        user_id="U0ALICE",
        channel_id=CHANNEL,
        message_ts=card.ts,
    )
    assert response.status_code == 200
    [answer] = wait_until(lambda: stack.emulator.ephemerals, what="ephemeral answer")
    assert "not attached to a Seawall card" in answer.text


def test_link_buttons_are_acknowledged(stack: SeawallStack) -> None:
    card = posted_card(stack)
    response = stack.sender.block_action(
        action_id="card.link.source",
        value=None,
        user_id="U0ALICE",
        channel_id=CHANNEL,
        message_ts=card.ts,
    )
    assert response.status_code == 200


def test_health_ready_and_metrics_endpoints(stack: SeawallStack, redis_server: RedisServer) -> None:
    assert stack.http.get(f"{stack.url}/healthz").status_code == 200
    ready = stack.http.get(f"{stack.url}/readyz")
    assert ready.status_code == 200, ready.text
    assert "seawall_http_requests_total" in stack.http.get(f"{stack.url}/metrics").text
    redis_server.kill()
    not_ready = stack.http.get(f"{stack.url}/readyz")
    assert not_ready.status_code == 503
    assert "Redis" in not_ready.json()["problems"][0]


def test_an_unexpected_failure_tells_the_clicker_nothing_changed_with_an_error_id(
    stack: SeawallStack,
) -> None:
    card = posted_card(stack)
    card_id = json.loads(button_value(card, ActionId.ACK))["c"]
    # State an older or newer release might have written, that this one cannot read.
    client = redis.Redis.from_url(stack.deps.settings.redis_url)
    client.set(f"seawall:card:{{{card_id}}}", '{"schema_version": 99}')
    client.close()
    assert click(stack, card, ActionId.ACK).status_code == 200
    [answer] = wait_until(lambda: stack.emulator.ephemerals, what="ephemeral answer")
    assert answer.text.startswith("Seawall failed to handle that; nothing was changed.")
    assert "error id" in answer.text


def test_an_unreadable_card_does_not_block_the_rest_of_the_channel(stack: SeawallStack) -> None:
    card = posted_card(stack, "First")
    card_id = json.loads(button_value(card, ActionId.ACK))["c"]
    client = redis.Redis.from_url(stack.deps.settings.redis_url)
    client.set(f"seawall:card:{{{card_id}}}", "not json")
    client.zadd("seawall:outbox:C0ALERTS", {card_id: 0})
    client.sadd("seawall:outbox:channels", "C0ALERTS")
    client.close()
    stack.post_alertmanager(group_payload("Second"))
    wait_until(lambda: len(stack.messages()) == 2, what="the second card")


def test_a_card_that_cannot_be_rendered_does_not_block_the_rest_of_the_channel(
    stack: SeawallStack,
) -> None:
    card = posted_card(stack, "First")
    card_id = json.loads(button_value(card, ActionId.ACK))["c"]
    client = redis.Redis.from_url(stack.deps.settings.redis_url)
    stored = json.loads(client.get(f"seawall:card:{{{card_id}}}"))
    # Valid to the model, poison to the card: one alert's start has no timezone (state an
    # older release might have written), so comparing start times raises while rendering.
    [alert] = stored["subject"]["alerts"].values()
    stored["subject"]["alerts"]["naive"] = {
        **alert,
        "fingerprint": "naive",
        "starts_at": "2026-11-23T10:00:00",
    }
    stored["revision"] += 1
    client.set(f"seawall:card:{{{card_id}}}", json.dumps(stored))
    client.set(f"seawall:card:{{{card_id}}}:rev", stored["revision"])
    client.zadd("seawall:outbox:C0ALERTS", {card_id: 0})
    client.sadd("seawall:outbox:channels", "C0ALERTS")
    stack.post_alertmanager(group_payload("Second"))
    wait_until(lambda: len(stack.messages()) == 2, what="the second card")
    assert any(b"render-failed" in m for m in client.zrange("seawall:outbox:dead", 0, -1))
    client.close()


def test_an_interaction_seawall_does_not_know_is_acked_and_logged_once(
    stack: SeawallStack, caplog: pytest.LogCaptureFixture
) -> None:
    posted = posted_card(stack)
    for _ in range(2):  # an old card's button after an upgrade, clicked twice
        response = stack.sender.block_action(
            action_id="card.retired_button",
            value=None,
            user_id="U0ALICE",
            channel_id=CHANNEL,
            message_ts=posted.ts,
        )
        assert response.status_code == 200
    event = stack.sender.event({"type": "app_home_opened", "user": "U0ALICE", "tab": "home"})
    assert event.status_code == 200
    loud = [
        r.getMessage()
        for r in caplog.records
        if r.name == "seawall.slack.unknown" and r.levelname == "WARNING"
    ]
    assert loud == [
        "ignored a button or menu Seawall does not know: 'card.retired_button' (acknowledged)",
        "ignored a event Seawall does not know: 'app_home_opened' (acknowledged)",
    ]

"""Hostile requests the other suites leave out: replayed and tampered deliveries, timestamps
moved around a valid signature, times that broke the intake, and Slack markup in playbook
parameters. Every refusal leaves Redis as it was and nothing reaches Slack.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any, cast

import pytest
import redis

from bot.core.config import FileConfig
from bot.emulator.payloads import build_slash_command
from tests.conftest import StackFactory
from tests.fixtures.alertmanager_payloads import group_payload
from tests.fixtures.sentry_payloads import encode, issue_body, sentry_headers
from tests.support.redis_server import state_keys
from tests.support.stack import CHANNEL, SENTRY_SECRET, SIGNING_SECRET, SeawallStack
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

SAMPLE_PLAYBOOKS = FileConfig(playbook_modules=["tests.fixtures.sample_playbook"])
SLACK_MARKUP = ("<!channel>", "<!here>", "<@U0BOB>", "<https://evil.example|", "<#C0ALERTS>")


@pytest.fixture
def store(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def seawall_state(store: redis.Redis) -> dict[bytes, bytes | None]:
    return {key: store.dump(key) for key in state_keys(store)}


def post_sentry(stack: SeawallStack, raw: bytes, headers: dict[str, str]) -> Any:
    return stack.http.post(f"{stack.url}/webhooks/sentry", content=raw, headers=headers)


def the_answer(stack: SeawallStack) -> str:
    [answer] = wait_until(lambda: stack.emulator.ephemerals, what="the ephemeral answer")
    return answer.text


# --- Sentry: a captured delivery replayed ----------------------------------------------------


def test_a_replayed_sentry_body_with_one_byte_changed_is_refused_and_changes_nothing(
    stack: SeawallStack, store: redis.Redis
) -> None:
    raw = encode(issue_body(action="resolved", status="resolved"))
    headers = sentry_headers(raw, "issue", SENTRY_SECRET)
    tampered = raw.replace(b'"resolved"', b'"ignored"', 1)
    assert tampered != raw

    response = post_sentry(stack, tampered, headers)
    assert response.status_code == 401
    assert response.text == "wrong Sentry-Hook-Signature\n"
    assert seawall_state(store) == {}
    flipped = raw[:-2] + bytes([raw[-2] ^ 0x01]) + raw[-1:]  # one bit, inside the JSON
    assert post_sentry(stack, flipped, headers).status_code == 401
    assert seawall_state(store) == {}
    assert stack.emulator.calls_to("chat.postMessage") == []


def test_a_replayed_sentry_delivery_without_request_id_is_recognised_as_a_repeat(
    make_stack: StackFactory, store: redis.Redis
) -> None:
    stack = make_stack(poster=False, worker=False)  # nothing else writes while we compare
    raw = encode(issue_body())
    headers = sentry_headers(raw, "issue", SENTRY_SECRET)
    del headers["Request-ID"]  # a proxy dropped it: the body's digest identifies the delivery
    assert post_sentry(stack, raw, headers).json()["outcome"] == "created"
    state = seawall_state(store)
    replay = post_sentry(stack, raw, headers)
    assert replay.json()["outcome"] == "duplicate"
    assert seawall_state(store) == state


def test_a_replay_under_a_fresh_request_id_changes_nothing_on_the_card(
    stack: SeawallStack,
) -> None:
    raw = encode(issue_body(action="resolved", status="resolved"))
    first = post_sentry(stack, raw, sentry_headers(raw, "issue", SENTRY_SECRET, "1" * 32))
    assert first.json()["outcome"] == "created"
    replay = post_sentry(stack, raw, sentry_headers(raw, "issue", SENTRY_SECRET, "2" * 32))
    # Sentry signs only the body: the same body is the same delivery, whatever its Request-ID.
    assert replay.json()["outcome"] == "duplicate"


# --- Slack: timestamps moved around a valid signature ----------------------------------------


def signed_command(stack: SeawallStack, timestamp: int) -> tuple[bytes, dict[str, str]]:
    sender = stack.sender
    request = build_slash_command(
        signing_secret=SIGNING_SECRET,
        team=sender.team,
        command="/incident",
        text="help",
        user_id="U0ALICE",
        user_name="alice",
        channel_id=CHANNEL,
        channel_name="alerts",
        response_url=sender.issue_response_url(CHANNEL, "U0ALICE", None),
        trigger_id=sender.issue_trigger_id(),
        timestamp=timestamp,
    )
    return request.body, dict(request.headers)


def test_a_captured_slack_request_resent_with_a_fresh_timestamp_is_refused(
    stack: SeawallStack,
) -> None:
    old = int(time.time()) - 400  # outside the window: refused as it is
    body, headers = signed_command(stack, old)
    headers["X-Slack-Request-Timestamp"] = str(int(time.time()))
    response = stack.http.post(stack.sender.bot_url, content=body, headers=headers)
    assert response.status_code == 401
    assert stack.emulator.ephemerals == []


def test_a_slack_request_dated_more_than_five_minutes_ahead_is_refused(
    stack: SeawallStack,
) -> None:
    response = stack.sender.slash_command("/incident", "help", timestamp=int(time.time()) + 301)
    assert response.status_code == 401


# --- times that used to break the intake ----------------------------------------------------


def test_alert_times_without_an_offset_are_read_as_utc_and_the_card_lands(
    stack: SeawallStack,
) -> None:
    payload = group_payload("Clock", alerts=2)
    first, second = cast("list[dict[str, Any]]", payload["alerts"])
    first["startsAt"] = "2026-11-23T10:00:00"  # no offset, beside one with Z
    second.pop("status")  # status inferred from endsAt, compared with the receive time
    second["endsAt"] = "2099-01-01T00:00:00"
    response = stack.post_alertmanager(payload)
    assert response.status_code == 200, response.text
    [card] = wait_until(stack.messages, what="the card")
    assert "*2 firing*" in json.dumps(card.blocks)
    assert "2026-11-23 10:00 UTC" in json.dumps(card.blocks)


def test_a_time_that_leaves_the_calendar_in_utc_is_refused_and_changes_nothing(
    stack: SeawallStack, store: redis.Redis
) -> None:
    payload = group_payload("Clock")
    [alert] = cast("list[dict[str, Any]]", payload["alerts"])
    alert["startsAt"] = "0001-01-01T00:00:00+05:00"
    response = stack.post_alertmanager(payload)
    assert response.status_code == 422
    assert "alerts.0.startsAt" in response.text
    assert seawall_state(store) == {}


def test_sentry_times_in_mixed_forms_update_one_card(stack: SeawallStack) -> None:
    created = encode(issue_body(lastSeen="2026-11-23T11:58:41"))  # no offset
    resolved = encode(issue_body(action="resolved", status="resolved"))
    for raw in (created, resolved):
        response = post_sentry(stack, raw, sentry_headers(raw, "issue", SENTRY_SECRET))
        assert response.status_code == 200, response.text
    wait_until(
        lambda: (m := stack.messages()) and "RESOLVED" in m[0].blocks[0]["text"]["text"],
        what="the resolved card",
    )


# --- Slack markup in playbook parameters -----------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        '"<!channel>"',
        "web-1 <@U0BOB>=1",
        "web-1 <https://evil.example|click-here>",
        "<!here> pause=1",
        "web-1 pause=<#C0ALERTS>",
    ],
)
def test_slack_markup_in_playbook_parameters_comes_back_escaped_and_starts_nothing(
    make_stack: StackFactory, args: str
) -> None:
    stack = make_stack(file_config=SAMPLE_PLAYBOOKS)
    stack.sender.slash_command("/playbook", f"sample {args}")
    text = the_answer(stack)
    assert text.startswith("Nothing was started")
    assert not any(markup in text for markup in SLACK_MARKUP), text
    assert "&lt;" in text
    assert stack.messages() == []


def test_slack_markup_as_a_quarantine_target_comes_back_escaped(stack: SeawallStack) -> None:
    stack.sender.slash_command("/incident", "quarantine <@U0BOB|bob>")
    text = the_answer(stack)
    assert text.startswith("Nothing was started")
    assert "&lt;@U0BOB|bob&gt;" in text
    assert "<@U0BOB" not in text

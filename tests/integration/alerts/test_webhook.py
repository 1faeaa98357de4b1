"""POST /webhooks/alertmanager through the real app, real Redis and the Slack emulator."""

from __future__ import annotations

import json

import pytest
import redis

from tests.conftest import StackFactory
from tests.fixtures.alertmanager_payloads import QUIRKS, group_payload
from tests.support.redis_server import RedisServer, state_keys
from tests.support.stack import ALERTMANAGER_TOKEN, CHANNEL, SeawallStack
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def seawall_keys(stack: SeawallStack) -> list[str]:
    client = redis.Redis.from_url(stack.deps.settings.redis_url)
    try:
        return [k.decode() for k in state_keys(client)]
    finally:
        client.close()


def wait_for_messages(stack: SeawallStack, count: int, channel: str = CHANNEL) -> list:
    return wait_until(
        lambda: (m := stack.messages(channel)) and len(m) >= count and m,
        what=f"{count} message(s) in {channel}",
    )


def test_a_notification_becomes_one_card(stack: SeawallStack) -> None:
    response = stack.post_alertmanager(group_payload("HighLatency", alerts=2))
    assert response.status_code == 200
    assert response.json()["outcome"] == "created"
    [message] = wait_for_messages(stack, 1)
    assert message.blocks[0]["text"]["text"] == "🔴 FIRING · critical · HighLatency"
    assert "2 firing" in json.dumps(message.blocks)


@pytest.mark.parametrize("name", sorted(QUIRKS))
def test_every_real_world_payload_shape_gets_a_card(stack: SeawallStack, name: str) -> None:
    response = stack.post_alertmanager(QUIRKS[name])
    assert response.status_code == 200, response.text
    [message] = wait_for_messages(stack, 1)
    assert message.blocks[0]["type"] == "header"


def test_a_retried_delivery_creates_no_second_card(stack: SeawallStack) -> None:
    payload = group_payload("Disk")
    first = stack.post_alertmanager(payload)
    retry = stack.post_alertmanager(payload)
    assert first.json()["outcome"] == "created"
    assert retry.json()["outcome"] == "duplicate"
    wait_for_messages(stack, 1)
    wait_until(lambda: stack.deps.redis and not _outbox_busy(stack), what="outbox drained")
    assert len(stack.messages()) == 1
    assert len(stack.emulator.calls_to("chat.postMessage")) == 1


def _outbox_busy(stack: SeawallStack) -> bool:
    return any(k.startswith("seawall:outbox:C") for k in seawall_keys(stack))


def test_resolve_updates_the_same_message_and_replies_once_in_its_thread(
    stack: SeawallStack,
) -> None:
    stack.post_alertmanager(group_payload("Disk", alerts=1))
    [card] = wait_for_messages(stack, 1)
    resolved = group_payload("Disk", status="resolved", alerts=0, resolved=1)
    stack.post_alertmanager(resolved)
    stack.post_alertmanager(resolved)  # a retry of the resolve: no second reply
    wait_until(
        lambda: (
            (m := stack.emulator.message(CHANNEL, card.ts))
            and m.blocks[0]["text"]["text"].startswith("🟢 RESOLVED")
            and m
        ),
        what="card shows resolved",
    )
    wait_until(lambda: len(message_replies(stack, card.ts)) == 1, what="one thread reply")
    assert len(stack.messages()) == 1
    assert "Resolved at" in message_replies(stack, card.ts)[0].text


def message_replies(stack: SeawallStack, ts: str) -> list:
    message = stack.emulator.message(CHANNEL, ts)
    return message.replies if message else []


def test_repeat_notifications_update_the_card_without_new_messages(stack: SeawallStack) -> None:
    stack.post_alertmanager(group_payload("Disk", alerts=1))
    [card] = wait_for_messages(stack, 1)
    stack.post_alertmanager(group_payload("Disk", alerts=3))
    wait_until(
        lambda: "3 firing" in json.dumps(stack.emulator.message(CHANNEL, card.ts).blocks),
        what="card shows 3 firing",
    )
    assert len(stack.messages()) == 1
    assert message_replies(stack, card.ts) == []


def test_routes_send_matching_groups_to_their_channel(
    make_stack: StackFactory, tmp_path: pytest.TempPathFactory
) -> None:
    config = tmp_path / "seawall.yml"
    config.write_text("routes:\n  - channel: C0DATABASE\n    match: {team: db}\n")
    stack = make_stack(seawall_config=config)
    stack.post_alertmanager(group_payload("SlotLag", extra_labels={"team": "db"}))
    wait_for_messages(stack, 1, channel="C0DATABASE")
    assert stack.messages(CHANNEL) == []


@pytest.mark.parametrize(
    ("token", "body", "status", "reason"),
    [
        (None, None, 401, "missing Authorization"),
        ("wrong", None, 401, "wrong bearer token"),
        ("ok", b"{not json", 400, "not valid JSON"),
        ("ok", b'{"version": "4"}', 422, "groupKey"),
        (
            "ok",
            b'{"version": "2", "groupKey": "g", "status": "firing", "alerts": []}',
            422,
            "version",
        ),
        ("ok", b"[]", 422, "body"),
    ],
)
def test_bad_requests_get_a_reason_and_change_nothing(
    stack: SeawallStack, token: str | None, body: bytes | None, status: int, reason: str
) -> None:
    payload = body if body is not None else json.dumps(group_payload("Disk")).encode()
    response = stack.post_alertmanager(
        payload, token=ALERTMANAGER_TOKEN if token == "ok" else token
    )
    assert response.status_code == status
    assert reason in response.text
    assert response.text.count("\n") == 1
    assert seawall_keys(stack) == []
    assert stack.emulator.calls_to("chat.postMessage") == []


def test_an_oversized_body_is_refused_unread(stack: SeawallStack) -> None:
    response = stack.post_alertmanager(b"{" + b" " * (1024 * 1024 + 1) + b"}")
    assert response.status_code == 413
    assert seawall_keys(stack) == []


def test_rejections_are_counted_in_metrics(stack: SeawallStack) -> None:
    stack.post_alertmanager(group_payload("Disk"), token="wrong")
    metrics = stack.http.get(f"{stack.url}/metrics").text
    assert (
        'seawall_webhook_rejections_total{reason="auth_wrong",source="alertmanager"} 1.0' in metrics
    )


def test_redis_down_answers_503_and_the_retry_lands_after_restart(
    stack: SeawallStack, redis_server: RedisServer
) -> None:
    payload = group_payload("Outage")
    redis_server.kill()
    response = stack.post_alertmanager(payload)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    redis_server.restart()
    retried = wait_until(
        lambda: (r := stack.post_alertmanager(payload)).status_code == 200 and r,
        what="delivery accepted after restart",
    )
    assert retried.json()["outcome"] == "created"
    wait_for_messages(stack, 1)


def test_a_field_name_with_a_newline_still_gets_a_one_line_reason(stack: SeawallStack) -> None:
    # Found by schemathesis: a JSON key is echoed in the reason and in the log.
    body = json.dumps({**group_payload("Disk"), "commonLabels": {"\n": None}}).encode()
    response = stack.post_alertmanager(body)
    assert response.status_code == 422
    assert response.text.count("\n") == 1
    assert "commonLabels.\\n" in response.text


def test_a_resolve_for_a_group_lost_from_redis_posts_one_card_that_says_so(
    stack: SeawallStack, redis_server: RedisServer
) -> None:
    assert stack.post_alertmanager(group_payload("Disk", alerts=2)).status_code == 200
    [firing] = wait_for_messages(stack, 1)
    redis_server.flushall()  # Redis restarted without persistence: Seawall forgot the group
    resolved = group_payload("Disk", status="resolved", alerts=0, resolved=2)
    assert stack.post_alertmanager(resolved).status_code == 200
    old, new = wait_for_messages(stack, 2)
    assert old.ts == firing.ts
    text = json.dumps(new.blocks, ensure_ascii=False)
    assert new.blocks[0]["text"]["text"] == "🟢 RESOLVED · Disk"
    assert "Seawall has no record of this group" in text
    assert "an older card for it may still show it firing" in text
    assert "instance=web-0" in text  # what was resolved
    assert "instance=web-1" in text

"""Sentry webhooks and buttons through the real app, a real Redis, the Slack emulator and a
contract-level fake of Sentry's API."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis

from bot.cards.common import ActionId, CardRef
from bot.core import keys
from bot.emulator import EmulatedMessage
from tests.conftest import StackFactory
from tests.fixtures.sentry_payloads import (
    IGNORED,
    encode,
    event_alert_body,
    issue_body,
    metric_alert_body,
    sentry_headers,
)
from tests.support.fake_sentry_api import FakeSentryApi
from tests.support.redis_server import RedisServer, state_keys
from tests.support.stack import CHANNEL, SENTRY_SECRET, SeawallStack
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

ORG = "acme"
API_TOKEN = "test-sentry-api-token"
ISSUE_CARD = "sentry-issue-5512349001"
# How Sentry names an internal integration (here Seawall itself) as the actor of a change.
SEAWALL_APP = {"type": "application", "id": "seawall", "name": "Seawall"}


@pytest.fixture
def sentry_api() -> Iterator[FakeSentryApi]:
    with FakeSentryApi(org=ORG, token=API_TOKEN) as fake:
        yield fake


@pytest.fixture
def sentry_stack(make_stack: StackFactory, sentry_api: FakeSentryApi) -> SeawallStack:
    return make_stack(sentry_url=sentry_api.url, sentry_api_token=API_TOKEN, sentry_org=ORG)


@pytest.fixture
def store(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


def deliver(
    stack: SeawallStack,
    resource: str,
    body: dict[str, Any] | bytes,
    *,
    secret: str | None = SENTRY_SECRET,
    request_id: str | None = None,
    drop: tuple[str, ...] = (),
) -> httpx.Response:
    """POST a delivery the way Sentry does: raw JSON bytes, signed, with its headers."""
    raw = body if isinstance(body, bytes) else encode(body)
    headers = sentry_headers(raw, resource, secret, request_id)
    for name in drop:
        headers.pop(name, None)
    return stack.http.post(f"{stack.url}/webhooks/sentry", content=raw, headers=headers)


def settled(store: redis.Redis, card_id: str) -> bool:
    """Slack shows the card's latest revision and every thread reply has been posted."""
    revision = store.get(keys.card_revision(card_id))
    posted = store.get(keys.card_posted_revision(card_id))
    return (
        revision is not None and revision == posted and store.llen(keys.card_replies(card_id)) == 0
    )


def the_message(stack: SeawallStack) -> EmulatedMessage:
    messages = stack.messages(CHANNEL)
    assert len(messages) == 1, [m.text for m in messages]
    return messages[0]


def header(message: EmulatedMessage) -> str:
    return str(message.blocks[0]["text"]["text"])


def post_and_settle(
    stack: SeawallStack, store: redis.Redis, resource: str, body: dict[str, Any], card_id: str
) -> httpx.Response:
    response = deliver(stack, resource, body)
    assert response.status_code == 200, response.text
    wait_until(lambda: settled(store, card_id), what=f"{card_id} shown in Slack")
    return response


def click(stack: SeawallStack, action: ActionId, card_id: str = ISSUE_CARD) -> httpx.Response:
    ts = the_message(stack).ts
    return stack.sender.block_action(
        action_id=action.value,
        value=CardRef(c=card_id).model_dump_json(),
        user_id="U0ALICE",
        channel_id=CHANNEL,
        message_ts=ts,
    )


def ephemeral_text(stack: SeawallStack) -> str:
    found = wait_until(lambda: stack.emulator.ephemerals, what="an ephemeral answer")
    return found[-1].text


# --- signature, headers, shapes --------------------------------------------------------------


def test_a_signed_issue_delivery_posts_a_card(
    sentry_stack: SeawallStack, store: redis.Redis
) -> None:
    response = post_and_settle(sentry_stack, store, "issue", issue_body(), ISSUE_CARD)
    assert response.json() == {"ok": True, "card": ISSUE_CARD, "outcome": "created"}
    message = the_message(sentry_stack)
    assert header(message) == "🔴 ERROR · KeyError: 'cart_id'"
    assert "Resolve in Sentry" in json.dumps(message.blocks)


def test_without_a_sentry_api_token_the_card_offers_neither_resolve_nor_ignore(
    stack: SeawallStack, store: redis.Redis
) -> None:
    post_and_settle(stack, store, "issue", issue_body(), ISSUE_CARD)
    shown = json.dumps(the_message(stack).blocks)
    assert ActionId.SENTRY_RESOLVE.value not in shown
    assert ActionId.SENTRY_IGNORE_1H.value not in shown
    assert "Acknowledge" in shown


def test_a_wrong_signature_is_refused_and_nothing_is_stored_or_posted(
    stack: SeawallStack, store: redis.Redis
) -> None:
    response = deliver(stack, "issue", issue_body(), secret="not-the-secret")
    assert response.status_code == 401
    assert response.text.strip() == "wrong Sentry-Hook-Signature"
    assert state_keys(store) == []
    # A valid delivery afterwards is the only thing Slack ever sees.
    post_and_settle(stack, store, "issue", issue_body("5512349099"), "sentry-issue-5512349099")
    assert "5512349099" in json.dumps(the_message(stack).blocks)


def test_a_missing_signature_is_refused_and_nothing_is_stored(
    stack: SeawallStack, store: redis.Redis
) -> None:
    response = deliver(stack, "issue", issue_body(), secret=None)
    assert response.status_code == 401
    assert response.text.strip() == "missing Sentry-Hook-Signature header"
    assert state_keys(store) == []
    assert stack.messages(CHANNEL) == []


def test_a_signature_over_reserialised_json_does_not_match(stack: SeawallStack) -> None:
    raw = encode(issue_body())
    headers = sentry_headers(raw, "issue", SENTRY_SECRET)
    compact = json.dumps(json.loads(raw), separators=(",", ":")).encode()
    response = stack.http.post(f"{stack.url}/webhooks/sentry", content=compact, headers=headers)
    assert response.status_code == 401


def test_without_a_client_secret_sentry_webhooks_are_refused(
    make_stack: StackFactory, store: redis.Redis
) -> None:
    stack = make_stack(sentry_client_secret=None)
    response = deliver(stack, "issue", issue_body())
    assert response.status_code == 401
    assert "Sentry webhooks are not configured" in response.text
    assert "SENTRY_CLIENT_SECRET" in response.text
    assert state_keys(store) == []


def test_a_delivery_without_a_resource_header_is_a_bad_request(stack: SeawallStack) -> None:
    response = deliver(stack, "issue", issue_body(), drop=("Sentry-Hook-Resource",))
    assert response.status_code == 400
    assert "Sentry-Hook-Resource" in response.text


def test_invalid_json_is_a_bad_request_and_a_wrong_shape_unprocessable(
    stack: SeawallStack, store: redis.Redis
) -> None:
    assert deliver(stack, "issue", b"{not json").status_code == 400
    wrong = issue_body()
    del wrong["data"]["issue"]["id"]
    response = deliver(stack, "issue", wrong)
    assert response.status_code == 422
    assert "data.issue.id" in response.text
    assert state_keys(store) == []


@pytest.mark.parametrize("name", sorted(IGNORED))
def test_deliveries_seawall_does_not_act_on_are_acknowledged_and_ignored(
    stack: SeawallStack, store: redis.Redis, name: str
) -> None:
    resource, body = IGNORED[name]
    response = deliver(stack, resource, body)
    assert response.status_code == 200
    assert response.json() == {"ok": True, "outcome": "ignored"}
    assert state_keys(store) == []
    metrics = stack.http.get(f"{stack.url}/metrics").text
    assert 'seawall_webhook_deliveries_total{outcome="ignored",source="sentry"} 1.0' in metrics


def test_the_route_answers_within_a_second(stack: SeawallStack) -> None:
    started = time.perf_counter()
    response = deliver(stack, "issue", issue_body())
    assert response.status_code == 200
    assert time.perf_counter() - started < 1.0


# --- one card per issue ----------------------------------------------------------------------


def test_the_same_delivery_twice_makes_one_message(stack: SeawallStack, store: redis.Redis) -> None:
    first = deliver(stack, "issue", issue_body(), request_id="a" * 32)
    again = deliver(stack, "issue", issue_body(), request_id="a" * 32)
    assert first.json()["outcome"] == "created"
    assert again.json()["outcome"] == "duplicate"
    wait_until(lambda: settled(store, ISSUE_CARD), what="the card in Slack")
    message = the_message(stack)
    assert message.replies == []
    assert message.edits == 0


def test_a_retried_resolve_adds_no_second_reply(stack: SeawallStack, store: redis.Redis) -> None:
    post_and_settle(stack, store, "issue", issue_body(), ISSUE_CARD)
    resolve = issue_body(action="resolved", status="resolved")
    assert deliver(stack, "issue", resolve, request_id="b" * 32).json()["outcome"] == "updated"
    assert deliver(stack, "issue", resolve, request_id="b" * 32).json()["outcome"] == "duplicate"
    wait_until(lambda: settled(store, ISSUE_CARD), what="the resolve in Slack")
    assert len(the_message(stack).replies) == 1


def test_a_replayed_body_with_a_new_request_id_changes_nothing(
    stack: SeawallStack, store: redis.Redis
) -> None:
    reopen = issue_body(action="unresolved", status="unresolved")
    post_and_settle(stack, store, "issue", reopen, ISSUE_CARD)
    post_and_settle(
        stack, store, "issue", issue_body(action="resolved", status="resolved"), ISSUE_CARD
    )
    replay = deliver(stack, "issue", reopen, request_id="c" * 32)
    assert replay.json()["outcome"] == "duplicate"
    wait_until(lambda: settled(store, ISSUE_CARD), what="the card in Slack")
    assert header(the_message(stack)).startswith("🟢 RESOLVED")


def test_an_older_unresolved_snapshot_after_a_newer_resolve_does_not_reopen(
    stack: SeawallStack, store: redis.Redis
) -> None:
    post_and_settle(stack, store, "issue", issue_body(lastSeen="2026-11-23T11:00:00Z"), ISSUE_CARD)
    resolved = issue_body(action="resolved", status="resolved", lastSeen="2026-11-23T12:00:00Z")
    post_and_settle(stack, store, "issue", resolved, ISSUE_CARD)
    older = issue_body(action="unresolved", status="unresolved", lastSeen="2026-11-23T11:30:00Z")
    assert deliver(stack, "issue", older).json()["outcome"] == "unchanged"
    wait_until(lambda: settled(store, ISSUE_CARD), what="the card in Slack")
    message = the_message(stack)
    assert header(message).startswith("🟢 RESOLVED")
    assert len(message.replies) == 1


def test_created_then_resolved_updates_the_same_message_with_one_thread_reply(
    stack: SeawallStack, store: redis.Redis
) -> None:
    post_and_settle(stack, store, "issue", issue_body(), ISSUE_CARD)
    resolved = issue_body(
        action="resolved", status="resolved", actor={"type": "user", "id": 7, "name": "Dana"}
    )
    post_and_settle(stack, store, "issue", resolved, ISSUE_CARD)
    message = the_message(stack)
    assert message.edits >= 1
    assert header(message).startswith("🟢 RESOLVED")
    assert [r.text for r in message.replies] == ["🟢 Resolved in Sentry by Dana."]


def test_an_event_alert_for_a_known_issue_updates_the_same_card(
    stack: SeawallStack, store: redis.Redis
) -> None:
    post_and_settle(stack, store, "issue", issue_body(), ISSUE_CARD)
    post_and_settle(stack, store, "event_alert", event_alert_body(issue_id=None), ISSUE_CARD)
    message = the_message(stack)
    assert message.edits >= 1
    assert "New errors in checkout" in json.dumps(message.blocks)
    assert message.replies == []


def test_a_metric_alert_gets_its_own_card_and_a_reply_when_it_resolves(
    stack: SeawallStack, store: redis.Redis
) -> None:
    card_id = "sentry-metric-913"
    post_and_settle(stack, store, "metric_alert", metric_alert_body("913"), card_id)
    assert header(the_message(stack)) == "🔴 CRITICAL · Checkout error rate"
    resolved = metric_alert_body("913", action="resolved", description_title="Resolved")
    post_and_settle(stack, store, "metric_alert", resolved, card_id)
    message = the_message(stack)
    assert header(message).startswith("🟢 RESOLVED")
    assert [r.text for r in message.replies] == ["🟢 Metric alert is now resolved: Resolved."]


def test_a_stopped_redis_answers_503_so_sentry_retries(
    stack: SeawallStack, redis_server: RedisServer
) -> None:
    redis_server.stop()
    response = deliver(stack, "issue", issue_body())
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "nothing was stored" in response.text


# --- buttons ---------------------------------------------------------------------------------


def test_resolve_button_resolves_in_sentry_and_on_the_card(
    sentry_stack: SeawallStack, sentry_api: FakeSentryApi, store: redis.Redis
) -> None:
    post_and_settle(sentry_stack, store, "issue", issue_body(), ISSUE_CARD)
    assert click(sentry_stack, ActionId.SENTRY_RESOLVE).status_code == 200

    request = wait_until(lambda: sentry_api.requests, what="Seawall's call to Sentry")[0]
    assert request.method == "PUT"
    assert request.path == "/api/0/organizations/acme/issues/5512349001/"
    assert request.headers["authorization"] == f"Bearer {API_TOKEN}"
    assert request.body == {"status": "resolved"}
    assert "Done" in ephemeral_text(sentry_stack)
    wait_until(lambda: header(the_message(sentry_stack)).startswith("🟢"), what="resolved card")
    wait_until(lambda: settled(store, ISSUE_CARD), what="the reply in Slack")
    message = the_message(sentry_stack)
    assert "resolved by <@U0ALICE> from Slack" in json.dumps(message.blocks)
    assert [r.text for r in message.replies] == ["🟢 <@U0ALICE> resolved this issue in Sentry."]


def test_sentrys_echo_of_a_resolve_clicked_in_slack_adds_no_second_reply(
    sentry_stack: SeawallStack, sentry_api: FakeSentryApi, store: redis.Redis
) -> None:
    post_and_settle(sentry_stack, store, "issue", issue_body(), ISSUE_CARD)
    click(sentry_stack, ActionId.SENTRY_RESOLVE)
    wait_until(lambda: len(the_message(sentry_stack).replies) == 1, what="the resolve reply")
    echo = issue_body(action="resolved", status="resolved", actor=SEAWALL_APP)
    deliver(sentry_stack, "issue", echo)
    wait_until(lambda: settled(store, ISSUE_CARD), what="the echo applied")
    assert len(the_message(sentry_stack).replies) == 1


def test_sentrys_echo_arriving_before_its_answer_still_makes_one_reply(
    sentry_stack: SeawallStack, sentry_api: FakeSentryApi, store: redis.Redis
) -> None:
    post_and_settle(sentry_stack, store, "issue", issue_body(), ISSUE_CARD)
    echo = encode(issue_body(action="resolved", status="resolved", actor=SEAWALL_APP))

    def sentry_sends_its_webhook_first(issue_id: str, state: dict[str, Any]) -> None:
        headers = sentry_headers(echo, "issue", SENTRY_SECRET)
        response = httpx.post(f"{sentry_stack.url}/webhooks/sentry", content=echo, headers=headers)
        assert response.status_code == 200

    sentry_api.before_answer = sentry_sends_its_webhook_first
    click(sentry_stack, ActionId.SENTRY_RESOLVE)
    assert "Done" in ephemeral_text(sentry_stack)
    wait_until(lambda: settled(store, ISSUE_CARD), what="both changes in Slack")
    message = the_message(sentry_stack)
    assert [r.text for r in message.replies] == ["🟢 Resolved in Sentry by Seawall."]
    assert "by <@U0ALICE> from Slack" in json.dumps(message.blocks)


def test_acknowledge_works_on_a_sentry_card(stack: SeawallStack, store: redis.Redis) -> None:
    post_and_settle(stack, store, "issue", issue_body(), ISSUE_CARD)
    click(stack, ActionId.ACK)
    wait_until(
        lambda: "Acknowledged by <@U0ALICE>" in json.dumps(the_message(stack).blocks),
        what="the acknowledgement on the card",
    )


def test_ignore_button_asks_sentry_to_ignore_for_an_hour(
    sentry_stack: SeawallStack, sentry_api: FakeSentryApi, store: redis.Redis
) -> None:
    post_and_settle(sentry_stack, store, "issue", issue_body(), ISSUE_CARD)
    click(sentry_stack, ActionId.SENTRY_IGNORE_1H)
    request = wait_until(lambda: sentry_api.requests, what="Seawall's call to Sentry")[0]
    assert request.body == {"status": "ignored", "statusDetails": {"ignoreDuration": 60}}
    wait_until(lambda: header(the_message(sentry_stack)).startswith("🔕"), what="ignored card")


def test_a_second_click_calls_sentry_only_once(
    sentry_stack: SeawallStack, sentry_api: FakeSentryApi, store: redis.Redis
) -> None:
    post_and_settle(sentry_stack, store, "issue", issue_body(), ISSUE_CARD)
    click(sentry_stack, ActionId.SENTRY_RESOLVE)
    click(sentry_stack, ActionId.SENTRY_RESOLVE)
    wait_until(lambda: len(sentry_stack.emulator.ephemerals) == 2, what="two answers")
    assert len(sentry_api.requests) == 1


def test_when_sentry_fails_the_card_gets_a_note_and_the_clicker_an_explanation(
    sentry_stack: SeawallStack, sentry_api: FakeSentryApi, store: redis.Redis
) -> None:
    post_and_settle(sentry_stack, store, "issue", issue_body(), ISSUE_CARD)
    sentry_api.fail_next(500, "Internal Error")
    click(sentry_stack, ActionId.SENTRY_RESOLVE)

    text = ephemeral_text(sentry_stack)
    assert "Sentry answered HTTP 500: Internal Error" in text
    assert "Nothing was changed in Sentry" in text
    wait_until(
        lambda: "nothing was changed in Sentry" in json.dumps(the_message(sentry_stack).blocks),
        what="the note on the card",
    )
    wait_until(lambda: settled(store, ISSUE_CARD), what="the note in Slack")
    message = the_message(sentry_stack)
    assert header(message).startswith("🔴 ERROR")
    assert message.replies == []
    assert sentry_api.issues == {}


def test_a_retry_after_a_failure_is_allowed(
    sentry_stack: SeawallStack, sentry_api: FakeSentryApi, store: redis.Redis
) -> None:
    post_and_settle(sentry_stack, store, "issue", issue_body(), ISSUE_CARD)
    sentry_api.fail_next(503, "Service Unavailable")
    click(sentry_stack, ActionId.SENTRY_RESOLVE)
    wait_until(lambda: sentry_stack.emulator.ephemerals, what="the failure answer")
    click(sentry_stack, ActionId.SENTRY_RESOLVE)
    wait_until(lambda: sentry_api.issues.get("5512349001"), what="the retry to reach Sentry")
    assert sentry_api.issues["5512349001"]["status"] == "resolved"


def test_an_unreachable_sentry_is_explained_on_the_card(
    make_stack: StackFactory, store: redis.Redis
) -> None:
    closed = FakeSentryApi()  # never started: its port refuses connections
    stack = make_stack(sentry_url=closed.url, sentry_api_token=API_TOKEN, sentry_org=ORG)
    post_and_settle(stack, store, "issue", issue_body(), ISSUE_CARD)
    click(stack, ActionId.SENTRY_RESOLVE)
    assert "Sentry could not be reached" in ephemeral_text(stack)
    wait_until(
        lambda: "could not be reached" in json.dumps(the_message(stack).blocks),
        what="the note on the card",
    )


def test_buttons_without_sentry_api_settings_say_what_is_missing(
    make_stack: StackFactory, sentry_api: FakeSentryApi, store: redis.Redis
) -> None:
    stack = make_stack(sentry_url=sentry_api.url, sentry_org=ORG)
    post_and_settle(stack, store, "issue", issue_body(), ISSUE_CARD)
    click(stack, ActionId.SENTRY_RESOLVE)
    text = ephemeral_text(stack)
    assert "SENTRY_API_TOKEN is not set" in text
    assert "Nothing was changed in Sentry" in text
    wait_until(
        lambda: "SENTRY_API_TOKEN is not set" in json.dumps(the_message(stack).blocks),
        what="the note on the card",
    )
    assert sentry_api.requests == []

"""Duplicate and out-of-order webhooks through HTTP: whatever order the deliveries arrive in,
and however often, each card ends in the right state with one message and an honest thread.

Senders retry (Alertmanager on any 5xx, Sentry on timeouts), an HA pair of Alertmanagers
sends the same notification twice, and a retried older delivery can overtake a newer one.
tests/unit/alerts/test_rules.py checks the merge rule alone; these go through the real app,
Redis transactions under concurrency, the poster and the emulator.
"""

from __future__ import annotations

import itertools
import json
import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from bot.emulator import EmulatedMessage
from tests.conftest import StackFactory, emulator_config
from tests.fixtures.alertmanager_payloads import group_payload
from tests.fixtures.sentry_payloads import encode, event_alert_body, issue_body, sentry_headers
from tests.support.stack import ALERTMANAGER_TOKEN, CHANNEL, SENTRY_SECRET, SeawallStack
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

FIRST = "2026-11-23T10:00:00Z"
LATER = "2026-11-23T11:00:00Z"
RESOLVED_REPLY = "🟢 Resolved at"
FIRING_REPLY = "🔥 Firing again"


@pytest.fixture
def stack(make_stack: StackFactory) -> SeawallStack:
    # Slack's per-channel pacing is not what these tests are about: let the poster run fast.
    return make_stack(
        emulator=emulator_config(
            post_message_rate_per_channel=50.0,
            post_message_burst=20,
            method_limits_per_minute={"chat.update": 5000},
        ),
        seawall_post_interval=0.005,
    )


def post_all(stack: SeawallStack, deliveries: list[tuple[str, bytes, dict[str, str]]]) -> None:
    """POST every delivery, eight at a time (so a group's deliveries also race each other)."""

    def post(delivery: tuple[str, bytes, dict[str, str]]) -> int:
        path, body, headers = delivery
        with httpx.Client(timeout=10) as client:
            return client.post(f"{stack.url}{path}", content=body, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(post, deliveries))
    assert set(statuses) == {200}


def alertmanager(payload: dict[str, Any]) -> tuple[str, bytes, dict[str, str]]:
    headers = {"Authorization": f"Bearer {ALERTMANAGER_TOKEN}", "Content-Type": "application/json"}
    return "/webhooks/alertmanager", json.dumps(payload).encode(), headers


def sentry(
    resource: str, body: dict[str, Any], request_id: str
) -> tuple[str, bytes, dict[str, str]]:
    raw = encode(body)
    return "/webhooks/sentry", raw, sentry_headers(raw, resource, SENTRY_SECRET, request_id)


def settled(stack: SeawallStack, count: int) -> list[EmulatedMessage]:
    """The channel's messages once there are `count` and the outbox is empty, else []."""
    messages = stack.messages()
    if len(messages) != count:
        return []
    pending = stack.server.run_coroutine(stack.deps.store.outbox_size(CHANNEL))
    return messages if pending == 0 else []


def header(message: EmulatedMessage) -> str:
    return str(message.blocks[0]["text"]["text"])


def by_group(messages: list[EmulatedMessage]) -> dict[str, EmulatedMessage]:
    return {header(m).rsplit("· ", 1)[-1]: m for m in messages}


def states_alternate(message: EmulatedMessage) -> bool:
    """Thread replies record state flips only: no reply repeats the one before it."""
    kinds = [r.text.split(":", 1)[0].split(" ", 2)[:2] for r in message.replies]
    return all(a != b for a, b in itertools.pairwise(kinds))


# --- Alertmanager ----------------------------------------------------------------------------


def test_a_resolve_that_overtakes_its_firing_leaves_the_card_resolved(stack: SeawallStack) -> None:
    resolved = group_payload("Disk", status="resolved", alerts=0, resolved=1, starts_at=FIRST)
    firing = group_payload("Disk", alerts=1, starts_at=FIRST)
    post_all(stack, [alertmanager(resolved)])
    post_all(stack, [alertmanager(firing)])  # the late retry of the earlier notification

    [card] = wait_until(lambda: settled(stack, 1), what="one settled card")
    assert header(card).startswith("🟢 RESOLVED")
    assert card.replies == []


def test_shuffled_duplicate_deliveries_leave_every_group_in_its_latest_state(
    stack: SeawallStack,
) -> None:
    # Per group: one alert fires, a second joins, both resolve; every notification is sent
    # two or three times, and all of them arrive shuffled across twelve groups.
    names = [f"Shuffle{i:02d}" for i in range(12)]
    rng = random.Random(6)
    deliveries = []
    for name in names:
        sequence = [
            group_payload(name, alerts=1, starts_at=FIRST),
            group_payload(name, alerts=2, starts_at=FIRST),
            group_payload(name, status="resolved", alerts=0, resolved=2, starts_at=FIRST),
        ]
        deliveries += [alertmanager(p) for p in sequence for _ in range(rng.randint(2, 3))]
    rng.shuffle(deliveries)
    post_all(stack, deliveries)

    messages = wait_until(lambda: settled(stack, len(names)), timeout=30, what="all cards")
    cards = by_group(messages)
    assert sorted(cards) == names
    for name, card in cards.items():
        assert header(card) == f"🟢 RESOLVED · {name}", name
        assert "*0 firing* · 2 resolved" in json.dumps(card.blocks, ensure_ascii=False), name
        assert len(card.replies) <= 1, [r.text for r in card.replies]
        assert all(r.text.startswith(RESOLVED_REPLY) for r in card.replies), name


def test_a_new_occurrence_wins_over_late_deliveries_of_the_old_one_in_any_order(
    stack: SeawallStack,
) -> None:
    # Fired and resolved at 10:00, firing again from 11:00; the three notifications and
    # their retries arrive in every possible order, one group per order.
    orders = [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)]
    deliveries = []
    for i, order in enumerate(orders):
        name = f"Again{i}"
        sequence = [
            group_payload(name, alerts=1, starts_at=FIRST),
            group_payload(name, status="resolved", alerts=0, resolved=1, starts_at=FIRST),
            group_payload(name, alerts=1, starts_at=LATER),
        ]
        deliveries.append([alertmanager(sequence[j]) for j in order for _ in range(2)])
    # Groups are interleaved; a group's deliveries leave in its order and race their retries.
    post_all(stack, [d for batch in zip(*deliveries, strict=True) for d in batch])

    messages = wait_until(lambda: settled(stack, len(orders)), timeout=30, what="all cards")
    for name, card in by_group(messages).items():
        assert header(card).startswith("🔴 FIRING"), name
        assert "*1 firing* · 0 resolved" in json.dumps(card.blocks, ensure_ascii=False), name
        assert states_alternate(card), [r.text for r in card.replies]
        if card.replies:
            assert card.replies[-1].text.startswith(FIRING_REPLY), name


# --- Sentry ----------------------------------------------------------------------------------

ISSUE = "5512349001"


def test_shuffled_sentry_retries_leave_the_issue_resolved_with_one_reply_at_most(
    stack: SeawallStack,
) -> None:
    created = issue_body(ISSUE, action="created")
    resolved = issue_body(ISSUE, action="resolved", status="resolved", count="9")
    event = event_alert_body(ISSUE)
    deliveries = [
        sentry("issue", created, "a" * 32),
        sentry("event_alert", event, "c" * 32),
        sentry("issue", resolved, "b" * 32),
    ] * 3
    random.Random(7).shuffle(deliveries)
    post_all(stack, deliveries)

    [card] = wait_until(lambda: settled(stack, 1), what="the issue card")
    assert header(card).startswith("🟢 RESOLVED")
    text = json.dumps(card.blocks, ensure_ascii=False)
    assert "New errors in checkout" in text  # the event alert is on the card whatever its turn
    assert len(card.replies) <= 1
    assert all(r.text.startswith("🟢 Resolved in Sentry") for r in card.replies)


def test_a_late_created_delivery_does_not_unassign_the_issue(stack: SeawallStack) -> None:
    team = {"type": "team", "id": "40417", "name": "payments-oncall"}
    assigned = issue_body(ISSUE, action="assigned", assignedTo=team)
    created = issue_body(ISSUE, action="created")  # Sentry's first delivery, retried late
    post_all(stack, [sentry("issue", assigned, "d" * 32)])
    post_all(stack, [sentry("issue", created, "e" * 32)])

    [card] = wait_until(lambda: settled(stack, 1), what="the issue card")
    assert "#payments-oncall" in json.dumps(card.blocks, ensure_ascii=False)
    assert not any("Unassigned" in r.text for r in card.replies)

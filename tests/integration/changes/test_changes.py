"""What changed, end to end: deploys reported by the change webhook, approved changes carried
out and playbook runs, shown on the cards of alerts that start after them, in the incident's
timeline and postmortem, and gone after their retention (issue 20)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import redis

from bot.alerts.rules import card_id_for_group
from bot.core import keys
from bot.core.config import Approvers, FileConfig
from bot.incidents.postmortem import render_postmortem
from bot.models.card import TriageCard
from bot.models.incident import Incident
from tests.conftest import StackFactory
from tests.fixtures.alertmanager_payloads import group_payload
from tests.support.stack import (
    CHANGE_TOKEN,
    CHANNEL,
    SeawallStack,
    button_value,
    click,
    declare_from_card,
)
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

REQUESTER, APPROVER = "U0ALICE", "U0BOB"
STARTED = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # group_payload's alerts start then


@pytest.fixture
def stack(make_stack: StackFactory) -> SeawallStack:
    return make_stack(file_config=FileConfig(approvers=Approvers(users=[APPROVER])))


def report(stack: SeawallStack, token: str = CHANGE_TOKEN, **body: Any) -> httpx.Response:
    return stack.http.post(
        f"{stack.url}/webhooks/change", json=body, headers={"Authorization": f"Bearer {token}"}
    )


def alert(stack: SeawallStack, name: str, service: str, starts_at: str | None = None) -> str:
    payload = group_payload(
        name,
        extra_labels={"service": service},
        **({"starts_at": starts_at} if starts_at else {}),
    )
    assert stack.post_alertmanager(payload).status_code == 200
    return card_id_for_group(str(payload["groupKey"]))


def stored(stack: SeawallStack, card_id: str) -> TriageCard:
    card = stack.server.run_coroutine(stack.deps.store.get_card(card_id))
    assert card is not None
    return card


def looked_up(stack: SeawallStack, card_id: str) -> TriageCard:
    """The card once its "Changed recently" job has run."""
    return wait_until(
        lambda: ((c := stored(stack, card_id)).changes_matched and c) or None,
        what=f"the recent changes of {card_id}",
    )


def card_text(stack: SeawallStack, name: str) -> str:
    return json.dumps(
        [m.blocks for m in stack.messages() if name in json.dumps(m.blocks)], ensure_ascii=False
    )


def test_a_deploy_shows_on_its_service_s_alert_and_not_on_another_s(stack: SeawallStack) -> None:
    deployed = (STARTED - timedelta(minutes=30)).isoformat()
    response = report(
        stack,
        summary="checkout v2.4.1",
        service="checkout",
        environment="prod",
        at=deployed,
        url="https://ci.example.com/runs/42",
        author="alice",
    )
    assert response.status_code == 200
    assert response.json()["outcome"] == "recorded"
    checkout = alert(stack, "CheckoutErrors", "checkout")
    payments = alert(stack, "PaymentsErrors", "payments")
    assert [c.summary for c in looked_up(stack, checkout).changes] == ["checkout v2.4.1"]
    assert looked_up(stack, payments).changes == []
    wait_until(
        lambda: "checkout v2.4.1" in card_text(stack, "CheckoutErrors"),
        what="the deploy on the checkout card",
    )
    assert "Changed recently" not in card_text(stack, "PaymentsErrors")


def test_an_approved_change_carried_out_shows_on_the_next_card(stack: SeawallStack) -> None:
    stack.sender.slash_command("/incident", "change rotate the db password", user_id=REQUESTER)
    [request] = wait_until(stack.messages, what="the change request")
    wait_until(
        lambda: stack.server.run_coroutine(stack.deps.store.card_for_message(CHANNEL, request.ts)),
        what="its message recorded",
    )
    stack.sender.reaction_added(APPROVER, "white_check_mark", CHANNEL, request.ts)
    wait_until(
        lambda: button_value(stack.emulator.message(CHANNEL, request.ts), "approval.done"),
        what="Mark as done",
    )
    click(stack, stack.emulator.message(CHANNEL, request.ts), "approval.done", REQUESTER)
    wait_until(
        lambda: (
            stack.deps.redis is not None
            and redis.Redis.from_url(stack.deps.settings.redis_url).zcard(keys.CHANGES) == 1
        ),
        what="the change recorded",
    )
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    card_id = alert(stack, "DbErrors", "db", starts_at=later)
    [shown] = looked_up(stack, card_id).changes
    assert (shown.summary, shown.source, shown.author_slack_id) == (
        "rotate the db password",
        "approval",
        REQUESTER,
    )


def test_changes_before_an_incident_s_alert_go_into_its_timeline_and_postmortem(
    stack: SeawallStack,
) -> None:
    report(
        stack,
        summary="checkout v2.4.2",
        service="checkout",
        at=(STARTED - timedelta(minutes=5)).isoformat(),
    )
    card_id = alert(stack, "CheckoutDown", "checkout")
    looked_up(stack, card_id)
    [card] = wait_until(stack.messages, what="the alert card")
    declare_from_card(stack, card, REQUESTER)
    incident_id = wait_until(
        lambda: (c := stored(stack, card_id)).incident and c.incident.incident_id,
        what="the incident",
    )
    entries = wait_until(
        lambda: [
            e
            for e in stack.server.run_coroutine(stack.deps.timeline.read(str(incident_id)))
            if e.kind == "change"
        ],
        what="the change in the timeline",
    )
    assert "checkout v2.4.2" in entries[0].text
    summary = stored(stack, f"incident-{incident_id}").subject
    assert isinstance(summary, Incident)
    all_entries = stack.server.run_coroutine(stack.deps.timeline.read(str(incident_id)))
    document = render_postmortem(summary, all_entries, datetime.now(UTC))
    section = document.split("## What changed before", 1)[1].split("##", 1)[0]
    assert "checkout v2.4.2" in section


def test_a_retried_report_is_one_change_and_changes_expire_with_the_retention(
    stack: SeawallStack,
) -> None:
    first = report(stack, summary="billing v9", service="billing")
    again = report(stack, summary="billing v9", service="billing")
    assert (first.json()["outcome"], again.json()["outcome"]) == ("recorded", "duplicate")
    client = redis.Redis.from_url(stack.deps.settings.redis_url)
    ttl = client.ttl(keys.change(first.json()["change"]))
    assert timedelta(days=29) < timedelta(seconds=ttl) <= timedelta(days=30)


@pytest.mark.parametrize(
    ("token", "body", "status"),
    [
        ("wrong-token", {"summary": "x"}, 401),
        (CHANGE_TOKEN, {"service": "checkout"}, 422),
        (CHANGE_TOKEN, {"summary": "x", "url": "javascript:alert(1)"}, 422),
        (CHANGE_TOKEN, {"summary": "x", "at": "yesterday"}, 422),
    ],
)
def test_a_bad_report_is_refused_in_one_line_and_records_nothing(
    stack: SeawallStack, token: str, body: dict[str, Any], status: int
) -> None:
    response = report(stack, token=token, **body)
    assert response.status_code == status
    assert response.text.count("\n") == 1
    assert redis.Redis.from_url(stack.deps.settings.redis_url).zcard(keys.CHANGES) == 0


def test_recent_changes_are_listed_from_slack(stack: SeawallStack) -> None:
    report(stack, summary="checkout v3", service="checkout")
    report(stack, summary="search v7", service="search")
    response = stack.sender.slash_command("/incident", "changes checkout --since 2h")
    text = response.json()["text"]
    assert "checkout v3" in text
    assert "search v7" not in text

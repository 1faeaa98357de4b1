"""A real prometheus-alertmanager delivering to Seawall, and Seawall silencing through it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cards.common import ActionId
from tests.conftest import StackFactory
from tests.support.alertmanager import Alertmanager, WebhookReceiver
from tests.support.redis_server import RedisServer
from tests.support.stack import ALERTMANAGER_TOKEN, CHANNEL, SeawallStack, button_value, click
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

LABELS = {"alertname": "HighLatency", "severity": "critical", "service": "api"}


@pytest.fixture
def wired(make_stack: StackFactory, tmp_path: Path) -> Iterator[tuple[SeawallStack, Alertmanager]]:
    """Seawall, and an Alertmanager whose webhook receiver points at it with the bearer token."""
    stack = make_stack()
    receiver = WebhookReceiver(
        url=f"{stack.url}/webhooks/alertmanager", bearer_token=ALERTMANAGER_TOKEN
    )
    with Alertmanager(tmp_path / "am", receiver) as am:
        stack.deps.settings.alertmanager_url = am.url
        yield stack, am


# Alerts that match these routes go to a receiver that is not Seawall: they fire in the same
# Alertmanager but never reach a card (another team's, another environment's).
ELSEWHERE_RECEIVERS = "- name: elsewhere\n"
ELSEWHERE_ROUTES = """
- receiver: elsewhere
  matchers: ['env="staging"']
- receiver: elsewhere
  matchers: ['team="db"']
"""


@pytest.fixture
def shared(make_stack: StackFactory, tmp_path: Path) -> Iterator[tuple[SeawallStack, Alertmanager]]:
    """Seawall receives some of an Alertmanager's alerts; staging and team db go elsewhere."""
    stack = make_stack()
    receiver = WebhookReceiver(
        url=f"{stack.url}/webhooks/alertmanager", bearer_token=ALERTMANAGER_TOKEN
    )
    with Alertmanager(
        tmp_path / "am",
        receiver,
        extra_receivers_yaml=ELSEWHERE_RECEIVERS,
        extra_routes_yaml=ELSEWHERE_ROUTES,
    ) as am:
        stack.deps.settings.alertmanager_url = am.url
        yield stack, am


def states(am: Alertmanager) -> dict[str, str]:
    """instance label -> Alertmanager's state of that alert (active, suppressed)."""
    return {a["labels"]["instance"]: a["status"]["state"] for a in am.alerts()}


def header(stack: SeawallStack, ts: str) -> str:
    message = stack.emulator.message(CHANNEL, ts)
    return message.blocks[0]["text"]["text"] if message else ""


def test_a_fired_alert_becomes_a_card_and_its_resolve_updates_the_same_message(
    wired: tuple[SeawallStack, Alertmanager],
) -> None:
    stack, am = wired
    am.fire(LABELS, {"summary": "p99 > 2s on api"})
    [card] = wait_until(stack.messages, timeout=20, what="the firing card")
    assert header(stack, card.ts) == "🔴 FIRING · critical · HighLatency"
    assert "p99 &gt; 2s on api" in json.dumps(card.blocks, ensure_ascii=False)

    am.resolve(LABELS)
    wait_until(
        lambda: header(stack, card.ts).startswith("🟢 RESOLVED"), timeout=20, what="resolved"
    )
    assert len(stack.messages()) == 1
    wait_until(lambda: stack.emulator.message(CHANNEL, card.ts).replies, what="thread reply")


def test_silence_button_creates_a_real_silence_and_shows_who_and_until_when(
    wired: tuple[SeawallStack, Alertmanager],
) -> None:
    stack, am = wired
    am.fire(LABELS)
    [card] = wait_until(stack.messages, timeout=20, what="the firing card")

    response = click(stack, card, ActionId.SILENCE_1H, user_id="U0ALICE")
    assert response.status_code == 200
    [silence] = wait_until(am.silences, what="a silence in Alertmanager")
    assert silence["status"]["state"] == "active"
    # The card's one alert: every label it has.
    assert {(m["name"], m["value"]) for m in silence["matchers"]} == set(LABELS.items())
    assert "U0ALICE" in silence["createdBy"]
    wait_until(
        lambda: (
            "Silenced by <@U0ALICE>" in json.dumps(stack.emulator.message(CHANNEL, card.ts).blocks)
        ),
        what="card shows the silence",
    )
    reply = wait_until(lambda: stack.emulator.ephemerals, what="ephemeral confirmation")[-1]
    assert "Silenced until" in reply.text


def test_a_double_clicked_silence_creates_one_silence(
    wired: tuple[SeawallStack, Alertmanager],
) -> None:
    stack, am = wired
    am.fire(LABELS)
    [card] = wait_until(stack.messages, timeout=20, what="the firing card")
    click(stack, card, ActionId.SILENCE_1H)
    click(stack, card, ActionId.SILENCE_1H)
    wait_until(lambda: len(stack.emulator.ephemerals) >= 2, what="both clicks answered")
    assert len(am.silences()) == 1


def test_alertmanager_retries_through_a_redis_outage_and_the_card_lands(
    wired: tuple[SeawallStack, Alertmanager], redis_server: RedisServer
) -> None:
    stack, am = wired
    redis_server.kill()
    am.fire(LABELS)
    wait_until(
        lambda: 'reason="unavailable"' in stack.http.get(f"{stack.url}/metrics").text,
        timeout=15,
        what="a delivery answered 503",
    )
    redis_server.restart()
    [card] = wait_until(stack.messages, timeout=30, what="the card after Redis is back")
    assert header(stack, card.ts).startswith("🔴 FIRING")


def test_silence_covers_only_the_cards_own_environment(
    shared: tuple[SeawallStack, Alertmanager],
) -> None:
    stack, am = shared
    am.fire({"alertname": "TargetDown", "env": "prod", "job": "node", "instance": "prod-1"})
    am.fire({"alertname": "TargetDown", "env": "staging", "job": "node", "instance": "stg-1"})
    [card] = wait_until(stack.messages, timeout=20, what="the prod card")

    click(stack, card, ActionId.SILENCE_1H)
    [silence] = wait_until(am.silences, what="a silence in Alertmanager")
    matchers = {(m["name"], m["value"]) for m in silence["matchers"]}
    assert {("alertname", "TargetDown"), ("env", "prod")} <= matchers
    wait_until(lambda: states(am) == {"prod-1": "suppressed", "stg-1": "active"}, what="states")
    reply = wait_until(lambda: stack.emulator.ephemerals, what="the answer")[-1]
    assert '`env="prod"`' in reply.text
    assert "0 elsewhere" in reply.text


def test_an_over_broad_silence_is_refused_until_confirmed(
    shared: tuple[SeawallStack, Alertmanager],
) -> None:
    stack, am = shared
    am.post_alerts(
        [
            {"labels": {"alertname": "TargetDown", "env": "prod", "job": job, "instance": host}}
            for job, host in (("api", "api-1"), ("web", "web-1"))
        ]
        + [
            {"labels": {"alertname": "TargetDown", "env": "prod", "team": "db", "instance": db}}
            for db in ("db-1", "db-2", "db-3")
        ]
    )
    [card] = wait_until(stack.messages, timeout=20, what="the card with api-1 and web-1")
    wait_until(lambda: len(am.alerts()) == 5, what="all five alerts in Alertmanager")

    click(stack, card, ActionId.SILENCE_1H)
    [asked] = wait_until(lambda: stack.emulator.ephemerals, what="the question")
    assert "3 firing alerts elsewhere" in asked.text
    assert '`alertname="TargetDown"` `env="prod"`' in asked.blocks[0]["text"]["text"]
    assert am.silences() == []

    value = button_value(asked, ActionId.SILENCE_CONFIRM)
    assert value is not None
    stack.sender.block_action(
        action_id=ActionId.SILENCE_CONFIRM,
        value=value,
        user_id="U0ALICE",
        channel_id=CHANNEL,
        message_ts=card.ts,
    )
    [silence] = wait_until(am.silences, what="the confirmed silence")
    assert {(m["name"], m["value"]) for m in silence["matchers"]} == {
        ("alertname", "TargetDown"),
        ("env", "prod"),
    }
    wait_until(lambda: set(states(am).values()) == {"suppressed"}, what="all five silenced")

"""Silence storm through a real Alertmanager: asked first with the exact matchers and counts,
then one silence that quiets every alert of the storm."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cards.common import ActionId
from bot.core.config import FileConfig
from bot.core.storm_config import StormConfig
from bot.emulator import EmulatedMessage
from tests.conftest import StackFactory, emulator_config
from tests.support.alertmanager import Alertmanager, WebhookReceiver
from tests.support.stack import ALERTMANAGER_TOKEN, CHANNEL, SeawallStack, button_value, click
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

NAMES = [f"Flood{i:02d}" for i in range(8)]
# Routed to another receiver: Seawall never sees it, yet the storm's matchers select it.
ELSEWHERE_ROUTES = """
- receiver: elsewhere
  matchers: ['alertname="Bystander"']
"""


@pytest.fixture
def flooded(
    make_stack: StackFactory, tmp_path: Path
) -> Iterator[tuple[SeawallStack, Alertmanager, EmulatedMessage]]:
    stack = make_stack(
        emulator=emulator_config(post_message_rate_per_channel=20.0),
        file_config=FileConfig(storm=StormConfig(threshold=3)),
    )
    receiver = WebhookReceiver(
        url=f"{stack.url}/webhooks/alertmanager", bearer_token=ALERTMANAGER_TOKEN
    )
    with Alertmanager(
        tmp_path / "am",
        receiver,
        extra_receivers_yaml="- name: elsewhere\n",
        extra_routes_yaml=ELSEWHERE_ROUTES,
    ) as am:
        stack.deps.settings.alertmanager_url = am.url
        am.post_alerts(
            [
                {"labels": {"alertname": name, "team": "storage", "instance": f"node-{i}"}}
                for name in [*NAMES, "Bystander"]
                for i in range(2)
            ]
        )
        storm = wait_until(
            lambda: [m for m in stack.messages() if m.blocks and "STORM" in header(m)],
            timeout=20,
            what="the storm card",
        )[0]
        wait_until(
            lambda: "· 8 groups firing" in header(stack.emulator.message(CHANNEL, storm.ts)),
            timeout=20,
            what="all eight groups on the storm card",
        )
        yield stack, am, storm


def header(message: EmulatedMessage | None) -> str:
    return str(message.blocks[0]["text"]["text"]) if message else ""


def test_silence_storm_asks_with_the_exact_matchers_then_silences_the_storm(
    flooded: tuple[SeawallStack, Alertmanager, EmulatedMessage],
) -> None:
    stack, am, storm = flooded
    click(stack, storm, ActionId.STORM_SILENCE)
    [asked] = wait_until(lambda: stack.emulator.ephemerals, what="the question")
    question = asked.blocks[0]["text"]["text"]
    assert '`team="storage"`' in question
    assert "*16 firing alerts* of this storm and *2 firing alerts elsewhere*" in question
    assert am.silences() == []

    value = button_value(asked, ActionId.STORM_SILENCE_CONFIRM)
    assert value is not None
    for _ in range(2):  # a double click creates one silence
        stack.sender.block_action(
            action_id=ActionId.STORM_SILENCE_CONFIRM,
            value=value,
            user_id="U0ALICE",
            channel_id=CHANNEL,
            message_ts=storm.ts,
        )
    [silence] = wait_until(am.silences, what="the silence")
    assert {(m["name"], m["value"]) for m in silence["matchers"]} == {("team", "storage")}
    wait_until(
        lambda: {a["status"]["state"] for a in am.alerts()} == {"suppressed"},
        what="every alert silenced",
    )
    wait_until(
        lambda: (
            "Storm silenced by <@U0ALICE>" in str(stack.emulator.message(CHANNEL, storm.ts).blocks)
        ),
        what="the storm card showing the silence",
    )
    assert len(am.silences()) == 1


def test_a_confirmation_for_other_matchers_silences_nothing(
    flooded: tuple[SeawallStack, Alertmanager, EmulatedMessage],
) -> None:
    stack, am, storm = flooded
    forged = '{"c":"' + storm_card_id(stack, storm) + '","d":"0123456789abcdef"}'
    stack.sender.block_action(
        action_id=ActionId.STORM_SILENCE_CONFIRM,
        value=forged,
        user_id="U0ALICE",
        channel_id=CHANNEL,
        message_ts=storm.ts,
    )
    [answer] = wait_until(lambda: stack.emulator.ephemerals, what="the refusal")
    assert "nothing was silenced" in answer.text
    assert am.silences() == []


def storm_card_id(stack: SeawallStack, message: EmulatedMessage) -> str:
    found = stack.server.run_coroutine(stack.deps.store.card_for_message(CHANNEL, message.ts))
    assert found is not None
    return str(found)

"""Storms through the real app, poster, Redis and the Slack emulator (with Slack's limits)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from bot.cards.common import ActionId
from bot.core.config import FileConfig
from bot.core.storm_config import StormConfig
from bot.emulator import EmulatedMessage
from tests.conftest import StackFactory, emulator_config
from tests.fixtures.alertmanager_payloads import group_payload
from tests.support.stack import CHANNEL, SeawallStack, click
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

GROUPS = 60


def storm_stack(make_stack: StackFactory, **storm: Any) -> SeawallStack:
    """Slack's limits, a little faster than Slack (20 new messages a second per channel) so
    the groups' own cards are all out within seconds."""
    config = FileConfig(storm=StormConfig(**storm))
    return make_stack(
        emulator=emulator_config(post_message_rate_per_channel=20.0),
        file_config=config,
        seawall_post_interval=0.05,
    )


def send_all(stack: SeawallStack, payloads: list[dict[str, object]]) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda p: stack.post_alertmanager(p).status_code, payloads))
    assert set(statuses) == {200}


def storm_cards(stack: SeawallStack) -> list[EmulatedMessage]:
    return [m for m in stack.messages() if m.blocks and "STORM" in header(m)]


def group_cards(stack: SeawallStack) -> list[EmulatedMessage]:
    return [m for m in stack.messages() if m.blocks and "STORM" not in header(m)]


def header(message: EmulatedMessage) -> str:
    return str(message.blocks[0]["text"]["text"])


def text_of(message: EmulatedMessage) -> str:
    return json.dumps(message.blocks, ensure_ascii=False)


def shows_every_group(message: EmulatedMessage, names: list[str], firing: int) -> bool:
    body = text_of(message)
    return all(f"`{name}` {firing} firing" in body for name in names)


@pytest.fixture
def names() -> list[str]:
    return [f"Storm{i:03d}" for i in range(GROUPS)]


def test_a_burst_of_60_groups_gets_one_storm_card_that_converges_then_says_it_is_over(
    make_stack: StackFactory, names: list[str]
) -> None:
    stack = storm_stack(make_stack)
    send_all(stack, [group_payload(n, alerts=1) for n in names])
    send_all(stack, [group_payload(n, alerts=3) for n in names])

    [card] = wait_until(lambda: storm_cards(stack), timeout=20, what="the storm card")
    wait_until(
        lambda: shows_every_group(stack.emulator.message(CHANNEL, card.ts), names, 3),
        timeout=30,
        what="every group at 3 firing on the storm card",
    )
    wait_until(lambda: len(group_cards(stack)) == GROUPS, timeout=30, what="every group's card")
    assert header(stack.emulator.message(CHANNEL, card.ts)).startswith(
        "⛈️ STORM · 60 groups firing · 180 alerts · worst: critical Storm000"
    )

    send_all(stack, [group_payload(n, status="resolved", alerts=0, resolved=3) for n in names])
    wait_until(
        lambda: header(stack.emulator.message(CHANNEL, card.ts)).startswith("🌤️ STORM OVER"),
        timeout=30,
        what="the storm card saying the storm is over",
    )
    final = stack.emulator.message(CHANNEL, card.ts)
    assert header(final) == "🌤️ STORM OVER · 60 groups, all resolved"
    assert "Storm over at" in text_of(final)
    assert "every group resolved." in text_of(final)
    assert "Acknowledge all" not in text_of(final)  # nothing left to act on
    # The thread reply follows the card's update (a separate call, paced with the channel).
    replies = wait_until(
        lambda: stack.emulator.message(CHANNEL, card.ts).replies, timeout=10, what="the reply"
    )
    assert [r.text for r in replies] == ["🌤️ Storm over: all 60 groups resolved."]
    assert len(storm_cards(stack)) == 1
    assert len(group_cards(stack)) == GROUPS  # still one message per group
    assert not [
        c for c in stack.emulator.calls if c.http_status == 429 and c.method == "chat.update"
    ]


def test_a_storm_with_no_change_for_its_quiet_time_is_over(make_stack: StackFactory) -> None:
    stack = storm_stack(make_stack, quiet="2s")
    send_all(stack, [group_payload(f"Quiet{i:02d}") for i in range(15)])
    [card] = wait_until(lambda: storm_cards(stack), timeout=20, what="the storm card")
    wait_until(
        lambda: header(stack.emulator.message(CHANNEL, card.ts)).startswith("🌤️ STORM OVER"),
        timeout=20,
        what="the storm over by quiet",
    )
    final = stack.emulator.message(CHANNEL, card.ts)
    assert header(final) == "🌤️ STORM OVER · quiet for 2 s · 15 of 15 groups still firing"
    assert "nothing changed for 2 s" in text_of(final)


def test_summary_only_groups_get_no_card_and_the_worst_groups_go_first(
    make_stack: StackFactory,
) -> None:
    stack = storm_stack(make_stack, summary_only=["info"], threshold=5)
    info = [group_payload(f"Info{i:02d}", severity="info") for i in range(12)]
    warning = [group_payload(f"Warn{i:02d}", severity="warning") for i in range(4)]
    critical = [group_payload(f"Crit{i:02d}", severity="critical") for i in range(4)]
    send_all(stack, info + warning + critical)
    [card] = wait_until(lambda: storm_cards(stack), timeout=20, what="the storm card")
    storm_at = stack.messages().index(card)
    wait_until(
        lambda: len(group_cards(stack)) >= 8, timeout=20, what="the warning and critical cards"
    )
    wait_until(
        lambda: "`Info11` 1 firing" in text_of(stack.emulator.message(CHANNEL, card.ts)),
        timeout=20,
        what="the info groups on the storm card",
    )
    after = [header(m).rsplit("· ", 1)[-1] for m in stack.messages()[storm_at + 1 :]]
    ranks = [{"Crit": 0, "Warn": 1}.get(n[:4], 2) for n in after]
    assert ranks == sorted(ranks), [header(m) for m in stack.messages()]
    assert not any(n.startswith("Info") for n in after)
    assert "summary only" in text_of(stack.emulator.message(CHANNEL, card.ts))


def test_acknowledge_all_acknowledges_every_firing_group_once(make_stack: StackFactory) -> None:
    stack = storm_stack(make_stack)
    send_all(stack, [group_payload(f"Ack{i:02d}") for i in range(12)])
    [card] = wait_until(lambda: storm_cards(stack), timeout=20, what="the storm card")
    wait_until(lambda: len(group_cards(stack)) == 12, timeout=20, what="the groups' cards")

    assert click(stack, card, ActionId.STORM_ACK_ALL, "U0BOB").status_code == 200
    wait_until(
        lambda: "All acknowledged by <@U0BOB>" in text_of(stack.emulator.message(CHANNEL, card.ts)),
        timeout=20,
        what="the storm card showing the acknowledgement",
    )
    for member in group_cards(stack):
        stored = stack.deps.store
        card_id = stack.server.run_coroutine(stored.card_for_message(CHANNEL, member.ts))
        acked = stack.server.run_coroutine(stored.get_card(card_id))
        assert acked is not None
        assert acked.ack is not None
        assert acked.ack.user_id == "U0BOB"
    [answer] = wait_until(lambda: stack.emulator.ephemerals, what="the answer")
    assert answer.text.startswith("Acknowledged 12 firing groups.")

"""Acknowledging from anywhere stops the ladder, once, and every card and DM shows who."""

from __future__ import annotations

import json

import pytest

from bot.cards.common import ActionId
from tests.integration.paging.conftest import ALICE, BOB, CAROL, World
from tests.support.stack import CHANNEL, declare_from_card
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def _everything_sent(world: World) -> int:
    return len(world.ntfy.published) + world.dm_count(ALICE) + world.dm_count(CAROL)


def _ack_by_dm(world: World, user: str) -> None:
    [dm] = world.wait_dms(user, 1)
    world.click(world.stack.emulator.dm_channel(user), dm, ActionId.PAGE_ACK, user)


def _ack_by_card(world: World, user: str) -> None:
    card = world.card_message("DiskFull", "Paging")
    world.click(CHANNEL, card, ActionId.ACK, user)


def _ack_by_push(world: World, user: str) -> None:
    [push] = world.pushes("alice" if user == ALICE else "carol")[-1:]
    response = world.press(push.action_urls()[0])
    assert response.status_code == 200, response.text
    assert response.text.startswith("Acknowledged: paging stopped for DiskFull")


def _ack_by_command(world: World, user: str) -> None:
    assert world.command("ack", user=user).startswith("Acknowledged: paging stopped")


WAYS = {"dm": _ack_by_dm, "card": _ack_by_card, "push": _ack_by_push, "command": _ack_by_command}


@pytest.mark.parametrize("level", [1, 2])
@pytest.mark.parametrize("way", sorted(WAYS))
def test_an_acknowledgement_at_each_level_stops_the_ladder(
    world: World, level: int, way: str
) -> None:
    card_id = world.fire("DiskFull")
    user = ALICE if level == 1 else CAROL
    world.driver.advance(60 if level == 1 else 6 * 60)  # a push has gone out at this level
    WAYS[way](world, user)
    sent = _everything_sent(world)
    world.driver.advance(60 * 60)
    assert _everything_sent(world) == sent  # nothing more, ever
    page = world.page_of(card_id)
    assert page is not None
    assert page.state == "acked"
    assert page.acked_by == user
    card = world.card_message("DiskFull", "Paging stopped")
    text = json.dumps(card.blocks)
    assert f"Acknowledged by <@{user}> at <!date^" in text  # the reader's own time zone
    wait_until(
        lambda: "Acknowledged by" in json.dumps(world.dms(user)[0].blocks),
        what="the DM to show the acknowledgement",
    )


def test_a_double_acknowledgement_changes_nothing_the_second_time(world: World) -> None:
    world.fire("DiskFull")
    [dm] = world.wait_dms(ALICE, 1)
    channel = world.stack.emulator.dm_channel(ALICE)
    world.click(channel, dm, ActionId.PAGE_ACK, ALICE)
    world.click(channel, dm, ActionId.PAGE_ACK, ALICE)
    wait_until(lambda: len(world.stack.emulator.ephemerals) >= 2, what="two answers")
    answers = [e.text for e in world.stack.emulator.ephemerals]
    assert answers[0].startswith("Acknowledged")
    assert answers[1].startswith("Already acknowledged by <@U0ALICE>")


def test_only_the_recipient_can_acknowledge_from_a_dm(world: World) -> None:
    card_id = world.fire("DiskFull")
    [dm] = world.wait_dms(ALICE, 1)
    # A forged click: bob presses a button on a message in alice's DM.
    world.click(world.stack.emulator.dm_channel(ALICE), dm, ActionId.PAGE_ACK, BOB)
    page = world.page_of(card_id)
    assert page is not None
    assert page.state == "open"
    wait_until(lambda: world.stack.emulator.ephemerals, what="the refusal")
    assert "sent to <@U0ALICE>" in world.stack.emulator.ephemerals[0].text


def test_declaring_an_incident_from_the_card_acknowledges_its_page(world: World) -> None:
    card_id = world.fire("DiskFull")
    card = world.card_message("DiskFull", "Paging")
    declare_from_card(world.stack, card, BOB)  # the button's form, submitted
    wait_until(  # the answer comes once the declaration told paging
        lambda: [e for e in world.stack.emulator.ephemerals if e.user == BOB],
        what="the declaration's answer",
    )
    world.driver.run_due()
    page = world.page_of(card_id)
    assert page is not None
    assert page.state == "acked"
    assert page.ack_via == "incident declared"

"""The escalation ladder end to end: a critical alert through the real app, DMs in the Slack
emulator, pushes through Apprise to a fake ntfy, a clock the test moves."""

from __future__ import annotations

import json

import pytest

from bot.emulator import EmulatedUser
from tests.integration.paging.conftest import ALICE, CAROL, START, USERS, World, WorldFactory
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def test_the_ladder_fires_each_step_at_its_time(world: World) -> None:
    world.fire("DiskFull")
    [dm] = world.wait_dms(ALICE, 1)  # step 0, at once
    assert "Page: DiskFull (critical)" in dm.blocks[0]["text"]["text"]
    assert world.pushes("alice") == []
    world.driver.advance(59)
    assert world.pushes("alice") == []
    world.driver.advance(1)  # 1 min: ntfy, priority 5
    [push] = world.pushes("alice")
    assert push.method == "POST"
    assert push.priority == "max"  # ?priority=5 is ntfy's max
    assert push.title == "🚨 DiskFull (critical)"
    assert len(push.action_urls()) == 1
    world.driver.advance(120)  # 3 min: the louder one
    assert len(world.pushes("alice-loud")) == 1
    assert world.dms(CAROL) == []
    world.driver.advance(120)  # 5 min: level 2
    world.wait_dms(CAROL, 1)
    world.driver.advance(60)
    assert len(world.pushes("carol")) == 1
    assert len(world.pushes("alice")) == 1  # level 1's people are not pushed again
    times = {f: t for t, f, _ in world.driver.queue.ran if f == "page_tick"}
    assert times  # ticks ran as jobs at their due times
    card = world.card_message("DiskFull", "level 2 of 2")
    assert f"<@{CAROL}>" in json.dumps(card.blocks)


def test_after_every_round_nobody_acknowledged_goes_to_the_channel_once(world: World) -> None:
    card_id = world.fire("DiskFull")
    world.driver.advance(20 * 60)  # two rounds of two levels of 5 min, and more
    assert len(world.pushes("alice")) == 2  # once per round
    assert len(world.pushes("carol")) == 2
    alarm = wait_until(
        lambda: next((m for m in world.stack.messages() if m.text.startswith("<!here>")), None),
        what="the nobody-acknowledged message",
    )
    assert "Nobody acknowledged" in alarm.text
    world.driver.advance(60 * 60)
    assert len([m for m in world.stack.messages() if m.text.startswith("<!here>")]) == 1
    page = world.page_of(card_id)
    assert page is not None
    assert page.state == "exhausted"


@pytest.mark.parametrize("state", ["dnd", "away"])
def test_dnd_or_away_skips_straight_to_the_loud_step(make_world: WorldFactory, state: str) -> None:
    window = (START.timestamp() - 3600, START.timestamp() + 8 * 3600)
    alice = (
        EmulatedUser(name="alice", tz="Europe/Paris", dnd=window)
        if state == "dnd"
        else EmulatedUser(name="alice", tz="Europe/Paris", presence="away")
    )
    world = make_world(users={**USERS, ALICE: alice})
    world.fire("DiskFull")
    assert len(world.pushes("alice")) == 1  # at once, not after 1 min
    [dm] = world.wait_dms(ALICE, 1)  # the DM still carries the Acknowledge button
    reason = "in Do Not Disturb" if state == "dnd" else "away on Slack"
    assert reason in json.dumps(dm.blocks)
    world.driver.advance(119)
    assert world.pushes("alice-loud") == []
    world.driver.advance(1)  # the louder steps keep their spacing: 3m - 1m
    assert len(world.pushes("alice-loud")) == 1


def test_a_snooze_is_invisible_to_a_bot_so_the_ladder_still_pushes(
    make_world: WorldFactory,
) -> None:
    alice = EmulatedUser(name="alice", tz="Europe/Paris", snoozed=True)
    world = make_world(users={**USERS, ALICE: alice})
    world.fire("DiskFull")
    assert world.pushes("alice") == []  # Slack said nothing of the snooze
    world.driver.advance(60)
    assert len(world.pushes("alice")) == 1  # the ladder does not rely on Slack alone


def test_a_slack_outage_sends_the_loud_steps_at_once(world: World) -> None:
    world.stack.emulator.inject_fault(None, 500, count=10, error="internal_error")
    world.fire("DiskFull")
    assert len(world.pushes("alice")) == 1

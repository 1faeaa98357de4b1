"""What pages and how often: page_on, resolves, storms, flapping, maintenance pauses."""

from __future__ import annotations

import json

import pytest

from tests.integration.paging.conftest import ALICE, World
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def test_an_alert_that_page_on_does_not_name_only_posts_a_card(world: World) -> None:
    card_id = world.fire("SlowQueries", severity="warning")
    world.card_message("SlowQueries")
    world.driver.advance(30 * 60)
    assert world.page_of(card_id) is None
    assert world.dm_count(ALICE) == 0
    assert world.ntfy.published == []


def test_resolved_before_acknowledgement_stops_the_ladder_and_tells_the_pager_once(
    world: World,
) -> None:
    started = world.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    card_id = world.fire("DiskFull", starts_at=started)
    world.driver.advance(70)
    assert len(world.pushes("alice")) == 1
    world.resolve("DiskFull", starts_at=started)
    world.driver.advance(60 * 60)
    assert world.pushes("alice-loud") == []  # nothing after the resolve
    page = world.page_of(card_id)
    assert page is not None
    assert page.state == "resolved"
    [_dm] = world.wait_dms(ALICE, 1)
    note = wait_until(
        lambda: [r for r in world.dms(ALICE)[0].replies if "no action needed" in r.text],
        what="the resolved note in the DM's thread",
    )
    assert len(note) == 1
    assert "Paging stopped: resolved before anyone acknowledged" in json.dumps(
        world.card_message("DiskFull", "RESOLVED").blocks
    )


def test_a_storm_of_50_groups_is_one_page(world: World) -> None:
    card_ids = [
        world.fire(f"Disk{i:02d}", severity="page" if i % 7 else "critical") for i in range(50)
    ]
    pages = {page.page_id for page in map(world.page_of, card_ids) if page is not None}
    assert len(pages) == 1
    [_dm] = world.wait_dms(ALICE, 1)
    world.driver.advance(60)
    [push] = world.pushes("alice")
    # A storm page says the storm card's first line (bot/storm): its shape, the worst group.
    assert push.title.startswith("🚨 ⛈️ STORM · ")
    assert push.title.endswith(" alerts · worst: critical Disk00")
    wait_until(
        lambda: "⛈️ STORM · " in json.dumps(world.dms(ALICE)[0].blocks, ensure_ascii=False),
        what="the DM to name the storm",
    )
    world.driver.advance(2 * 60)
    assert len(world.pushes("alice-loud")) == 1
    assert world.dm_count(ALICE) == 1


def test_a_flapping_alert_pages_once_per_window(world: World) -> None:
    first = world.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    world.fire("Flappy", starts_at=first)
    world.command("ack")
    pushes_before = len(world.ntfy.published)
    for _ in range(5):  # fires and resolves every 4 minutes, within the 30 min window
        world.driver.advance(2 * 60)
        started = world.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        world.resolve("Flappy", starts_at=first)
        world.driver.advance(2 * 60)
        world.fire("Flappy", starts_at=started)
        first = started
    world.driver.advance(10 * 60)
    assert world.dm_count(ALICE) == 1
    assert len(world.ntfy.published) == pushes_before
    world.driver.advance(30 * 60)  # past the window: a new occurrence pages again
    started = world.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    world.resolve("Flappy", starts_at=first)
    world.fire("Flappy", starts_at=started)
    world.wait_dms(ALICE, 2)


def test_a_page_that_resolved_and_fires_again_carries_on_instead_of_starting_over(
    world: World,
) -> None:
    first = world.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    card_id = world.fire("Flappy", starts_at=first)
    world.driver.advance(30)
    world.resolve("Flappy", starts_at=first)
    world.driver.advance(30)
    world.fire("Flappy", starts_at=world.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"))
    page = world.page_of(card_id)
    assert page is not None
    assert page.state == "open"
    world.driver.advance(60)
    assert len(world.pushes("alice")) == 1
    assert world.dm_count(ALICE) == 1  # the same DM, not a second wake-up in Slack


def test_a_maintenance_pause_holds_pages_and_shows_on_every_card(world: World) -> None:
    reply = world.command("pause 1h")
    assert "paused paging for 1 h" in reply
    card_id = world.fire("DiskFull")
    world.fire("SlowQueries", severity="warning")
    assert "Paging paused" in json.dumps(world.card_message("DiskFull", "Paging paused").blocks)
    assert "Paging paused" in json.dumps(world.card_message("SlowQueries", "Paging paused").blocks)
    world.driver.advance(59 * 60)
    assert world.dm_count(ALICE) == 0
    assert world.ntfy.published == []
    world.driver.advance(60)  # the pause ends: what still fires pages now
    world.wait_dms(ALICE, 1)
    page = world.page_of(card_id)
    assert page is not None
    assert page.state == "open"
    card = world.card_message("SlowQueries")
    wait_until(
        lambda: "Paging paused" not in json.dumps(world.card_message("SlowQueries").blocks),
        what="the pause line to leave the cards",
    )
    del card


def test_resume_ends_a_pause_at_once(world: World) -> None:
    world.command("pause 2h")
    world.fire("DiskFull")
    assert world.dm_count(ALICE) == 0
    assert "resumed paging" in world.command("resume")
    world.wait_dms(ALICE, 1)


def test_an_alert_joining_an_acknowledged_storm_is_not_marked_acknowledged_itself(
    world: World,
) -> None:
    first = world.fire("DiskFull")
    world.command("ack")
    world.driver.advance(30)
    second = world.fire("DiskFull2")
    pages = {world.page_of(first).page_id, world.page_of(second).page_id}  # type: ignore[union-attr]
    assert len(pages) == 1  # within the storm window: the same page, no new wake-up
    assert world.dm_count(ALICE) == 1
    card = world.card(second)
    assert card is not None
    assert card.ack is None
    assert card.paging is not None
    assert card.paging.state == "acked"

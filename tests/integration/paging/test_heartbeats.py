"""Dead-man's switches: a heartbeat that stops arriving pages; Seawall pings one outside."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.models.heartbeat import heartbeat_card_id
from bot.paging.heartbeat import HEARTBEAT_PING_JOB, ping_loop
from tests.fixtures.alertmanager_payloads import group_payload
from tests.integration.paging.conftest import ALICE, World, WorldFactory
from tests.support.servers import ServerThread
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def watchdog(world: World) -> None:
    payload = group_payload("Watchdog", severity="none")
    payload["alerts"][0]["startsAt"] = "2026-03-01T00:00:00Z"  # type: ignore[index]
    response = world.stack.post_alertmanager(payload)
    assert response.status_code == 200
    assert response.json()["outcome"] == "heartbeat"
    world.driver.run_due()


def test_heartbeat_deliveries_post_no_card(world: World) -> None:
    for _ in range(3):
        watchdog(world)
        world.driver.advance(60)
    assert world.stack.messages() == []
    assert world.dm_count(ALICE) == 0


def test_a_heartbeat_that_stops_arriving_pages_once_and_its_return_resolves_it(
    world: World,
) -> None:
    watchdog(world)
    world.driver.advance(9 * 60)
    watchdog(world)  # still alive at 9 min
    world.driver.advance(9 * 60)
    assert world.dm_count(ALICE) == 0
    world.driver.advance(60)  # 10 min after the last one: missing
    [dm] = world.wait_dms(ALICE, 1)
    assert "heartbeat watchdog missing" in json.dumps(dm.blocks)
    card = wait_until(
        lambda: next(
            (m for m in world.stack.messages() if "MISSING" in json.dumps(m.blocks)), None
        ),
        what="the heartbeat card",
    )
    assert "has not arrived for 10 min" in json.dumps(card.blocks)
    world.driver.advance(3 * 60)  # later checks find the same outage: no second page
    assert world.dm_count(ALICE) == 1
    watchdog(world)  # it is back
    page = world.page_of(heartbeat_card_id("watchdog"))
    assert page is not None
    assert page.state == "resolved"


def test_paging_stops_when_the_heartbeat_returns_before_anyone_acknowledged(
    make_world: WorldFactory,
) -> None:
    world = make_world()
    watchdog(world)
    world.driver.advance(10 * 60)
    world.wait_dms(ALICE, 1)
    watchdog(world)
    pushes = len(world.ntfy.published)
    for _ in range(6):  # it keeps arriving, as a Watchdog does
        world.driver.advance(5 * 60)
        watchdog(world)
    assert len(world.ntfy.published) == pushes
    assert world.dm_count(ALICE) == 1


class PingCounter:
    """A healthchecks.io-style endpoint: counts the pings it gets."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()
        self.server = ServerThread(Starlette(routes=[Route("/ping/{uuid}", self.ping)]))

    async def ping(self, request: Request) -> Response:
        with self._lock:
            self.count += 1
        return PlainTextResponse("OK")


@pytest.fixture
def pings() -> Iterator[PingCounter]:
    counter = PingCounter()
    counter.server.start()
    yield counter
    counter.server.stop()


def test_the_workers_ping_the_outside_heartbeat_once_per_minute_between_them(
    pings: PingCounter, make_world: WorldFactory
) -> None:
    world = make_world(settings={"seawall_heartbeat_url": f"{pings.server.url}/ping/abc"})

    async def two_loops() -> None:
        stop = asyncio.Event()
        loops = [
            asyncio.create_task(
                ping_loop(jobs=world.stack.deps.jobs, clock=world.clock, stop=stop, interval_s=60)
            )
            for _ in range(2)  # two workers: one ping per minute between them
        ]
        await asyncio.sleep(0.2)
        stop.set()
        await asyncio.gather(*loops)

    world.stack.server.run_coroutine(two_loops())
    assert [f for _, f in world.driver.queue.pending(HEARTBEAT_PING_JOB)] == [HEARTBEAT_PING_JOB]
    world.driver.run_due()
    assert pings.count == 1

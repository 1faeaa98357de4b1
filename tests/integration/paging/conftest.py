"""A paging world: the real app and poster, real Redis, the Slack emulator, a fake ntfy
server that Apprise really pushes to, and a FrozenClock that jobs wait on (ClockedJobQueue),
so minutes of escalation run in milliseconds."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from bot.core.clock import FrozenClock
from bot.core.config import FileConfig
from bot.emulator import EmulatedMessage, EmulatedUser
from bot.models.card import TriageCard
from bot.models.page import Page
from bot.paging.state import PageStore
from tests.conftest import emulator_config, start_stack
from tests.fixtures.alertmanager_payloads import group_payload
from tests.support.clocked_jobs import ClockedJobQueue, Driver
from tests.support.fake_ntfy import FakeNtfy, Publish
from tests.support.redis_server import RedisServer
from tests.support.stack import CHANNEL, SeawallStack, button_value
from tests.support.waiting import wait_until

ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"
# A Tuesday, 04:00 in Paris: alice's week on the primary rota (handoff Monday 09:00).
START = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)
PUBLIC_URL = "https://seawall.test"
ACK_SECRET = "test-ack-secret-0123456789abcdef0123456789"
USERS = {
    ALICE: EmulatedUser(name="alice", tz="Europe/Paris"),
    BOB: EmulatedUser(name="bob", tz="America/New_York"),
    CAROL: EmulatedUser(name="carol", tz="Europe/London"),
}


def oncall_section(ntfy: FakeNtfy, **overrides: Any) -> dict[str, Any]:
    """The contract's example, pointed at the fake ntfy: alice is pushed at 1 min (ntfy,
    priority 5) and 3 min (a second topic standing in for Pushover emergency)."""
    section: dict[str, Any] = {
        "schedules": {
            "primary": {
                "timezone": "Europe/Paris",
                "rotation": "weekly",
                "handoff": "mon 09:00",
                "members": [ALICE, BOB],
                "start": "2026-03-02",
            }
        },
        "people": {
            ALICE: {
                "notify": [
                    {"via": "slack", "after": "0s"},
                    {"via": ntfy.apprise_url("alice", priority="5"), "after": "1m"},
                    {"via": ntfy.apprise_url("alice-loud", priority="max"), "after": "3m"},
                ]
            },
            BOB: {"notify": [{"via": ntfy.apprise_url("bob", priority="5"), "after": "1m"}]},
            CAROL: {"notify": [{"via": ntfy.apprise_url("carol", priority="5"), "after": "1m"}]},
        },
        "escalation": [
            {"notify": "schedule:primary", "ack_timeout": "5m"},
            {"notify": [CAROL], "ack_timeout": "5m"},
        ],
        "repeat": 1,
        "page_on": {
            "alertmanager": {"severity": ["critical", "page"]},
            "sentry": {"level": ["fatal"]},
        },
        "heartbeats": [{"name": "watchdog", "alertname": "Watchdog", "timeout": "10m"}],
    }
    section.update(overrides)
    return section


@dataclass
class World:
    stack: SeawallStack
    driver: Driver
    ntfy: FakeNtfy
    clock: FrozenClock
    http: httpx.Client

    # --- sending alerts -------------------------------------------------------------------

    def fire(self, name: str, severity: str = "critical", starts_at: str | None = None) -> str:
        payload = group_payload(name, severity=severity, starts_at=starts_at or self._iso())
        response = self.stack.post_alertmanager(payload)
        assert response.status_code == 200, response.text
        self.driver.run_due()
        return str(response.json().get("card", ""))

    def resolve(self, name: str, starts_at: str) -> None:
        payload = group_payload(name, status="resolved", alerts=0, resolved=1, starts_at=starts_at)
        payload["alerts"][0]["endsAt"] = self._iso()  # type: ignore[index]
        response = self.stack.post_alertmanager(payload)
        assert response.status_code == 200, response.text
        self.driver.run_due()

    def _iso(self) -> str:
        return self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")

    # --- what people got -------------------------------------------------------------------

    def dms(self, user: str) -> list[EmulatedMessage]:
        return self.stack.emulator.messages(self.stack.emulator.dm_channel(user))

    def wait_dms(self, user: str, count: int) -> list[EmulatedMessage]:
        return wait_until(
            lambda: (m := self.dms(user)) and len(m) >= count and m,
            what=f"{count} DM(s) to {user}",
        )

    def settle(self, channel: str) -> None:
        """Wait until Slack shows every card of `channel` as stored (the poster runs in real
        time, at Slack's pace)."""

        async def drained() -> bool:
            return await self.stack.deps.store.outbox_size(channel) == 0

        wait_until(lambda: self.stack.server.run_coroutine(drained()), what=f"{channel} posted")

    def dm_count(self, user: str) -> int:
        self.settle(self.stack.emulator.dm_channel(user))
        return len(self.dms(user))

    def pushes(self, topic: str) -> list[Publish]:
        return self.ntfy.to(topic)

    def card_message(self, name: str, contains: str = "") -> EmulatedMessage:
        """The card of alert group `name` in the alert channel, once it shows `contains`."""

        def find() -> EmulatedMessage | None:
            for message in self.stack.messages(CHANNEL):
                text = json.dumps(message.blocks)
                if name in text and contains in text:
                    return message
            return None

        return wait_until(find, what=f"the card of {name} showing {contains!r}")

    # --- acting ---------------------------------------------------------------------------

    def press(self, url: str) -> httpx.Response:
        """What the phone does with ntfy's http action: POST the URL. SEAWALL_PUBLIC_URL
        stands for this stack (a reverse proxy would forward the path the same way)."""
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == PUBLIC_URL
        return self.http.post(f"{self.stack.url}{parts.path}")

    def click(self, channel: str, message: EmulatedMessage, action: str, user: str) -> None:
        value = button_value(message, action)
        assert value is not None, f"no {action} button"
        self.stack.sender.block_action(
            action_id=action, value=value, user_id=user, channel_id=channel, message_ts=message.ts
        )
        self.driver.run_due()  # the card_button job

    def command(self, text: str, user: str = ALICE) -> str:
        response = self.stack.sender.slash_command("/oncall", text, user_id=user)
        assert response.status_code == 200
        self.driver.run_due()
        return str(response.json().get("text", ""))

    # --- state ------------------------------------------------------------------------------

    def page_of(self, card_id: str) -> Page | None:
        store = PageStore(self.stack.deps.redis)
        return self.stack.server.run_coroutine(store.page_of_card(card_id))

    def card(self, card_id: str) -> TriageCard | None:
        return self.stack.server.run_coroutine(self.stack.deps.store.get_card(card_id))


WorldFactory = Callable[..., World]


@pytest.fixture(scope="module")
def _module_ntfy() -> Iterator[FakeNtfy]:
    with FakeNtfy() as server:
        yield server


@pytest.fixture
def ntfy(_module_ntfy: FakeNtfy) -> FakeNtfy:
    _module_ntfy.clear()
    return _module_ntfy


def _build(redis_url: str, ntfy: FakeNtfy, **kwargs: Any) -> World:
    users: dict[str, EmulatedUser] | None = kwargs.pop("users", None)
    settings: dict[str, Any] = kwargs.pop("settings", None) or {}
    clock = FrozenClock(START)
    queue = ClockedJobQueue(clock)
    section = oncall_section(ntfy, **kwargs.pop("oncall", {}))
    file_config = FileConfig.model_validate({"oncall": section, **kwargs})
    stack = start_stack(
        redis_url,
        emulator=emulator_config(users=dict(users or USERS)),
        worker=False,
        file_config=file_config,
        clock=clock,
        jobs=queue,
        **{"seawall_public_url": PUBLIC_URL, "seawall_ack_secret": ACK_SECRET, **settings},
    )
    return World(
        stack, Driver(stack.server, stack.deps, queue), ntfy, clock, httpx.Client(timeout=10)
    )


def _close(world: World) -> None:
    world.http.close()
    world.stack.close()


@pytest.fixture
def make_world(redis_url: str, ntfy: FakeNtfy) -> Iterator[WorldFactory]:
    """A world of its own, for tests that change the config, the users or the settings."""
    worlds: list[World] = []

    def build(**kwargs: Any) -> World:
        worlds.append(_build(redis_url, ntfy, **kwargs))
        return worlds[-1]

    yield build
    for world in worlds:
        _close(world)


@pytest.fixture(scope="module")
def _module_world(redis_server: RedisServer, _module_ntfy: FakeNtfy) -> Iterator[World]:
    """One world per test module, reset between its tests: starting and stopping three
    servers per test would cost the suite more than all the tests here do."""
    if not redis_server.is_running():
        redis_server.restart()
    # A database of its own: a world built by make_world runs beside this one, and two
    # posters on one keyspace would each post the other's cards.
    world = _build(redis_server.url.rsplit("/", 1)[0] + "/15", _module_ntfy)
    yield world
    _close(world)


@pytest.fixture
def world(_module_world: World, redis_server: RedisServer, ntfy: FakeNtfy) -> World:
    """The contract's example config, everything as new: Redis, Slack, the clock, the jobs."""
    if not redis_server.is_running():
        redis_server.restart()
    redis_server.flushall()
    _module_world.stack.emulator.reset()
    _module_world.clock.set(START)
    _module_world.driver.queue.clear()
    return _module_world

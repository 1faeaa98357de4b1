"""The outbound poster on a paced channel: what a backlog costs Redis, and what may still move.

The poster runs in the test's event loop against a real redis-server and the Slack emulator
on a real port. Redis cost is counted from `INFO commandstats`, never timed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.alerts.intake import receive_alertmanager
from bot.alerts.payload import AlertmanagerWebhook
from bot.core import keys
from bot.core.clock import SystemClock
from bot.core.config import FileConfig
from bot.core.metrics import Metrics
from bot.core.slack import make_client
from bot.emulator import SlackEmulator
from bot.poster import OutboundPoster
from bot.store import Store, connect
from bot.timeline import Timeline
from tests.conftest import emulator_config
from tests.fixtures.alertmanager_payloads import group_payload
from tests.support.servers import ServerThread
from tests.support.stack import BOT_TOKEN, CHANNEL

pytestmark = pytest.mark.integration

POST_INTERVAL_S = 0.05  # Slack's ~1 message/s per channel, sped up 20 times
LONG_PAUSE_MS = 60_000  # a pause that outlasts every test here


@pytest.fixture
def emulator() -> Iterator[tuple[SlackEmulator, str]]:
    """The emulator, allowing a little more than the poster's pace, and its API URL."""
    emu = SlackEmulator(
        emulator_config(post_message_rate_per_channel=1.5 / POST_INTERVAL_S, post_message_burst=1)
    )
    server = ServerThread(emu.app)
    server.start()
    yield emu, f"{server.url}/api/"
    server.stop()


class Scene:
    """A Store and a poster for one test; built inside the test's event loop."""

    def __init__(self, redis_url: str, api_url: str) -> None:
        self.redis = connect(redis_url)
        self.store = Store(self.redis, SystemClock())
        client = make_client(BOT_TOKEN, api_url, retry_rate_limits=False)
        self.poster = OutboundPoster(
            self.store, client, SystemClock(), Metrics(), post_interval_s=POST_INTERVAL_S
        )

    async def alert(self, group: str, alerts: int = 1) -> str:
        """Deliver a firing group, as the webhook does; returns its card id."""
        hook = AlertmanagerWebhook.model_validate(group_payload(group, alerts=alerts))
        result = await receive_alertmanager(
            hook,
            store=self.store,
            timeline=Timeline(redis=self.redis, clock=self.store.clock),
            config=FileConfig(),
            default_channel=CHANNEL,
            received_at=datetime.now(UTC),
        )
        return result.card_id

    async def commands_run(self) -> int:
        """Commands redis-server ran since the last CONFIG RESETSTAT, not counting ours."""
        stats = await self.redis.info("commandstats")
        ours = {"cmdstat_info", "cmdstat_config|resetstat"}
        return sum(int(v["calls"]) for k, v in stats.items() if k not in ours)


async def drain_until(scene: Scene, outbox_size: int, timeout: float = 10.0) -> None:
    """Run the channel's drain until its outbox is down to `outbox_size` cards, then stop it
    (between cards: a card leaves the outbox only once everything about it is recorded)."""
    task = asyncio.create_task(scene.poster.drain_channel(CHANNEL))
    deadline = time.monotonic() + timeout
    try:
        while await scene.store.outbox_size(CHANNEL) > outbox_size:
            if time.monotonic() > deadline:
                raise AssertionError(f"the outbox did not get down to {outbox_size} cards")
            await asyncio.sleep(0.02)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def test_a_paced_backlog_costs_a_few_redis_commands_per_posted_message(
    redis_url: str, emulator: tuple[SlackEmulator, str]
) -> None:
    emu, api_url = emulator
    backlog = 50

    async def scenario() -> tuple[int, int]:
        scene = Scene(redis_url, api_url)
        for i in range(backlog):
            await scene.alert(f"Backlog{i:03d}")
        await scene.redis.config_resetstat()
        while await scene.store.outbox_size(CHANNEL):
            await scene.poster.drain_channel(CHANNEL)  # returns after LEASE_HOLD_S at most
        commands = await scene.commands_run()
        await scene.redis.aclose()
        return commands, len(emu.messages(CHANNEL))

    commands, posted = asyncio.run(scenario())
    assert posted == backlog
    # Before: every pass asked Redis about every waiting card (GET + PTTL), ~2 x backlog
    # commands per message (here ~120). Now a pass costs the same whatever the backlog, and a
    # paused channel is slept on, not polled.
    assert commands / posted < 30, f"{commands} Redis commands for {posted} messages"


def test_a_posted_card_is_updated_while_the_channel_waits_to_post_new_messages(
    redis_url: str, emulator: tuple[SlackEmulator, str]
) -> None:
    emu, api_url = emulator

    async def scenario() -> None:
        scene = Scene(redis_url, api_url)
        await scene.alert("Posted")
        await drain_until(scene, outbox_size=0)
        await scene.store.pause(keys.channel_pause(CHANNEL), LONG_PAUSE_MS)  # e.g. a 429
        await scene.alert("Posted", alerts=2)
        for name in ("Waiting1", "Waiting2"):
            await scene.alert(name)
        await drain_until(scene, outbox_size=2)  # the update went out
        await scene.redis.aclose()

    asyncio.run(scenario())
    [message] = emu.messages(CHANNEL)  # the two new cards wait for the channel's pause
    assert message.edits == 1
    assert "2 firing" in str(message.blocks)


async def stale_card_waiting_on_update(redis_url: str, api_url: str) -> Scene:
    """A posted card with a change to show, while chat.update is paused for a minute."""
    scene = Scene(redis_url, api_url)
    await scene.alert("Stale")
    await drain_until(scene, outbox_size=0)
    await scene.store.pause(keys.method_pause("chat.update"), LONG_PAUSE_MS)
    await scene.alert("Stale", alerts=2)
    return scene


def only_fresh_was_posted(emu: SlackEmulator) -> None:
    stale, fresh = emu.messages(CHANNEL)
    assert stale.edits == 0  # still waiting for chat.update
    assert "Fresh" in str(fresh.blocks)


def test_new_cards_are_posted_while_chat_update_is_rate_limited(
    redis_url: str, emulator: tuple[SlackEmulator, str]
) -> None:
    emu, api_url = emulator

    async def scenario() -> None:
        scene = await stale_card_waiting_on_update(redis_url, api_url)
        await scene.alert("Fresh")
        await drain_until(scene, outbox_size=1)  # the stale card waits for chat.update
        await scene.redis.aclose()

    asyncio.run(scenario())
    only_fresh_was_posted(emu)


def test_a_new_card_does_not_wait_for_the_update_the_channel_sleeps_on(
    redis_url: str, emulator: tuple[SlackEmulator, str]
) -> None:
    """The channel's task sleeps until the chat.update pause ends (a minute here); a critical
    alert's first post arriving meanwhile must go out now, not after that update."""
    emu, api_url = emulator

    async def scenario() -> None:
        scene = await stale_card_waiting_on_update(redis_url, api_url)
        task = asyncio.create_task(scene.poster.drain_channel(CHANNEL))
        try:
            # Its pass is done, and it sleeps on the update's pause (the poster's own mark).
            deadline = time.monotonic() + 10
            while CHANNEL not in scene.poster._looks:
                assert time.monotonic() < deadline, "the channel's task never slept"
                await asyncio.sleep(0.01)
            await scene.alert("Fresh")
            deadline = time.monotonic() + 5  # far less than the pause, and the lease hold
            while len(emu.messages(CHANNEL)) < 2:
                assert time.monotonic() < deadline, "the new card waited for the update"
                await asyncio.sleep(0.02)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await scene.redis.aclose()

    asyncio.run(scenario())
    only_fresh_was_posted(emu)


def test_a_card_whose_message_was_deleted_is_posted_again(
    redis_url: str, emulator: tuple[SlackEmulator, str]
) -> None:
    emu, api_url = emulator

    async def scenario() -> tuple[str, str] | None:
        scene = Scene(redis_url, api_url)
        card_id = await scene.alert("Deleted")
        await drain_until(scene, outbox_size=0)
        emu.inject_fault("chat.update", 200, 1, error="message_not_found")
        await scene.alert("Deleted", alerts=2)
        await drain_until(scene, outbox_size=0)
        location = await scene.store.card_message(card_id)
        await scene.redis.aclose()
        return location

    location = asyncio.run(scenario())
    first, again = emu.messages(CHANNEL)
    assert "2 firing" in str(again.blocks)
    assert location == (CHANNEL, again.ts)
    assert first.ts != again.ts

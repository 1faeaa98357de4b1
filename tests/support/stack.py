"""Seawall under test: the real app and poster on a real port, against the Slack emulator."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.cards.common import ActionId
from bot.cards.incident import (
    DECLARE_CALLBACK,
    SEVERITY_ACTION,
    SEVERITY_BLOCK,
    TITLE_ACTION,
    TITLE_BLOCK,
)
from bot.core.config import Settings
from bot.deps import Deps
from bot.emulator import EmulatedMessage, EphemeralMessage, SlackEmulator
from bot.emulator.sender import SlackSender
from handlers.worker import build_poster, build_worker
from tests.support.servers import ServerThread
from tests.support.waiting import wait_until

BOT_TOKEN = "xoxb-test-token"
SIGNING_SECRET = "test-signing-secret"
ALERTMANAGER_TOKEN = "test-alertmanager-token"
SENTRY_SECRET = "test-sentry-client-secret"
CHANGE_TOKEN = "test-change-webhook-token"
CHANNEL = "C0ALERTS"
OTHER_CHANNEL = "C0DATABASE"
USERS = {"U0ALICE": ("alice", "Europe/Paris"), "U0BOB": ("bob", "America/New_York")}


@dataclass
class SeawallStack:
    """One running Seawall (web + poster in one event loop) and the emulator it talks to."""

    emulator: SlackEmulator
    emulator_server: ServerThread
    server: ServerThread
    deps: Deps
    sender: SlackSender
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10))
    _poster_stop: asyncio.Event | None = None
    _poster_done: Any = None  # the poster task's concurrent.futures.Future
    _worker: Any = None

    @property
    def url(self) -> str:
        return self.server.url

    def post_alertmanager(
        self, payload: dict[str, Any] | bytes, token: str | None = ALERTMANAGER_TOKEN
    ) -> httpx.Response:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.post(f"{self.url}/webhooks/alertmanager", content=body, headers=headers)

    def messages(self, channel: str = CHANNEL) -> list[EmulatedMessage]:
        return self.emulator.messages(channel)

    def start_worker(self) -> None:
        """A saq worker in the app's event loop (crash drills use real processes instead)."""
        queue = self.deps.jobs.queue  # type: ignore[attr-defined]
        worker = build_worker(self.deps, queue, concurrency=4)
        self._worker = worker
        self.server.spawn(worker.start())

    def start_poster(self) -> None:
        stop = asyncio.Event()
        self._poster_stop = stop

        async def run() -> None:
            await build_poster(self.deps).run(stop)

        self._poster_done = self.server.spawn(run())

    def close_poster(self) -> None:
        """Stop the poster and wait until it has (a test may start another later)."""
        stop, self._poster_stop = self._poster_stop, None
        if stop is not None and self._poster_done is not None:
            self.server.loop.call_soon_threadsafe(stop.set)
            self._poster_done.result(timeout=10)

    def close(self) -> None:
        if self._worker is not None:
            self.server.run_coroutine(self._worker.stop())
        if self._poster_stop is not None:
            self.server.loop.call_soon_threadsafe(self._poster_stop.set)
        self.server.stop()
        self.emulator_server.stop()
        self.sender.close()
        self.http.close()


def settings_for(redis_url: str, slack_api_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack_api_url,
        "seawall_channel": CHANNEL,
        "redis_url": redis_url,
        "alertmanager_webhook_token": ALERTMANAGER_TOKEN,
        "sentry_client_secret": SENTRY_SECRET,
        "change_webhook_token": CHANGE_TOKEN,
        "seawall_post_interval": 0.05,
    }
    values.update(overrides)
    return Settings.model_validate(values)


def button_value(message: EmulatedMessage | EphemeralMessage, action_id: str) -> str | None:
    """The value of the button `action_id` on a posted card or an ephemeral (None if none)."""
    for block in message.blocks:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") == action_id:
                value = element.get("value")
                return str(value) if value is not None else None
    return None


def click(
    stack: SeawallStack, message: EmulatedMessage, action_id: str, user_id: str = "U0ALICE"
) -> httpx.Response:
    """Press a card's button as `user_id`, exactly as Slack would deliver it."""
    value = button_value(message, action_id)
    assert value is not None, f"no {action_id} button on the card"
    return stack.sender.block_action(
        action_id=action_id,
        value=value,
        user_id=user_id,
        channel_id=CHANNEL,
        message_ts=message.ts,
    )


def declare_from_card(
    stack: SeawallStack,
    message: EmulatedMessage,
    user_id: str = "U0ALICE",
    *,
    title: str | None = None,
    severity: str = "sev2",
) -> httpx.Response:
    """Press a card's Declare incident and submit the modal it opens, as Slack would: with the
    prefilled title unless `title` is given. The modal submission's response."""
    before = len(stack.emulator.views)
    click(stack, message, ActionId.DECLARE_INCIDENT, user_id)
    view = wait_until(lambda: stack.emulator.views[before:], what="the declare-incident modal")[0]
    title_input = view["blocks"][1]["element"]
    values = {
        TITLE_BLOCK: {
            TITLE_ACTION: {
                "type": "plain_text_input",
                "value": title if title is not None else title_input.get("initial_value"),
            }
        },
        SEVERITY_BLOCK: {
            SEVERITY_ACTION: {
                "type": "static_select",
                "selected_option": {
                    "value": severity,
                    "text": {"type": "plain_text", "text": severity.upper()},
                },
            }
        },
    }
    return stack.sender.view_submission(
        DECLARE_CALLBACK, values, user_id, str(view["private_metadata"])
    )

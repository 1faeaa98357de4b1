"""The emulator's Socket Mode, with slack_sdk's own Socket Mode client as the app: tokens,
single-use URLs, hello, envelopes and the checks on every ack."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.emulator import SlackEmulator
from bot.emulator.socket_mode import NoAck

from .conftest import EmulatorFactory
from .scenario import TOKEN

APP_TOKEN = "xapp-1-A0SEAWALL-1-emulator"


@pytest.fixture
def socket_emu(make_emulator: EmulatorFactory) -> SlackEmulator:
    return make_emulator(rate_limits_enabled=False, app_token=APP_TOKEN)


class App:
    """slack_sdk's aiohttp Socket Mode client in a thread of its own, answering with `answer`."""

    def __init__(self, api_url: str, answer: Any) -> None:
        self.api_url = api_url
        self.answer = answer
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.client: SocketModeClient | None = None

    async def _connect(self) -> None:
        self.client = SocketModeClient(
            app_token=APP_TOKEN, web_client=AsyncWebClient(token=TOKEN, base_url=self.api_url)
        )

        async def listener(client: SocketModeClient, req: SocketModeRequest) -> None:
            response = self.answer(req)
            if response is not None:
                await client.send_socket_mode_response(response)

        self.client.socket_mode_request_listeners.append(listener)  # type: ignore[arg-type]
        await self.client.connect()

    def __enter__(self) -> App:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._connect(), self.loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            asyncio.run_coroutine_threadsafe(self.client.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def app_answering(api_url: str) -> Iterator[Any]:
    apps: list[App] = []

    def start(answer: Any) -> App:
        app = App(api_url, answer)
        apps.append(app.__enter__())
        return app

    yield start
    for app in apps:
        app.__exit__()


def test_only_the_app_level_token_opens_a_connection(
    socket_emu: SlackEmulator, api_url: str
) -> None:
    with pytest.raises(SlackApiError, match="not_allowed_token_type"):
        WebClient(token=TOKEN, base_url=api_url).apps_connections_open(app_token=TOKEN)
    url = WebClient(base_url=api_url).apps_connections_open(app_token=APP_TOKEN)["url"]
    assert url.startswith("ws://")


def test_the_app_level_token_cannot_post_messages(socket_emu: SlackEmulator, api_url: str) -> None:
    with pytest.raises(SlackApiError, match="not_allowed_token_type"):
        WebClient(token=APP_TOKEN, base_url=api_url).chat_postMessage(channel="C0ALERTS", text="x")


def test_an_envelope_is_acked_with_its_id_and_its_answer(
    socket_emu: SlackEmulator, app_answering: Any
) -> None:
    app_answering(
        lambda req: SocketModeResponse(envelope_id=req.envelope_id, payload={"text": "hi"})
    )
    socket_emu.socket.wait_connected()
    ack = socket_emu.socket.send("slash_commands", {"command": "/incident", "text": "help"})
    assert ack["payload"] == {"text": "hi"}
    assert socket_emu.socket.problems == []


def test_a_payload_where_the_envelope_takes_none_is_a_problem(
    socket_emu: SlackEmulator, app_answering: Any
) -> None:
    app_answering(lambda req: SocketModeResponse(envelope_id=req.envelope_id, payload={"x": 1}))
    socket_emu.socket.wait_connected()
    socket_emu.socket.send("events_api", {"type": "event_callback", "event": {"type": "x"}})
    assert socket_emu.socket.problems == [
        "a payload in the ack of a events_api envelope that takes none"
    ]


def test_an_envelope_nobody_acks_within_three_seconds_is_a_problem(
    socket_emu: SlackEmulator, app_answering: Any
) -> None:
    app_answering(lambda req: None)
    socket_emu.socket.wait_connected()
    with pytest.raises(NoAck):
        socket_emu.socket.send("interactive", {"type": "block_actions"})
    assert socket_emu.socket.problems


def test_a_connection_url_works_once(socket_emu: SlackEmulator, api_url: str) -> None:
    url = WebClient(base_url=api_url).apps_connections_open(app_token=APP_TOKEN)["url"]
    ticket = url.split("ticket=", 1)[1]
    assert socket_emu.socket._take_ticket(ticket)
    assert not socket_emu.socket._take_ticket(ticket)

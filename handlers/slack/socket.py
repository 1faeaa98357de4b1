"""Socket Mode: the same Bolt app, reached over an outbound WebSocket instead of HTTP.

For teams without public ingress (DESIGN.md): with SLACK_APP_TOKEN set, `seawall serve` also
opens Bolt's Socket Mode connection. Slash commands, buttons, modals and events then arrive
over it and go through exactly the same listeners, middlewares and ack rules as over
`/slack/events` (which keeps working, and the webhooks still arrive over HTTP). The client
reconnects by itself after a dropped socket or Slack's `disconnect`; if Slack refuses the
first connection (a wrong token, Slack unreachable), the web process keeps serving and tries
again with backoff, saying why in the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger("seawall.socket_mode")

RETRY_FIRST_S = 1.0
RETRY_MAX_S = 60.0


class SocketMode:
    def __init__(self, bolt: AsyncApp, app_token: str, client: AsyncWebClient) -> None:
        self.bolt = bolt
        self.app_token = app_token
        self.client = client  # apps.connections.open goes to SLACK_API_URL like every call
        self.handler: AsyncSocketModeHandler | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Connect in the background: the web process must not wait for Slack to start. The
        handler is built here, in the running loop (its aiohttp session needs one)."""
        self.handler = AsyncSocketModeHandler(self.bolt, self.app_token, web_client=self.client)
        self._task = asyncio.get_running_loop().create_task(self._connect(self.handler))

    async def _connect(self, handler: AsyncSocketModeHandler) -> None:
        delay = RETRY_FIRST_S
        while True:
            try:
                await handler.connect_async()  # type: ignore[no-untyped-call]
                log.info("Socket Mode connected: Slack requests also arrive over the WebSocket")
                return
            except SlackApiError as exc:
                error = exc.response.get("error")
                log.error(
                    "Socket Mode: Slack refused apps.connections.open (%s); check SLACK_APP_TOKEN "
                    "(an app-level xapp- token with connections:write). Retrying in %.0f s",
                    error,
                    delay,
                )
            except Exception as exc:  # Slack unreachable: keep serving HTTP, try again
                log.warning("Socket Mode: cannot connect (%s); retrying in %.0f s", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_S)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.handler is not None:
            with contextlib.suppress(Exception):  # already closed, or never connected
                await self.handler.close_async()  # type: ignore[no-untyped-call]

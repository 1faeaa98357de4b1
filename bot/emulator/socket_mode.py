"""Socket Mode as Slack runs it, for apps without public ingress.

`apps.connections.open` (called with the app-level `xapp-` token, never the bot token) hands
out a single-use WebSocket URL. On connecting, the app gets `hello`; then Slack pushes
envelopes (`slash_commands`, `interactive`, `events_api`) that the app must acknowledge with
their `envelope_id` within 3 s, carrying a `payload` only where the envelope said it
`accepts_response_payload`. `disconnect` asks the app to open a new connection. Anything the
app gets wrong is recorded in `problems` (tests assert it stays empty), as Slack would log it.

Tests push envelopes from their own thread (`send`); the WebSocket lives on the emulator
server's event loop, so each push is handed to that loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

PATH = "/socket-mode/link"
ACK_TIMEOUT_S = 3.0  # Slack retries an envelope that is not acknowledged within 3 s
TICKET_TTL_S = 30.0  # an unused URL from apps.connections.open stops working
# Envelope types whose ack may carry a response body (Slack's `accepts_response_payload`).
ANSWERED = {"slash_commands": True, "events_api": False}
ANSWERED_INTERACTIONS = frozenset({"view_submission", "block_suggestion"})


class NotConnected(RuntimeError):
    """No app holds a Socket Mode connection to push the envelope to."""


class NoAck(RuntimeError):
    """The app did not acknowledge the envelope within Slack's 3 s."""


@dataclass
class _Connection:
    socket: WebSocket
    loop: asyncio.AbstractEventLoop
    waiting: dict[str, Future[dict[str, Any]]] = field(default_factory=dict)


@dataclass
class SocketModeHub:
    """The Socket Mode side of the emulator (one per SlackEmulator)."""

    app_token: str | None
    app_id: str
    clock: Callable[[], float] = time.monotonic
    problems: list[str] = field(default_factory=list)
    acks: list[dict[str, Any]] = field(default_factory=list)
    opened: int = 0  # connections ever accepted (a reconnect makes it grow)
    _tickets: dict[str, float] = field(default_factory=dict)
    _connections: list[_Connection] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- Web API ---------------------------------------------------------------------------

    def open_connection(self, token: str | None, base_url: str) -> dict[str, Any]:
        """apps.connections.open: only the app-level token may open a connection."""
        if token is None:
            return {"ok": False, "error": "not_authed"}
        if self.app_token is None or not token.startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        if token != self.app_token:
            return {"ok": False, "error": "invalid_auth"}
        ticket = secrets.token_urlsafe(16)
        with self._lock:
            self._tickets[ticket] = self.clock() + TICKET_TTL_S
        ws_base = "ws" + base_url.rstrip("/").removeprefix("http")
        return {"ok": True, "url": f"{ws_base}{PATH}?ticket={ticket}"}

    def _take_ticket(self, ticket: str) -> bool:
        with self._lock:
            expires = self._tickets.pop(ticket, None)
        return expires is not None and self.clock() < expires

    # -- the WebSocket ---------------------------------------------------------------------

    async def endpoint(self, websocket: WebSocket) -> None:
        if not self._take_ticket(websocket.query_params.get("ticket", "")):
            await websocket.close(code=1008)  # Slack closes a connection it did not hand out
            return
        await websocket.accept()
        connection = _Connection(websocket, asyncio.get_running_loop())
        with self._lock:
            self._connections.append(connection)
            self.opened += 1
        await websocket.send_json(
            {
                "type": "hello",
                "num_connections": len(self._connections),
                "debug_info": {"host": "emulator", "approximate_connection_time": 18060},
                "connection_info": {"app_id": self.app_id},
            }
        )
        try:
            while True:
                self._receive(connection, await websocket.receive_text())
        except WebSocketDisconnect:
            pass
        finally:
            with self._lock:
                if connection in self._connections:
                    self._connections.remove(connection)
            for future in connection.waiting.values():
                if not future.done():
                    future.set_exception(NoAck("the connection closed before the ack"))

    def _receive(self, connection: _Connection, text: str) -> None:
        try:
            ack = json.loads(text)
        except ValueError:
            self.problems.append(f"not JSON: {text[:200]!r}")
            return
        envelope_id = ack.get("envelope_id") if isinstance(ack, dict) else None
        future = connection.waiting.pop(str(envelope_id), None) if envelope_id else None
        if future is None:
            self.problems.append(f"ack for no pending envelope: {text[:200]!r}")
            return
        with self._lock:
            self.acks.append(ack)
        if not future.done():
            future.set_result(ack)

    # -- what tests do ---------------------------------------------------------------------

    def wait_connected(self, count: int = 1, timeout: float = 10.0) -> None:
        """Block until `count` connections were ever opened (reconnects count)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if self.opened >= count and self._connections:
                    return
            if time.monotonic() > deadline:
                raise NotConnected(f"no Socket Mode connection #{count} within {timeout} s")
            time.sleep(0.02)

    @property
    def connected(self) -> bool:
        """Whether an app holds a connection now (Slack then sends it everything this way)."""
        with self._lock:
            return bool(self._connections)

    def send(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Push an envelope to the app and return its ack (raises NoAck after 3 s)."""
        with self._lock:
            if not self._connections:
                raise NotConnected("no app is connected in Socket Mode")
            connection = self._connections[-1]
        accepts = ANSWERED.get(kind, payload.get("type") in ANSWERED_INTERACTIONS)
        envelope_id = secrets.token_hex(16)
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts,
        }
        if kind == "events_api":
            envelope.update(retry_attempt=0, retry_reason="")
        answered: Future[dict[str, Any]] = Future()
        connection.waiting[envelope_id] = answered

        async def push() -> None:
            await connection.socket.send_json(envelope)

        asyncio.run_coroutine_threadsafe(push(), connection.loop).result(ACK_TIMEOUT_S)
        try:
            ack = answered.result(ACK_TIMEOUT_S)
        except TimeoutError as exc:
            self.problems.append(f"no ack within {ACK_TIMEOUT_S} s for a {kind} envelope")
            raise NoAck(f"no ack for the {kind} envelope within {ACK_TIMEOUT_S} s") from exc
        if "payload" in ack and not accepts:
            self.problems.append(f"a payload in the ack of a {kind} envelope that takes none")
        return ack

    def disconnect(self, reason: str = "refresh_requested", grace_s: float = 1.0) -> None:
        """Ask every connected app to reconnect, then drop the old connection after a grace
        period, as Slack does before restarting a server (an app that ignores `disconnect`
        finds its socket closed)."""
        with self._lock:
            connections = list(self._connections)

        async def close(connection: _Connection) -> None:
            await connection.socket.send_json(
                {"type": "disconnect", "reason": reason, "debug_info": {"host": "emulator"}}
            )
            await asyncio.sleep(grace_s)
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):  # the app closed it first
                await connection.socket.close()

        for connection in connections:
            asyncio.run_coroutine_threadsafe(close(connection), connection.loop).result(5)

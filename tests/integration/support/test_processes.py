"""The real-process helpers in tests/support start, answer, fail loudly, and stop by PID."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.support.alertmanager import Alertmanager, AlertmanagerError, WebhookReceiver
from tests.support.ports import HOST, free_port
from tests.support.redis_server import RedisServer, RedisStartError
from tests.support.servers import ServerThread, ServerThreadError

pytestmark = pytest.mark.integration

TOKEN = "am-webhook-secret"


# --- a webhook sink: the tiny local HTTP server Alertmanager notifies -----------------------


@dataclass(frozen=True)
class Notification:
    received_at: float  # time.monotonic()
    headers: dict[str, str]  # lower-cased names
    body: dict[str, Any]
    answered: int


class WebhookSink:
    """Records every POST and answers with `statuses` in turn (the last one repeats)."""

    def __init__(self, statuses: Sequence[int] = (200,)) -> None:
        self.statuses = list(statuses)
        self.notifications: list[Notification] = []
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer((HOST, 0), self._handler_class())
        self.url = f"http://{HOST}:{self._server.server_port}/hook"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Notification]:
        """Block until `count` notifications arrived; fail after `timeout`."""
        with self._changed:
            arrived = self._changed.wait_for(lambda: len(self.notifications) >= count, timeout)
            if not arrived:
                got = [(n.body.get("status"), n.answered) for n in self.notifications]
                raise AssertionError(
                    f"expected {count} notification(s) within {timeout}s, got {len(got)}: {got}"
                )
            return list(self.notifications)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def _record(self, headers: dict[str, str], body: dict[str, Any]) -> int:
        with self._changed:
            status = self.statuses[min(len(self.notifications), len(self.statuses) - 1)]
            self.notifications.append(Notification(time.monotonic(), headers, body, status))
            self._changed.notify_all()
            return status

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {name.lower(): value for name, value in self.headers.items()}
                status = sink._record(headers, json.loads(raw))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep pytest output clean

        return Handler


@pytest.fixture
def sink() -> Iterator[WebhookSink]:
    webhook = WebhookSink()
    yield webhook
    webhook.close()


def wait_for(probe: Any, timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while not (result := probe()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)
    return result


def pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# --- ports and redis-server -------------------------------------------------------------------


def test_free_port_can_be_bound_on_loopback() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind((HOST, port))


def test_redis_server_answers_on_its_url_and_flushall_empties_it(tmp_path: Path) -> None:
    with RedisServer(tmp_path) as server, redis.Redis.from_url(server.url) as client:
        assert server.url == f"redis://127.0.0.1:{server.port}/0"
        client.set("k", "v")
        server.flushall()
        assert client.dbsize() == 0
        assert client.info("server")["process_id"] == server.pid


def test_redis_server_restarts_on_the_same_port(tmp_path: Path) -> None:
    with RedisServer(tmp_path) as server:
        port, first_pid = server.port, server.pid
        server.kill()
        assert not server.is_running()
        with pytest.raises(redis.ConnectionError), server.client(retry=None) as client:
            client.ping()

        server.restart()
        killed_then_started = server.pid
        server.restart()  # a graceful stop frees the port just as fast

        assert server.port == port
        assert len({first_pid, killed_then_started, server.pid}) == 3
        with server.client() as client:
            assert client.ping()


def test_redis_server_stop_ends_the_process_and_is_idempotent(tmp_path: Path) -> None:
    server = RedisServer(tmp_path)
    server.start()
    pid = server.pid
    assert pid is not None
    server.stop()
    server.stop()
    assert not server.is_running()
    assert not pid_exists(pid)


def test_redis_server_start_fails_with_the_log_tail_when_its_port_is_taken(
    tmp_path: Path,
) -> None:
    with socket.socket() as squatter:
        squatter.bind((HOST, 0))  # bound, not listening: only redis-server's own bind can tell
        server = RedisServer(tmp_path, port=squatter.getsockname()[1])
        with pytest.raises(RedisStartError, match="Address already in use"):
            server.start()
    assert not server.is_running()


# --- Alertmanager ---------------------------------------------------------------------------


def test_alertmanager_sends_bearer_token_to_the_webhook(tmp_path: Path, sink: WebhookSink) -> None:
    with Alertmanager(tmp_path, WebhookReceiver(sink.url, bearer_token=TOKEN)) as am:
        am.fire({"alertname": "DiskFull", "severity": "critical"}, {"summary": "disk 95%"})
        [notification] = sink.wait_for(1)

    assert notification.headers["authorization"] == f"Bearer {TOKEN}"
    body = notification.body
    assert (body["version"], body["status"], body["receiver"]) == ("4", "firing", "webhook")
    assert body["externalURL"] == am.url
    assert body["groupKey"] == '{}:{alertname="DiskFull"}'
    [alert] = body["alerts"]
    assert alert["labels"] == {"alertname": "DiskFull", "severity": "critical"}
    assert alert["annotations"] == {"summary": "disk 95%"}
    assert alert["endsAt"] == "0001-01-01T00:00:00Z"


def test_alertmanager_sends_a_resolved_notification(tmp_path: Path, sink: WebhookSink) -> None:
    labels = {"alertname": "HighLatency", "service": "api"}
    with Alertmanager(tmp_path, WebhookReceiver(sink.url)) as am:
        am.fire(labels, {"summary": "p99 > 2s"})
        [firing] = sink.wait_for(1)
        resolved_at = time.monotonic()
        am.resolve(labels)
        resolved = sink.wait_for(2)[1]

    assert resolved.body["status"] == "resolved"
    assert resolved.body["groupKey"] == firing.body["groupKey"]
    [before], [after] = firing.body["alerts"], resolved.body["alerts"]
    assert after["status"] == "resolved"
    assert after["fingerprint"] == before["fingerprint"]
    assert after["startsAt"] == before["startsAt"]
    assert after["annotations"] == {"summary": "p99 > 2s"}  # resolve() re-sent them
    assert after["endsAt"] != "0001-01-01T00:00:00Z"
    assert resolved.received_at - resolved_at < 3  # one group_interval (1 s), measured ~1.0 s


def test_alertmanager_retries_a_webhook_answered_503(tmp_path: Path) -> None:
    sink = WebhookSink(statuses=[503, 503, 200])
    try:
        with Alertmanager(tmp_path, WebhookReceiver(sink.url)) as am:
            am.fire({"alertname": "Flapping"})
            attempts = sink.wait_for(3, timeout=15)
    finally:
        sink.close()

    assert [n.answered for n in attempts] == [503, 503, 200]
    assert len({n.body["groupKey"] for n in attempts}) == 1
    assert len({n.body["alerts"][0]["fingerprint"] for n in attempts}) == 1
    # Retried by backoff inside one flush (~0.4 s, then ~0.6 s), not one group_interval apart.
    assert attempts[2].received_at - attempts[0].received_at < 5


def test_alertmanager_resends_a_429_only_at_the_next_group_interval(tmp_path: Path) -> None:
    sink = WebhookSink(statuses=[429, 200])
    try:
        with Alertmanager(tmp_path, WebhookReceiver(sink.url), group_interval="1s") as am:
            am.fire({"alertname": "Throttled"})
            first, second = sink.wait_for(2, timeout=10)
            log = am.log_text()
    finally:
        sink.close()

    assert (first.answered, second.answered) == (429, 200)
    assert "unrecoverable error after 1 attempts: unexpected status code 429" in log
    assert second.received_at - first.received_at > 0.8  # the next flush, not a retry


def test_alertmanager_silence_api_round_trip(tmp_path: Path, sink: WebhookSink) -> None:
    now = datetime.now(UTC)
    silence = {
        "matchers": [{"name": "alertname", "value": "Noisy", "isRegex": False, "isEqual": True}],
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(hours=1)).isoformat(),
        "createdBy": "seawall-test",
        "comment": "ack from slack",
    }
    with Alertmanager(tmp_path, WebhookReceiver(sink.url)) as am:
        created = httpx.post(f"{am.url}/api/v2/silences", json=silence, trust_env=False)
        assert created.status_code == 200, created.text
        silence_id = created.json()["silenceID"]
        [listed] = am.silences()
        assert (listed["id"], listed["status"]["state"]) == (silence_id, "active")

        am.fire({"alertname": "Noisy"})
        [alert] = wait_for(am.alerts, what="the alert to be listed")
        assert alert["status"]["state"] == "suppressed"
        assert alert["status"]["silencedBy"] == [silence_id]

        expired = httpx.delete(f"{am.url}/api/v2/silence/{silence_id}", trust_env=False)
        assert expired.status_code == 200, expired.text
        assert [s["status"]["state"] for s in am.silences()] == ["expired"]


def test_alertmanager_start_fails_loudly_when_amtool_rejects_the_config(
    tmp_path: Path, sink: WebhookSink
) -> None:
    duplicate = "- name: webhook\n  webhook_configs: [{url: 'http://127.0.0.1:9/x'}]\n"
    am = Alertmanager(tmp_path, WebhookReceiver(sink.url), extra_receivers_yaml=duplicate)
    with pytest.raises(AlertmanagerError, match=r"amtool check-config rejected(.|\n)*not unique"):
        am.start()
    assert not am.is_running()


def test_alertmanager_post_alerts_raises_on_a_rejected_alert(
    tmp_path: Path, sink: WebhookSink
) -> None:
    with (
        Alertmanager(tmp_path, WebhookReceiver(sink.url)) as am,
        pytest.raises(AlertmanagerError, match="422"),
    ):
        am.post_alerts([{"annotations": {"summary": "no labels"}}])


# --- ServerThread ---------------------------------------------------------------------------


def lifespan_app(events: list[str]) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"hello after {','.join(events)}")

    return Starlette(routes=[Route("/", hello)], lifespan=lifespan)


def test_server_thread_runs_lifespan_and_serves() -> None:
    events: list[str] = []
    seen_loops: list[asyncio.AbstractEventLoop] = []

    async def loop_thread_name() -> str:
        return threading.current_thread().name

    with ServerThread(lifespan_app(events), on_loop_started=seen_loops.append) as server:
        response = httpx.get(f"{server.url}/", trust_env=False)
        assert (response.status_code, response.text) == (200, "hello after startup")
        assert seen_loops == [server.loop]
        assert server.run_coroutine(loop_thread_name()) != threading.current_thread().name

    assert events == ["startup", "shutdown"]
    server.stop()  # idempotent
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/", trust_env=False)


def test_server_thread_stop_cancels_spawned_tasks_before_shutdown() -> None:
    events: list[str] = []
    started = threading.Event()

    async def poster_loop() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            events.append("poster cancelled")

    with ServerThread(lifespan_app(events)) as server:
        future = server.spawn(poster_loop())
        assert started.wait(5)

    assert future.cancelled()
    assert events == ["startup", "poster cancelled", "shutdown"]


def test_server_thread_start_fails_clearly_when_lifespan_startup_raises() -> None:
    @asynccontextmanager
    async def broken(app: Starlette) -> AsyncIterator[None]:
        raise RuntimeError("cannot reach redis at 127.0.0.1:1")
        yield

    server = ServerThread(Starlette(lifespan=broken))
    with pytest.raises(ServerThreadError, match="cannot reach redis"):
        server.start()
    server.stop()  # nothing left to stop; must not raise

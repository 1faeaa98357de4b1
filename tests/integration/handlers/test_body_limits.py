"""Request bodies are capped while they are read and must arrive within a deadline, on every
route and whatever the framing: over raw sockets against the real app on a real port, because
an HTTP client library would frame (and buffer) the body itself."""

from __future__ import annotations

import select
import socket
from contextlib import closing
from urllib.parse import urlsplit

import pytest

from handlers.http_edge import MAX_BODY_BYTES
from tests.conftest import StackFactory
from tests.support.stack import ALERTMANAGER_TOKEN, SeawallStack

pytestmark = pytest.mark.integration

BIG_BODY = 200 * 1024 * 1024  # what the report sent: the web process grew to 1.31 GB
CHUNK = 64 * 1024
# Loopback socket buffers hold a few MB, so a refusal after the first MB still lets the client
# push some more before its writes fail; 32 MB is far below the 200 MB a full read would take.
UNREAD_SENT_MAX = 32 * 1024 * 1024
TEST_DEADLINE_S = 1.0
SOCKET_TIMEOUT_S = 15.0  # generous: the server closes after TEST_DEADLINE_S

ROUTES = ("/slack/events", "/webhooks/alertmanager", "/webhooks/sentry")
AUTH = {"/webhooks/alertmanager": f"Authorization: Bearer {ALERTMANAGER_TOKEN}\r\n"}


def connect(stack: SeawallStack) -> socket.socket:
    where = urlsplit(stack.url)
    assert where.hostname is not None
    assert where.port is not None
    return socket.create_connection((where.hostname, where.port), timeout=SOCKET_TIMEOUT_S)


def request_head(path: str, framing: str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: seawall.test\r\nContent-Type: application/json\r\n"
        f"{AUTH.get(path, '')}{framing}\r\n"
    ).encode()


def read_response(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while True:
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            return received  # a close with our unread data in its buffer: the answer came first
        if not data:
            return received
        received += data


def status_of(response: bytes) -> int:
    assert response.startswith(b"HTTP/1.1 "), response[:200]
    return int(response.split(b" ", 2)[1])


def send_chunked_until_answered(sock: socket.socket, path: str, total: int) -> int:
    """Stream a chunked body of `total` bytes, stopping as soon as the server answers or
    stops taking it; how many body bytes were sent."""
    sock.sendall(request_head(path, "Transfer-Encoding: chunked\r\n"))
    piece = b"%x\r\n" % CHUNK + b" " * CHUNK + b"\r\n"
    sent = 0
    while sent < total:
        answered, _, _ = select.select([sock], [], [], 0)
        if answered:
            return sent
        try:
            sock.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            return sent
        sent += CHUNK
    sock.sendall(b"0\r\n\r\n")
    return sent


@pytest.fixture
def slow_stack(make_stack: StackFactory) -> SeawallStack:
    return make_stack(poster=False, worker=False, seawall_body_timeout=TEST_DEADLINE_S)


@pytest.fixture
def quiet_stack(make_stack: StackFactory) -> SeawallStack:
    return make_stack(poster=False, worker=False)


@pytest.mark.parametrize("path", ROUTES)
def test_a_chunked_body_over_the_limit_is_refused_with_413_before_it_is_all_read(
    quiet_stack: SeawallStack, path: str
) -> None:
    with closing(connect(quiet_stack)) as sock:
        sent = send_chunked_until_answered(sock, path, BIG_BODY)
        response = read_response(sock)
    assert status_of(response) == 413
    assert response.endswith(f"body is larger than {MAX_BODY_BYTES} bytes\n".encode())
    assert sent < UNREAD_SENT_MAX


def test_a_declared_length_over_the_limit_is_refused_before_any_byte_is_read(
    quiet_stack: SeawallStack,
) -> None:
    with closing(connect(quiet_stack)) as sock:
        sock.sendall(request_head("/slack/events", f"Content-Length: {BIG_BODY}\r\n"))
        response = read_response(sock)  # nothing of the body was sent at all
    assert status_of(response) == 413


@pytest.mark.parametrize("path", ROUTES)
def test_bodies_that_trickle_in_get_408_and_a_closed_connection_at_the_deadline(
    slow_stack: SeawallStack, path: str
) -> None:
    socks = [connect(slow_stack) for _ in range(5)]
    try:
        for sock in socks:  # two bytes of a hundred, then nothing
            sock.sendall(request_head(path, "Content-Length: 100\r\n") + b"{}")
        responses = [read_response(sock) for sock in socks]  # returns once the server closes
    finally:
        for sock in socks:
            sock.close()
    assert [status_of(r) for r in responses] == [408] * 5
    assert all(b"connection: close" in r.lower() for r in responses)


def test_a_refused_body_is_counted_by_route_and_reason(quiet_stack: SeawallStack) -> None:
    with closing(connect(quiet_stack)) as sock:
        send_chunked_until_answered(sock, "/slack/events", 2 * MAX_BODY_BYTES)
        read_response(sock)
    metrics = quiet_stack.http.get(f"{quiet_stack.url}/metrics").text
    assert (
        'seawall_http_bodies_refused_total{reason="too_large",route="/slack/events"} 1.0' in metrics
    )
    # The request count names the route too, though no route ever saw the request.
    assert (
        'seawall_http_requests_total{method="POST",route="/slack/events",status="413"} 1.0'
        in metrics
    )


def test_a_body_within_the_limit_still_reaches_its_route(quiet_stack: SeawallStack) -> None:
    body = b'{"version": "4"}'
    with closing(connect(quiet_stack)) as sock:
        sock.sendall(
            request_head(
                "/webhooks/alertmanager", "Transfer-Encoding: chunked\r\nConnection: close\r\n"
            )
            + b"%x\r\n" % len(body)
            + body
            + b"\r\n0\r\n\r\n"
        )
        response = read_response(sock)
    assert status_of(response) == 422  # parsed by the route: a missing groupKey
    assert b"groupKey" in response

"""A small HTTP/1.1 load generator: N keep-alive connections, pre-built requests, bounded.

Written on asyncio streams rather than httpx so that the client spends little CPU per request:
on a 2-core machine the load generator shares the cores with the server it measures, and a
heavy client would make the server look slower than it is. Every run stops by itself after
`total` requests or `seconds`, whichever comes first.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    elapsed_s: float = 0.0
    last_body: bytes = b""

    @property
    def count(self) -> int:
        return len(self.latencies_ms)

    @property
    def per_second(self) -> float:
        return self.count / self.elapsed_s if self.elapsed_s else 0.0

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def get(path: str, host: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: seawall-bench\r\n\r\n".encode()


def post(path: str, host: str, body: bytes, headers: dict[str, str]) -> bytes:
    """A POST with `body` as is; `headers` must name its Content-Type."""
    extra = "".join(
        f"{k}: {v}\r\n" for k, v in headers.items() if k.lower() not in ("host", "content-length")
    )
    head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    return head.encode() + body


def post_json(path: str, host: str, body: object, headers: dict[str, str] | None = None) -> bytes:
    payload = json.dumps(body, separators=(",", ":")).encode()
    base = {"User-Agent": "Alertmanager/0.25.0", "Content-Type": "application/json"}
    return post(path, host, payload, {**base, **(headers or {})})


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, keep_alive) of one response with a Content-Length or chunked body."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip().lower()
    if headers.get("transfer-encoding") == "chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += chunk[:-2]
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, body, headers.get("connection") != "close"


class Connection:
    """One keep-alive HTTP/1.1 connection; reopened when the server has (or may have) closed it."""

    # uvicorn closes a connection idle for 5 s (timeout_keep_alive); reopen before that.
    IDLE_REOPEN_S = 4.0

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._last_used = 0.0

    async def send(self, request: bytes) -> tuple[int, bytes]:
        if self._writer is not None and time.monotonic() - self._last_used > self.IDLE_REOPEN_S:
            self.close()
        reused = self._writer is not None
        try:
            return await self._exchange(request)
        except (asyncio.IncompleteReadError, ConnectionResetError):
            if not reused:
                raise
            # Closed by the server between requests: nothing of this one was read, send again.
            self.close()
            return await self._exchange(request)

    async def _exchange(self, request: bytes) -> tuple[int, bytes]:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        self._writer.write(request)
        status, body, keep_alive = await _read_response(self._reader)
        self._last_used = time.monotonic()
        if not keep_alive:
            self.close()
        return status, body

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


async def run(
    port: int,
    request_for: Callable[[int], bytes],
    *,
    clients: int,
    total: int,
    seconds: float,
    host: str = "127.0.0.1",
) -> LoadResult:
    """Send request_for(0..total-1) over `clients` connections; stop at `total` or `seconds`."""
    result = LoadResult()
    next_index = 0
    deadline = time.monotonic() + seconds

    async def one_client() -> None:
        nonlocal next_index
        connection = Connection(port, host)
        try:
            while next_index < total and time.monotonic() < deadline:
                request = request_for(next_index)  # built before the clock starts
                next_index += 1
                started = time.perf_counter()
                status, result.last_body = await connection.send(request)
                result.latencies_ms.append((time.perf_counter() - started) * 1000)
                result.statuses[status] += 1
        finally:
            connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(clients)))
    result.elapsed_s = time.perf_counter() - started
    return result

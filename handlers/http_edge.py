"""The hostile edge of every HTTP route: size caps, auth, parsing, one-line rejections."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Collection
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.core.metrics import Metrics

log = logging.getLogger("seawall.edge")

M = TypeVar("M", bound=BaseModel)

MAX_BODY_BYTES = 1024 * 1024
# The whole body must arrive within this (Settings.seawall_body_timeout): a 1 MB body at a slow
# 100 kB/s takes 10 s, while a client trickling bytes would otherwise hold a socket forever.
BODY_TIMEOUT_S = 10.0


class Rejection(Exception):
    """A request refused at the edge: HTTP status, a one-line reason, a metric label."""

    def __init__(self, status: int, reason: str, label: str) -> None:
        reason = one_line(reason)
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.label = label


REASON_MAX = 300


def one_line(text: str) -> str:
    """A reason built from sender input (e.g. a JSON key with a newline in it) stays one
    printable line: in the response, and in the log where it must not forge entries."""
    shown = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    return shown if len(shown) <= REASON_MAX else shown[: REASON_MAX - 1] + "…"


def too_large(limit: int) -> Rejection:
    return Rejection(413, f"body is larger than {limit} bytes", "too_large")


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The raw body, refusing more than `limit` bytes without reading them all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


class _Disconnected(Exception):
    """The client went away before its body was complete: nobody is left to answer."""


class BodyLimits:
    """Pure ASGI middleware: every request's body is read here before the app sees any of it,
    capped while it arrives (declared, chunked or unframed: the bytes are counted) and due in
    full within `timeout_s`. A refusal answers 413 or 408 with one line and closes the
    connection, so the server stops reading the rest.

    Routes used to cap their own bodies; Bolt's /slack/events read whatever came, so a chunked
    200 MB post was held in memory before its signature was checked, and a body sent two bytes
    at a time held its socket open for good."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        routes: Collection[str],
        max_bytes: int = MAX_BODY_BYTES,
        timeout_s: float = BODY_TIMEOUT_S,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = frozenset(routes)  # metric labels: known paths only, so they stay few
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            body = await self._read(scope, receive)
        except _Disconnected:
            return
        except Rejection as rejection:
            route = scope["path"] if scope["path"] in self.routes else "other"
            self.metrics.http_bodies_refused.labels(route, rejection.label).inc()
            log.warning("request body on %s refused (%d): %s", route, rejection.status, rejection)
            response = PlainTextResponse(
                rejection.reason + "\n",
                status_code=rejection.status,
                headers={"Connection": "close"},  # the rest of the body is never read
            )
            await response(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, scope: Scope, receive: Receive) -> bytes:
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise too_large(self.max_bytes)  # before the first receive: no 100 Continue either
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.timeout_s):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise _Disconnected
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise too_large(self.max_bytes)
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        return b"".join(chunks)
        except TimeoutError:
            raise Rejection(
                408, f"the body did not arrive within {self.timeout_s:g} s", "too_slow"
            ) from None


def _replay(body: bytes, receive: Receive) -> Receive:
    """The app's receive: the whole body at once, then the server's own (disconnects)."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def check_bearer(request: Request, expected: str) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise Rejection(401, "missing Authorization: Bearer header", "auth_missing")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), expected):
        raise Rejection(401, "wrong bearer token", "auth_wrong")


def parse_model(body: bytes, model: type[M]) -> M:
    """Parse JSON into `model`; invalid JSON is a 400, a wrong shape a 422 naming the field."""
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":
            raise Rejection(400, f"body is not valid JSON: {first['msg']}", "bad_json") from exc
        where = ".".join(str(p) for p in first["loc"]) or "body"
        more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        raise Rejection(422, f"{where}: {first['msg']}{more}", "bad_schema") from exc


def reject(source: str, rejection: Rejection, metrics: Metrics) -> PlainTextResponse:
    """Count and log the refusal once (never the body or credentials), answer one line."""
    metrics.webhook_rejections.labels(source, rejection.label).inc()
    log.warning("%s webhook refused (%d): %s", source, rejection.status, rejection.reason)
    return PlainTextResponse(rejection.reason + "\n", status_code=rejection.status)


def unavailable(
    source: str, metrics: Metrics, what: str, *, on_primary_only: bool = False
) -> PlainTextResponse:
    """503 so the sender retries (Alertmanager retries 5xx only; never answer it 429).
    `on_primary_only`: the delivery was written but no replica confirmed it (a retry is
    deduplicated, so it changes nothing twice)."""
    label, outcome = (
        ("not_replicated", "not acknowledged until a replica holds it, retry later")
        if on_primary_only
        else ("unavailable", "nothing was stored, retry later")
    )
    metrics.webhook_rejections.labels(source, label).inc()
    log.error("%s webhook: %s; answered 503 so the sender retries", source, what)
    return PlainTextResponse(
        f"{what}; {outcome}\n",
        status_code=503,
        headers={"Retry-After": "5"},
    )

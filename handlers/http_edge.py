"""The hostile edge of every HTTP route: size caps, auth, parsing, one-line rejections."""

from __future__ import annotations

import hmac
import logging
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from bot.core.metrics import Metrics

log = logging.getLogger("seawall.edge")

M = TypeVar("M", bound=BaseModel)

MAX_BODY_BYTES = 1024 * 1024


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


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The raw body, refusing more than `limit` bytes without reading them all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Rejection(413, f"body is larger than {limit} bytes", "too_large")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Rejection(413, f"body is larger than {limit} bytes", "too_large")
        chunks.append(chunk)
    return b"".join(chunks)


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


def unavailable(source: str, metrics: Metrics, what: str) -> PlainTextResponse:
    """503 so the sender retries (Alertmanager retries 5xx only; never answer it 429)."""
    metrics.webhook_rejections.labels(source, "unavailable").inc()
    log.error("%s webhook: %s; answered 503 so the sender retries", source, what)
    return PlainTextResponse(
        f"{what}; nothing was stored, retry later\n",
        status_code=503,
        headers={"Retry-After": "5"},
    )

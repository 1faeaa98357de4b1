"""FakeNtfy: a fake of ntfy's publish API on a real port (127.0.0.1), for Apprise to push to.

ntfy (https://docs.ntfy.sh/publish/) takes a message as `POST /<topic>` with the text as the
body, or as `POST /` (or PUT) with JSON {"topic", "message", "title", ...}, which is what
Apprise sends; options ride in headers (`X-Priority`, `X-Actions`, `X-Tags`...). It answers
200 with the stored message as JSON. This fake records every request (method, path, headers,
body) and answers like ntfy; it can be told to refuse the next requests.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.fake_http import FakeHttpServer

TOPIC_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


@dataclass(frozen=True)
class Publish:
    method: str
    path: str
    headers: dict[str, str]
    body: Any  # parsed JSON, or the raw text
    at: float  # time.monotonic() when it arrived

    @property
    def topic(self) -> str:
        if isinstance(self.body, dict) and self.body.get("topic"):
            return str(self.body["topic"])
        return self.path.strip("/")

    @property
    def title(self) -> str:
        return str(self.body.get("title", "")) if isinstance(self.body, dict) else ""

    @property
    def message(self) -> str:
        return str(self.body.get("message", "")) if isinstance(self.body, dict) else self.body

    @property
    def priority(self) -> str | None:
        return self.headers.get("x-priority")

    def action_urls(self) -> list[str]:
        """URLs of the `http` actions in X-Actions (ntfy's short format: `http, label, url,
        key=value...`, actions separated by ';')."""
        urls = []
        for action in (self.headers.get("x-actions") or "").split(";"):
            parts = [p.strip() for p in action.split(",")]
            if len(parts) >= 3 and parts[0] in ("http", "action=http"):
                urls.append(parts[2].removeprefix("url="))
        return urls


class FakeNtfy(FakeHttpServer):
    """ntfy's publish endpoint. `url(topic)` is an Apprise URL pointing here."""

    def __init__(self) -> None:
        self._published: list[Publish] = []
        self._refuse = 0
        super().__init__(routes=[Route("/{topic:path}", self._publish, methods=["POST", "PUT"])])

    def apprise_url(self, topic: str, **params: str) -> str:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        host = urlsplit(self._server.url).netloc
        return f"ntfy://{host}/{topic}" + (f"?{query}" if query else "")

    @property
    def published(self) -> list[Publish]:
        with self._lock:
            return list(self._published)

    def to(self, topic: str) -> list[Publish]:
        return [p for p in self.published if p.topic == topic]

    def clear(self) -> None:
        with self._lock:
            self._published.clear()
            self._refuse = 0

    def refuse_next(self, count: int) -> None:
        """Answer the next `count` publishes 429, as ntfy does when a topic is rate limited."""
        with self._lock:
            self._refuse = count

    async def _publish(self, request: Request) -> Response:
        raw = (await request.body()).decode("utf-8", "replace")
        try:
            body: Any = json.loads(raw) if raw.strip().startswith("{") else raw
        except json.JSONDecodeError:
            body = raw
        record = Publish(
            method=request.method,
            path=request.url.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            at=time.monotonic(),
        )
        with self._lock:
            self._published.append(record)
            refuse = self._refuse > 0
            self._refuse -= 1 if refuse else 0
        if refuse:
            return JSONResponse(
                {"code": 42901, "http": 429, "error": "limit reached: too many requests"},
                status_code=429,
            )
        topic = record.topic
        if not topic or set(topic) - TOPIC_CHARS:
            return JSONResponse({"code": 40009, "http": 400, "error": "invalid topic"}, 400)
        return JSONResponse(
            {
                "id": f"m{len(self._published)}",
                "time": int(time.time()),
                "event": "message",
                "topic": topic,
                "message": record.message,
            }
        )

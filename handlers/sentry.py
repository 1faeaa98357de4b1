"""POST /webhooks/sentry — placeholder until the Sentry intake lands (being written now)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from handlers.deps import Deps


def endpoint(deps: Deps) -> Callable[[Request], Awaitable[Response]]:
    async def receive(request: Request) -> Response:
        return PlainTextResponse("Sentry webhooks are not handled yet\n", status_code=501)

    return receive

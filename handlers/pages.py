"""`/pages/ack/<token>`: acknowledging a page from a push, on a phone, in at most two taps.

`POST` acknowledges (ntfy's `http` action button posts it: one tap). `GET` only shows a page
with one button that posts the same URL (services without action buttons show the link:
tap it, then tap Acknowledge), so link previews and prefetchers never acknowledge anything.
The token is hostile until verified: signature and expiry first (no Redis touched), then its
single-use nonce (bot/paging/acklink.py).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from bot.core.errors import StoreUnavailable
from bot.deps import Deps
from bot.paging import acklink, flow
from bot.paging.acklink import LinkRefused
from bot.paging.rules import summary
from bot.store import REDIS_ERRORS

log = logging.getLogger("seawall.pages")

HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
NOT_CONFIGURED = "Acknowledge links are not configured on this Seawall (SEAWALL_ACK_SECRET)."
STORE_DOWN = (
    "Seawall cannot reach its database right now; nothing was acknowledged. Try again in a "
    "moment, or acknowledge in Slack."
)

Endpoint = Callable[[Request], Awaitable[Response]]


def _text(body: str, status: int = 200) -> PlainTextResponse:
    return PlainTextResponse(body + "\n", status_code=status, headers=HEADERS)


def ack_endpoint(deps: Deps) -> Endpoint:
    async def acknowledge(request: Request) -> Response:
        secret = deps.settings.seawall_ack_secret
        paging = flow.paging_from(deps)
        if not secret or paging is None:
            return _text(NOT_CONFIGURED, 404)
        try:
            link = acklink.read_token(secret, str(request.path_params["token"]), deps.clock.now())
            await acklink.consume(deps.redis, link)
            outcome = await flow.acknowledge(paging, link.page_id, link.user_id, "push link")
        except LinkRefused as refused:
            deps.metrics.webhook_rejections.labels("page_ack", f"refused_{refused.status}").inc()
            return _text(str(refused), refused.status)
        except (StoreUnavailable, *REDIS_ERRORS):
            return _text(STORE_DOWN, 503)
        log.info("page %s: push link used by %s", link.page_id, link.user_id)
        return _text(outcome.answer(plain=True))

    return acknowledge


def confirm_endpoint(deps: Deps) -> Endpoint:
    async def confirm(request: Request) -> Response:
        secret = deps.settings.seawall_ack_secret
        paging = flow.paging_from(deps)
        if not secret or paging is None:
            return _text(NOT_CONFIGURED, 404)
        token = str(request.path_params["token"])
        try:
            link = acklink.read_token(secret, token, deps.clock.now())
            page = await paging.pages.get(link.page_id)
        except LinkRefused as refused:
            return _text(str(refused), refused.status)
        except (StoreUnavailable, *REDIS_ERRORS):
            return _text(STORE_DOWN, 503)
        what = html.escape(summary(page)) if page is not None else "a page"
        body = CONFIRM_PAGE.format(what=what, action=html.escape(f"/pages/ack/{token}"))
        return HTMLResponse(body, headers=HEADERS)

    return confirm


CONFIRM_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>Acknowledge page · Seawall</title></head>
<body style="font-family: sans-serif; margin: 2em; max-width: 30em">
<h1 style="font-size: 1.3em">Acknowledge this page?</h1>
<p>{what}</p>
<p>Acknowledging stops the escalation: nobody else is woken.</p>
<form method="post" action="{action}">
<button type="submit" style="font-size: 1.4em; padding: 0.6em 1.2em">Acknowledge</button>
</form>
<p style="color: #555">This link works once and expires two hours after the push.</p>
</body></html>
"""

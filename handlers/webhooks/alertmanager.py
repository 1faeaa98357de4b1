"""POST /webhooks/alertmanager: bearer auth, version 4 payload, one card per groupKey."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.alerts.intake import receive_alertmanager
from bot.alerts.payload import AlertmanagerWebhook
from bot.core.errors import StoreUnavailable
from bot.core.replication import NotReplicated
from bot.deps import Deps
from bot.store import REDIS_ERRORS
from bot.triage import IntakeResult
from handlers import wiring
from handlers.http_edge import Rejection, check_bearer, parse_model, read_body, reject, unavailable
from handlers.webhooks import durable
from handlers.webhooks.later import attach_changes_later

SOURCE = "alertmanager"


def endpoint(deps: Deps) -> Callable[[Request], Awaitable[Response]]:
    async def receive(request: Request) -> Response:
        try:
            check_bearer(request, deps.settings.alertmanager_webhook_token)
            hook = parse_model(await read_body(request), AlertmanagerWebhook)
        except Rejection as rejection:
            return reject(SOURCE, rejection, deps.metrics)
        try:
            result = await durable.stored(deps, lambda scoped: intake(scoped, hook))
        except NotReplicated as exc:
            return unavailable(SOURCE, deps.metrics, str(exc), on_primary_only=True)
        except (StoreUnavailable, *REDIS_ERRORS):
            return unavailable(SOURCE, deps.metrics, "Redis is unreachable")
        if result is None:
            deps.metrics.webhook_deliveries.labels(SOURCE, "heartbeat").inc()
            return JSONResponse({"ok": True, "outcome": "heartbeat"})
        deps.metrics.webhook_deliveries.labels(SOURCE, result.outcome).inc()
        if result.outcome != "duplicate":
            deps.metrics.webhook_alerts.labels(SOURCE).inc(len(hook.alerts))
        return JSONResponse({"ok": True, "card": result.card_id, "outcome": result.outcome})

    return receive


async def intake(deps: Deps, hook: AlertmanagerWebhook) -> IntakeResult | None:
    """Every write of one delivery (None: it held only heartbeats, and wrote no card)."""
    if await wiring.heartbeats_only(deps, hook):
        return None
    result = await receive_alertmanager(
        hook,
        store=deps.store,
        timeline=deps.timeline,
        config=deps.config,
        default_channel=deps.settings.seawall_channel,
        received_at=deps.clock.now(),
    )
    if result.outcome != "unchanged":
        # A duplicate too: it may be the retry of a delivery whose job was not queued.
        await wiring.card_changed(deps, result.card_id)
    if result.outcome == "created":
        await attach_changes_later(deps, result.card_id)
    return result

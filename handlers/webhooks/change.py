"""POST /webhooks/change: a deploy or other change, reported by CI/CD with one curl line.

Same hostile-input rules as the other webhooks: the body is capped and timed before this runs
(http_edge.BodyLimits), the bearer token is compared in constant time, the body is parsed into
ChangeReport or refused with one line, and a retried delivery (same body) is recorded once.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.changes.flow import record
from bot.changes.payload import ChangeReport
from bot.core import keys
from bot.core.errors import StoreUnavailable
from bot.core.replication import NotReplicated
from bot.deps import Deps
from bot.models.change import Change
from bot.store import REDIS_ERRORS
from handlers.http_edge import Rejection, check_bearer, parse_model, read_body, reject, unavailable
from handlers.webhooks import durable

SOURCE = "change"


def endpoint(deps: Deps) -> Callable[[Request], Awaitable[Response]]:
    async def receive(request: Request) -> Response:
        try:
            if not deps.settings.change_webhook_token:
                raise Rejection(
                    401,
                    "change webhooks are not configured on this Seawall "
                    "(CHANGE_WEBHOOK_TOKEN is unset)",
                    "not_configured",
                )
            check_bearer(request, deps.settings.change_webhook_token)
            body = await read_body(request)
            report = parse_model(body, ChangeReport)
        except Rejection as rejection:
            return reject(SOURCE, rejection, deps.metrics)
        now = deps.clock.now()
        digest = hashlib.sha256(body).hexdigest()
        # Distinct deliveries of the same body (the same deploy reported every day) are
        # distinct changes: the id includes when it arrived; a retry within the dedup window
        # is the same delivery.
        change = Change(
            change_id="deploy-"
            + hashlib.sha256(f"{digest}:{now.isoformat()}".encode()).hexdigest()[:24],
            summary=report.summary,
            at=min(report.at or now, now),  # a change "in the future" happened now at the latest
            source="webhook",
            service=report.service,
            environment=report.environment,
            url=report.url,
            author=report.author,
        )
        claim = keys.change_delivery(digest)

        async def intake(scoped: Deps) -> bool:
            fresh = await scoped.store.claim(claim, keys.CHANGE_DELIVERY_TTL_S)
            if fresh:
                await record(change, redis=scoped.redis, retention=scoped.config.retention, now=now)
            return fresh

        try:
            fresh = await durable.stored(deps, intake)
        except (StoreUnavailable, *REDIS_ERRORS) as exc:
            with contextlib.suppress(*REDIS_ERRORS):
                await deps.redis.delete(claim)  # not acknowledged: the sender's retry must count
            if isinstance(exc, NotReplicated):
                return unavailable(SOURCE, deps.metrics, str(exc), on_primary_only=True)
            return unavailable(SOURCE, deps.metrics, "Redis is unreachable")
        outcome = "recorded" if fresh else "duplicate"
        deps.metrics.webhook_deliveries.labels(SOURCE, outcome).inc()
        return JSONResponse({"ok": True, "change": change.change_id, "outcome": outcome})

    return receive

"""POST /webhooks/sentry: HMAC-signed integration-platform webhooks, one card per issue.

Sentry unsubscribes a webhook that is slow too often (1 s budget), so this route only
verifies, parses and writes one Redis transaction; Slack is reached later by the poster.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.core.errors import StoreUnavailable
from bot.core.replication import NotReplicated
from bot.deps import Deps
from bot.sentry.api import org_url
from bot.sentry.intake import (
    SentryRouting,
    receive_event_alert,
    receive_issue,
    receive_metric_alert,
)
from bot.sentry.payload import (
    RESOURCE_PATTERN,
    SentryDelivery,
    SentryEventAlertWebhook,
    SentryIssueWebhook,
    SentryMetricAlertWebhook,
    is_handled,
)
from bot.store import REDIS_ERRORS
from bot.triage import IntakeResult
from handlers import wiring
from handlers.http_edge import Rejection, parse_model, read_body, reject, unavailable
from handlers.webhooks import durable
from handlers.webhooks.later import attach_changes_later

SOURCE = "sentry"
log = logging.getLogger("seawall.sentry")

# Sentry sends uuid4().hex; anything else is not trusted to be part of a Redis key.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")

SentryHook = SentryIssueWebhook | SentryEventAlertWebhook | SentryMetricAlertWebhook


def check_signature(request: Request, body: bytes, secret: str | None) -> None:
    """Sentry-Hook-Signature is the hex HMAC-SHA256 of the raw body with the client secret."""
    if not secret:
        raise Rejection(
            401,
            "Sentry webhooks are not configured on this Seawall (SENTRY_CLIENT_SECRET is unset)",
            "not_configured",
        )
    sent = request.headers.get("sentry-hook-signature", "").strip()
    if not sent:
        raise Rejection(401, "missing Sentry-Hook-Signature header", "auth_missing")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(sent.lower().encode(), expected.encode()):
        raise Rejection(401, "wrong Sentry-Hook-Signature", "auth_wrong")


def resource_of(request: Request) -> str:
    resource = request.headers.get("sentry-hook-resource", "").strip()
    if not resource:
        raise Rejection(400, "missing Sentry-Hook-Resource header", "resource_missing")
    if not RESOURCE_PATTERN.fullmatch(resource):
        raise Rejection(400, "Sentry-Hook-Resource is not a resource name", "resource_invalid")
    return resource


def delivery_ids(request: Request, body: bytes) -> tuple[str, ...]:
    """What identifies a delivery: the digest of the signed body, always (a replay may carry
    any Request-ID, which Sentry does not sign), and the Request-ID of Sentry's retries."""
    ids = [f"sha256:{hashlib.sha256(body).hexdigest()}"]
    request_id = request.headers.get("request-id", "").strip()
    if _REQUEST_ID.fullmatch(request_id):
        ids.append(f"rid:{request_id}")
    return tuple(ids)


def parse_hook(body: bytes, resource: str) -> SentryHook | None:
    """The delivery as the model for its resource, or None when Seawall does not act on it."""
    delivery = parse_model(body, SentryDelivery)
    if not is_handled(resource, delivery.action):
        # %r: the action is untrusted text and must not forge log lines.
        log.info("Sentry %s delivery with action %r ignored", resource, delivery.action)
        return None
    if resource == "issue":
        return parse_model(body, SentryIssueWebhook)
    if resource == "event_alert":
        return parse_model(body, SentryEventAlertWebhook)
    return parse_model(body, SentryMetricAlertWebhook)


def endpoint(deps: Deps) -> Callable[[Request], Awaitable[Response]]:
    def ignored() -> Response:
        deps.metrics.webhook_deliveries.labels(SOURCE, "ignored").inc()
        return JSONResponse({"ok": True, "outcome": "ignored"})

    async def apply(
        scoped: Deps, hook: SentryHook, delivery: tuple[str, ...]
    ) -> IntakeResult | None:
        settings = scoped.settings
        routing = SentryRouting(
            scoped.config,
            settings.seawall_channel,
            org_url(settings.sentry_url, settings.sentry_org),
        )
        now = scoped.clock.now()
        if isinstance(hook, SentryIssueWebhook):
            return await receive_issue(scoped.store, routing, hook, delivery, now)
        if isinstance(hook, SentryMetricAlertWebhook):
            return await receive_metric_alert(scoped.store, routing, hook, delivery, now)
        issue_id = hook.data.event.resolved_issue_id()
        if issue_id is None:
            log.warning(
                "Sentry event_alert for event %r names no issue (no issue_id or issue_url); "
                "ignored",
                hook.data.event.event_id,
            )
            return None
        return await receive_event_alert(scoped.store, routing, hook, issue_id, delivery, now)

    async def intake(
        scoped: Deps, hook: SentryHook, delivery: tuple[str, ...]
    ) -> IntakeResult | None:
        """Every write of one delivery, so that one confirmation covers them all."""
        result = await apply(scoped, hook, delivery)
        if result is not None and result.outcome != "unchanged":
            # A duplicate too: it may be the retry of a delivery whose job was not queued.
            await wiring.card_changed(scoped, result.card_id)
        if result is not None and result.outcome == "created":
            await attach_changes_later(scoped, result.card_id)
        return result

    async def receive(request: Request) -> Response:
        try:
            body = await read_body(request)
            check_signature(request, body, deps.settings.sentry_client_secret)
            resource = resource_of(request)
            hook = parse_hook(body, resource)
        except Rejection as rejection:
            return reject(SOURCE, rejection, deps.metrics)
        if hook is None:
            return ignored()
        delivery = delivery_ids(request, body)
        try:
            result = await durable.stored(deps, lambda scoped: intake(scoped, hook, delivery))
        except NotReplicated as exc:
            return unavailable(SOURCE, deps.metrics, str(exc), on_primary_only=True)
        except (StoreUnavailable, *REDIS_ERRORS):
            return unavailable(SOURCE, deps.metrics, "Redis is unreachable")
        if result is None:
            return ignored()
        deps.metrics.webhook_deliveries.labels(SOURCE, result.outcome).inc()
        if result.outcome != "duplicate":
            deps.metrics.webhook_alerts.labels(SOURCE).inc()
        return JSONResponse({"ok": True, "card": result.card_id, "outcome": result.outcome})

    return receive

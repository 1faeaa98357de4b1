"""Bolt app construction and Events API de-duplication."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import sentry_sdk
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

from bot import keys
from bot.deps import Deps
from bot.errors import StoreUnavailable
from handlers.respond import PooledRespond, response_url_of

log = logging.getLogger("seawall.slack")


def event_identity(body: dict[str, Any]) -> str | None:
    """Slack's event_id, or a digest of the event when a sender omits it."""
    if body.get("type") != "event_callback":
        return None
    event_id = body.get("event_id")
    if event_id:
        return str(event_id)
    material = json.dumps([body.get("team_id"), body.get("event")], sort_keys=True)
    return "digest-" + hashlib.sha256(material.encode()).hexdigest()[:32]


def build_bolt(deps: Deps) -> AsyncApp:
    bolt = AsyncApp(
        client=deps.slack,
        signing_secret=deps.settings.slack_signing_secret,
        # Listeners ack first and keep working after the HTTP response has gone.
        process_before_response=False,
        raise_error_for_unhandled_request=False,
    )

    @bolt.middleware
    async def pooled_respond(
        context: dict[str, Any],
        body: dict[str, Any],
        next: Callable[[], Awaitable[BoltResponse | None]],
    ) -> BoltResponse | None:
        url = response_url_of(body)
        if url:
            context["respond"] = PooledRespond(deps.http, url)
        return await next()

    @bolt.middleware
    async def drop_repeated_events(
        body: dict[str, Any], next: Callable[[], Awaitable[BoltResponse | None]]
    ) -> BoltResponse | None:
        identity = event_identity(body)
        if identity is None:
            return await next()
        try:
            first = await deps.store.claim(keys.slack_event(identity), keys.SLACK_EVENT_TTL_S)
        except StoreUnavailable:
            # Not acknowledging makes Slack retry later, when Redis may be back.
            log.error("Redis unreachable: event %s left for Slack to retry", identity)
            return BoltResponse(status=503, body="store unavailable")
        event_type = str((body.get("event") or {}).get("type") or "unknown")[:40]
        if not first:
            log.info("event %s already handled; ignoring the retry", identity)
            deps.metrics.slack_events.labels(event_type, "duplicate").inc()
            return BoltResponse(status=200, body="")
        deps.metrics.slack_events.labels(event_type, "handled").inc()
        return await next()

    @bolt.error
    async def on_unexpected_error(error: Exception, body: dict[str, Any]) -> None:
        # A tired human needs one sentence and a reference, never a stack trace.
        error_id = secrets.token_hex(4)
        log.exception("listener failed (error id %s)", error_id, exc_info=error)
        sentry_sdk.capture_exception(error)
        url = response_url_of(body)
        if url:
            text = (
                "Seawall failed to handle that; nothing was changed. "
                f"Details are in Seawall's logs (error id {error_id})."
            )
            with contextlib.suppress(Exception):  # the report must not raise again
                await PooledRespond(deps.http, url)(
                    text=text, response_type="ephemeral", replace_original=False
                )

    return bolt

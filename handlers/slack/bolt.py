"""Bolt app construction, replayed-request refusal and Events API de-duplication."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.core import keys
from bot.core.errors import StoreUnavailable
from bot.deps import Deps
from handlers.slack.after_ack import after_ack, within_ack_budget
from handlers.slack.failures import report_failure
from handlers.slack.respond import PooledRespond, response_url_of

log = logging.getLogger("seawall.slack")

# How long the replay check may wait for Redis before letting the request through: Slack's
# 3 s for the ack are the listener's (after_ack.ACK_BUDGET_S), and a healthy Redis answers
# a SET NX in a millisecond.
REPLAY_CHECK_BUDGET_S = 0.25


def request_identity(req: AsyncBoltRequest) -> str | None:
    """A digest of what Slack signed (timestamp and body), or None without a timestamp
    (nothing was signed, e.g. Socket Mode)."""
    stamps = req.headers.get("x-slack-request-timestamp") or []
    if not stamps:
        return None
    material = f"v0:{stamps[0]}:".encode() + req.raw_body.encode()
    return hashlib.sha256(material).hexdigest()[:40]


def event_identity(body: dict[str, Any]) -> str | None:
    """Slack's event_id, or a digest of the event when a sender omits it."""
    if body.get("type") != "event_callback":
        return None
    event_id = body.get("event_id")
    if event_id:
        return str(event_id)
    material = json.dumps([body.get("team_id"), body.get("event")], sort_keys=True)
    return "digest-" + hashlib.sha256(material.encode()).hexdigest()[:32]


class _TokenFromEnvironmentIsFine(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment even when given a client, then warns
    that the token is unused: it is the same token, already in the client. Drop only that."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


def build_bolt(deps: Deps) -> AsyncApp:
    logging.getLogger("slack_bolt.AsyncApp").addFilter(_TOKEN_WARNING_FILTER)
    bolt = AsyncApp(
        client=deps.slack,
        signing_secret=deps.settings.slack_signing_secret,
        # Listeners finish before Slack gets its response: an ack carries its answer and
        # costs no polling; whatever talks to Slack again goes through handlers.slack.after_ack.
        process_before_response=True,
        raise_error_for_unhandled_request=False,
    )

    @bolt.middleware
    async def refuse_replays(
        req: AsyncBoltRequest,
        body: dict[str, Any],
        next: Callable[[], Awaitable[BoltResponse | None]],
    ) -> BoltResponse | None:
        # Runs after Bolt verified the signature. Events are left to drop_repeated_events
        # (event_id, for 25 h); everything else Slack signs carries a fresh trigger_id or
        # response_url, so an identical signed body is a replay, never a genuine repeat.
        identity = None if body.get("type") == "event_callback" else request_identity(req)
        if identity is None:
            return await next()
        claiming = await within_ack_budget(
            deps.store.claim(keys.slack_request(identity), keys.SLACK_REQUEST_TTL_S),
            REPLAY_CHECK_BUDGET_S,
        )
        if claiming.done() and claiming.exception() is None and not claiming.result():
            log.warning("signed Slack request %s seen before: answered, nothing done", identity)
            deps.metrics.slack_requests_replayed.inc()
            return BoltResponse(status=200, body="")
        if not claiming.done() or claiming.exception() is not None:
            # Redis down or slow: the listener meets the same store and says so; holding the
            # request here would cost Slack its ack.
            log.warning("replay check of Slack request %s skipped: Redis did not answer", identity)
            claiming.add_done_callback(_consume_error)
        return await next()

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
    async def on_unexpected_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
        text = report_failure(error, "a Slack listener")
        if body.get("command"):
            answer = {"response_type": "ephemeral", "text": text}
            return BoltResponse(status=200, body=json.dumps(answer))
        url = response_url_of(body)
        if url:
            answer_url = PooledRespond(deps.http, url)
            after_ack(
                answer_url(text=text, response_type="ephemeral", replace_original=False),
                "failure report",
            )
        # Not a 5xx: Slack would retry an event we have already claimed, or show its own
        # generic error next to ours.
        return BoltResponse(status=200, body="")

    return bolt


def _consume_error(future: asyncio.Future[Any]) -> None:
    # Retrieved so asyncio does not log "exception was never retrieved": it was logged above.
    if not future.cancelled():
        future.exception()


_TOKEN_WARNING_FILTER = _TokenFromEnvironmentIsFine()

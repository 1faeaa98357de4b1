"""Outbound Slack poster: brings every dirty card's Slack message up to its latest revision.

Shared through Redis, so any number of processes can run it: a lease per channel means one
sender per channel at a time; pauses (pacing ~1 post/s per channel, a 429's Retry-After)
are Redis keys with a TTL, so every process backs off together. A card is rendered from
its *current* state when it is sent, so a pile of updates collapses into one call, and it
leaves the outbox only once Slack shows the revision that was rendered.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import ClientError
from pydantic import ValidationError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot import cards, keys
from bot.clock import Clock
from bot.metrics import Metrics
from bot.models import TriageCard
from bot.store import REDIS_ERRORS, Store

log = logging.getLogger("seawall.poster")

# Errors that retrying the same call cannot fix: the card's current revision is given up
# (recorded in the dead-letter set); a newer revision is tried afresh.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "msg_too_long",
        "cant_update_message",
        "restricted_action",
    }
)
TRANSIENT_RETRY_MS = 2_000
LEASE_HOLD_S = 10.0  # hand a busy channel to other processes now and then
MAX_CONCURRENT_CHANNELS = 16


@dataclass(frozen=True)
class Outcome:
    """Result of one attempt to sync a card: done, or wait `wait_ms` before the next try."""

    done: bool
    wait_ms: int = 0


DONE = Outcome(done=True)


class OutboundPoster:
    def __init__(
        self,
        store: Store,
        client: AsyncWebClient,
        clock: Clock,
        metrics: Metrics,
        post_interval_s: float = 1.0,
    ) -> None:
        self.store = store
        self.client = client
        self.clock = clock
        self.metrics = metrics
        self.post_interval_ms = int(post_interval_s * 1000)
        self._busy: set[str] = set()
        # Channel leases this poster could not release because Redis was unreachable. With a
        # persistent Redis they survive its restart, so they are released on the next drain
        # rather than left to block the channel until their TTL runs out.
        self._unreleased: dict[str, str] = {}

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set; survives Redis and Slack outages by waiting them out."""
        log.info("outbound poster started")
        channel_tasks: dict[str, asyncio.Task[None]] = {}
        while not stop.is_set():
            try:
                for channel in await self.store.dirty_channels():
                    task = channel_tasks.get(channel)
                    if (task is None or task.done()) and len(channel_tasks) < 10_000:
                        channel_tasks[channel] = asyncio.create_task(self.drain_channel(channel))
                channel_tasks = {c: t for c, t in channel_tasks.items() if not t.done()}
                await self.store.wait_for_work(timeout_s=0.25 if channel_tasks else 1.0)
            except REDIS_ERRORS as exc:
                log.warning("poster: Redis unavailable (%s); retrying in 1 s", exc)
                await asyncio.sleep(1.0)
        for task in channel_tasks.values():
            task.cancel()
        await asyncio.gather(*channel_tasks.values(), return_exceptions=True)
        log.info("outbound poster stopped")

    async def drain_channel(self, channel: str) -> None:
        """Sync the channel's dirty cards while holding its lease (at most LEASE_HOLD_S)."""
        lease_key = keys.channel_lease(channel)
        stale = self._unreleased.pop(channel, None)
        if stale is not None:
            try:
                await self.store.release_lease(lease_key, stale)  # only if it is still ours
            except REDIS_ERRORS:
                self._unreleased[channel] = stale
                raise
        token = await self.store.acquire_lease(lease_key, keys.CHANNEL_LEASE_MS)
        if token is None:
            return
        try:
            await self._drain_holding_lease(channel, lease_key, token)
        except REDIS_ERRORS as exc:
            log.warning("poster: Redis unavailable while draining %s: %s", channel, exc)
        finally:
            try:
                await self.store.release_lease(lease_key, token)
            except REDIS_ERRORS:
                self._unreleased[channel] = token

    async def _drain_holding_lease(self, channel: str, lease_key: str, token: str) -> None:
        deadline = time.monotonic() + LEASE_HOLD_S
        while time.monotonic() < deadline:
            card_ids = await self.store.oldest_dirty(channel, limit=100)
            if not card_ids:
                await self.store.forget_channel_if_empty(channel)
                return
            progressed, waits = False, []
            for card_id in card_ids:
                outcome = await self.sync_card(card_id, channel)
                if outcome.done:
                    progressed = True
                else:
                    waits.append(outcome.wait_ms)
                if time.monotonic() >= deadline:
                    return
            await self.store.renew_lease(lease_key, token, keys.CHANNEL_LEASE_MS)
            if not progressed:
                wait_s = min(waits) / 1000
                if time.monotonic() + wait_s >= deadline:
                    return
                await asyncio.sleep(wait_s)

    async def sync_card(self, card_id: str, channel: str) -> Outcome:
        """One attempt to make Slack show the card's latest revision and thread replies."""
        location = await self.store.card_message(card_id)
        if location is None:
            wait = await self.store.pause_remaining_ms(keys.channel_pause(channel))
            if wait:
                return Outcome(done=False, wait_ms=wait)
        try:
            card = await self.store.get_card(card_id)
        except ValidationError:
            # Unreadable state must not block every other card of the channel.
            log.exception("card %s is unreadable; set aside in the dead-letter set", card_id)
            await self.store.set_aside(card_id, channel, "unreadable")
            return DONE
        if card is None:  # deleted out from under us; nothing to show
            await self.store.set_aside(card_id, channel, "missing")
            return DONE
        if location is None:
            outcome = await self._post(card)
        elif await self.store.posted_revision(card_id) != card.revision:
            outcome = await self._update(card, location[1])
        else:
            outcome = DONE  # Slack already shows this revision; only replies may be left
        if not outcome.done:
            return outcome
        outcome = await self._post_replies(card)
        if not outcome.done:
            return outcome
        await self.store.mark_clean(card)
        return DONE

    async def _post(self, card: TriageCard) -> Outcome:
        message = await self._render(card)
        if message is None:
            return DONE
        try:
            response = await self._call(
                "chat.postMessage",
                self.client.chat_postMessage,
                channel=card.channel,
                text=message.text,
                blocks=message.blocks,
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            return await self._on_error(card, "chat.postMessage", exc)
        except (ClientError, TimeoutError) as exc:
            return await self._on_network_error(card, "chat.postMessage", exc)
        ts = str(response["ts"])
        await self._until_stored(self.store.set_card_message, card.card_id, card.channel, ts)
        await self._until_stored(self.store.set_posted_revision, card.card_id, card.revision)
        await self.store.pause(keys.channel_pause(card.channel), self.post_interval_ms)
        self.metrics.cards_posted.inc()
        return DONE

    async def _update(self, card: TriageCard, ts: str) -> Outcome:
        wait = await self.store.pause_remaining_ms(keys.method_pause("chat.update"))
        if wait:
            return Outcome(done=False, wait_ms=wait)
        message = await self._render(card)
        if message is None:
            return DONE
        try:
            await self._call(
                "chat.update",
                self.client.chat_update,
                channel=card.channel,
                ts=ts,
                text=message.text,
                blocks=message.blocks,
            )
        except SlackApiError as exc:
            if exc.response.get("error") == "message_not_found":
                # Someone deleted the card: post it again rather than lose the alert.
                await self.store.redis.delete(keys.card_message(card.card_id))
                return Outcome(done=False, wait_ms=0)
            return await self._on_error(card, "chat.update", exc)
        except (ClientError, TimeoutError) as exc:
            return await self._on_network_error(card, "chat.update", exc)
        await self.store.set_posted_revision(card.card_id, card.revision)
        self.metrics.cards_updated.inc()
        return DONE

    async def _post_replies(self, card: TriageCard) -> Outcome:
        location = await self.store.card_message(card.card_id)
        if location is None:
            return Outcome(done=False, wait_ms=0)
        while (reply := await self.store.next_reply(card.card_id)) is not None:
            wait = await self.store.pause_remaining_ms(keys.channel_pause(card.channel))
            if wait:
                return Outcome(done=False, wait_ms=wait)
            try:
                await self._call(
                    "chat.postMessage",
                    self.client.chat_postMessage,
                    channel=card.channel,
                    thread_ts=location[1],
                    text=reply.text,
                    unfurl_links=False,
                )
            except SlackApiError as exc:
                return await self._on_error(card, "chat.postMessage", exc)
            except (ClientError, TimeoutError) as exc:
                return await self._on_network_error(card, "chat.postMessage", exc)
            await self._until_stored(self._pop_posted_reply, card.card_id, reply.reply_id)
            await self.store.pause(keys.channel_pause(card.channel), self.post_interval_ms)
            self.metrics.thread_replies.inc()
        return DONE

    async def _pop_posted_reply(self, card_id: str, reply_id: str) -> None:
        # Only if it is still first: a pop that went through before Redis dropped the
        # connection must not be repeated on the next reply. Only the lease holder pops.
        head = await self.store.next_reply(card_id)
        if head is not None and head.reply_id == reply_id:
            await self.store.pop_reply(card_id)

    async def _until_stored(self, write: Callable[..., Awaitable[object]], *args: object) -> None:
        """Record what Slack now shows, waiting out a Redis outage: given up, the card or reply
        would be posted a second time once Redis is back (a storm makes that likely)."""
        delay = 0.1
        while True:
            try:
                await write(*args)
                return
            except REDIS_ERRORS as exc:
                log.warning("poster: Redis unavailable after a Slack post (%s); retrying", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def _render(self, card: TriageCard) -> cards.CardMessage | None:
        """The card's message, or None after setting aside a card that cannot be rendered
        (a bug in one card must not stop every other card of its channel)."""
        try:
            return cards.render(card, self.clock.now())
        except Exception:
            log.exception(
                "card %s cannot be rendered; set aside in the dead-letter set", card.card_id
            )
            await self.store.set_aside(card.card_id, card.channel, "render-failed")
            return None

    async def _call(
        self, method: str, fn: Callable[..., Awaitable[AsyncSlackResponse]], **kwargs: object
    ) -> AsyncSlackResponse:
        started = time.perf_counter()
        try:
            return await fn(**kwargs)
        finally:
            self.metrics.slack_api_latency.labels(method).observe(time.perf_counter() - started)

    async def _on_error(self, card: TriageCard, method: str, exc: SlackApiError) -> Outcome:
        status = exc.response.status_code
        error = str(exc.response.get("error") or f"http_{status}")
        self.metrics.slack_api_errors.labels(method, error).inc()
        if status == 429:
            retry_after_s = int(exc.response.headers.get("Retry-After", "1") or 1)
            pause_key = (
                keys.channel_pause(card.channel)
                if method == "chat.postMessage"
                else keys.method_pause(method)
            )
            await self.store.pause(pause_key, retry_after_s * 1000)
            log.info("%s rate limited on %s; waiting %d s", method, card.channel, retry_after_s)
            return Outcome(done=False, wait_ms=retry_after_s * 1000)
        if error in PERMANENT_ERRORS:
            log.error("%s refused card %s for good: %s", method, card.card_id, error)
            await self.store.set_aside(card.card_id, card.channel, f"{method}:{error}")
            return Outcome(done=False, wait_ms=0)
        log.warning("%s failed for card %s: %s; will retry", method, card.card_id, error)
        await self.store.pause(keys.channel_pause(card.channel), TRANSIENT_RETRY_MS)
        return Outcome(done=False, wait_ms=TRANSIENT_RETRY_MS)

    async def _on_network_error(self, card: TriageCard, method: str, exc: Exception) -> Outcome:
        self.metrics.slack_api_errors.labels(method, type(exc).__name__).inc()
        log.warning("%s: Slack unreachable (%s); will retry", method, exc)
        await self.store.pause(keys.channel_pause(card.channel), TRANSIENT_RETRY_MS)
        return Outcome(done=False, wait_ms=TRANSIENT_RETRY_MS)

"""Outbound Slack poster: brings every dirty card's Slack message up to its latest revision.

Shared through Redis, so any number of processes can run it: a lease per channel means one
sender per channel at a time; pauses (pacing ~1 post/s per channel, a 429's Retry-After)
are Redis keys with a TTL, so every process backs off together. A card is rendered from
its *current* state when it is sent, so a pile of updates collapses into one call, and it
leaves the outbox only once Slack shows the revision that was rendered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import ClientConnectorError, ClientError
from pydantic import ValidationError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot import post_intents
from bot.cards.common import CardMessage, RenderContext
from bot.cards.render import render
from bot.core import keys
from bot.core.clock import Clock
from bot.core.metrics import Metrics
from bot.core.replication import ReplicaWait
from bot.models.card import TriageCard
from bot.outbox_plan import KeepOrder, PassPlan, PassPlanner
from bot.post_intents import PostIntents
from bot.store import REDIS_ERRORS, OutboxEntry, Store

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
        "msg_blocks_too_long",
        "cant_update_message",
        "restricted_action",
    }
)
TRANSIENT_RETRY_MS = 2_000
# A post whose intent no replica confirmed is tried again after this (the replica is back, or
# the failover that is under way is over).
INTENT_RETRY_MS = 1_000
LEASE_HOLD_S = 10.0  # hand a busy channel to other processes now and then
MAX_CONCURRENT_CHANNELS = 16
PASS_SIZE = 100  # outbox cards looked at per pass, oldest first


@dataclass(frozen=True)
class Outcome:
    """Result of one attempt to sync a card: done, or wait `wait_ms` before the next try."""

    done: bool
    wait_ms: int = 0


DONE = Outcome(done=True)
# A pass the planner left empty, with nothing to wait for, is not repeated at once.
IDLE_PASS_S = 0.25
# While a channel's cards wait (an update for a chat.update token, a post for the channel's
# pause), a card new to the channel is looked for this often: an update waiting its turn
# must not hold back a new alert's first post.
NEW_CARD_LOOK_S = 0.25


class OutboundPoster:
    def __init__(
        self,
        store: Store,
        client: AsyncWebClient,
        clock: Clock,
        metrics: Metrics,
        post_interval_s: float = 1.0,
        *,
        context: RenderContext | None = None,
        replicas: ReplicaWait | None = None,
        planner: PassPlanner | None = None,
        updates_per_minute: int = keys.CHAT_UPDATE_PER_MINUTE,
    ) -> None:
        self.updates_per_minute = updates_per_minute
        self.store = store
        self.context = context or RenderContext()
        self.planner: PassPlanner = planner or KeepOrder()
        self.client = client
        self.clock = clock
        self.metrics = metrics
        self.intents = PostIntents(
            redis=store.redis,
            replicas=replicas or ReplicaWait(timeout_ms=0),
            clock=clock,
            client=client,
            metrics=metrics,
        )
        self.post_interval_ms = int(post_interval_s * 1000)
        self._busy: set[str] = set()
        # Channels whose task sleeps on a pause -> set when a writer signals that channel.
        self._looks: dict[str, asyncio.Event] = {}
        # Channel leases this poster could not release because Redis was unreachable. With a
        # persistent Redis they survive its restart, so they are released on the next drain
        # rather than left to block the channel until their TTL runs out.
        self._unreleased: dict[str, str] = {}
        # When each pause key is known to end (time.monotonic()): read from Redis once per
        # pass and extended by the pauses this poster sets, so cards are not checked one by one.
        self._pause_ends: dict[str, float] = {}

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
                woken = await self.store.wait_for_work(timeout_s=0.25 if channel_tasks else 1.0)
                if woken in self._looks:  # its task sleeps on a pause: look for a new card now
                    self._looks[woken].set()
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
            card_ids = await self.store.oldest_dirty(channel, limit=PASS_SIZE)
            if not card_ids:
                await self.store.forget_channel_if_empty(channel)
                return
            # A fixed number of commands per pass, whatever the backlog: cards that wait on a
            # pause are skipped on what this pass read, without asking Redis per card.
            plan = await self._plan(channel, await self.store.outbox_entries(card_ids))
            if not plan.entries and not plan.wait_ms:
                await asyncio.sleep(IDLE_PASS_S)
                continue
            await self._read_pauses(channel)
            progressed, waits = False, [plan.wait_ms] if plan.wait_ms else []
            for entry in plan.entries:
                outcome = await self._sync_entry(entry, channel)
                if outcome.done:
                    progressed = True
                else:
                    waits.append(outcome.wait_ms)
                if time.monotonic() >= deadline:
                    return
            await self.store.renew_lease(lease_key, token, keys.CHANNEL_LEASE_MS)
            if progressed and len(card_ids) == PASS_SIZE:
                continue  # finished cards made room for cards this pass did not see
            if waits:
                # Every card left waits on a pause (or on nothing: wait 0). Sleeping until the
                # first one ends, rather than re-reading a paused backlog, is what keeps the
                # Redis cost per Slack message small. Past the deadline the lease is handed on.
                wait_s = min(min(waits) / 1000, deadline - time.monotonic())
                await self._sleep_unless_new_card(channel, max(wait_s, 0))

    async def _sleep_unless_new_card(self, channel: str, wait_s: float) -> None:
        """Sleep `wait_s`, or less once a card joins the channel's outbox. Only this lease's
        holder takes cards out, so a larger outbox means a new card: one ZCARD per look."""
        if wait_s <= NEW_CARD_LOOK_S:
            await asyncio.sleep(wait_s)
            return
        until = time.monotonic() + wait_s
        size = await self.store.outbox_size(channel)
        # Set when this process's poster pops a wake signal for the channel: a look at once.
        # Another process may pop it instead, so the look also comes every NEW_CARD_LOOK_S.
        look = self._looks[channel] = asyncio.Event()
        try:
            while (left := until - time.monotonic()) > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(look.wait(), timeout=min(NEW_CARD_LOOK_S, left))
                look.clear()
                if time.monotonic() < until and await self.store.outbox_size(channel) > size:
                    return
        finally:
            self._looks.pop(channel, None)

    async def _plan(self, channel: str, entries: list[OutboxEntry]) -> PassPlan:
        """The planner's pass; a planner that fails must not stop the channel's cards."""
        try:
            return await self.planner.plan(channel, entries)
        except REDIS_ERRORS:
            raise
        except Exception:
            log.exception("pass planner failed on %s; posting oldest first", channel)
            return PassPlan(entries)

    async def _sync_entry(self, entry: OutboxEntry, channel: str) -> Outcome:
        """Sync the card unless a pause it needs is running. Updates of posted cards obey the
        chat.update pause; new messages and thread replies obey the channel's pause (so does a
        posted, current card whose replies are all out: left by a failure between recording
        and leaving the outbox, it leaves once the pause ends)."""
        gate = (
            keys.method_pause("chat.update") if entry.needs_update else keys.channel_pause(channel)
        )
        wait = self._known_pause_ms(gate)
        if wait:
            return Outcome(done=False, wait_ms=wait)
        return await self.sync_card(entry, channel)

    async def sync_card(self, entry: OutboxEntry, channel: str) -> Outcome:
        """One attempt to make Slack show the card's latest revision and thread replies."""
        try:
            card = await self.store.get_card(entry.card_id)
        except ValidationError:
            # Unreadable state must not block every other card of the channel.
            log.exception("card %s is unreadable; set aside in the dead-letter set", entry.card_id)
            await self.store.set_aside(entry.card_id, channel, "unreadable")
            return DONE
        if card is None:  # deleted out from under us; nothing to show
            await self.store.set_aside(entry.card_id, channel, "missing")
            return DONE
        ts = entry.ts
        if ts is None:
            outcome, ts = await self._post(card)
        elif entry.posted_revision != card.revision:
            outcome = await self._update(card, ts)
        else:
            outcome = DONE  # Slack already shows this revision; only replies may be left
        if not outcome.done:
            return outcome
        if ts is None:  # set aside: it could not be rendered
            return Outcome(done=False, wait_ms=0)
        outcome = await self._post_replies(card, ts)
        if not outcome.done:
            return outcome
        await self.store.mark_clean(card)
        return DONE

    async def _post(self, card: TriageCard) -> tuple[Outcome, str | None]:
        """Post the card as a new message; returns the outcome and the message's ts."""
        earlier = await self.intents.earlier(card.card_id, card.channel, post_intents.CARD)
        if earlier.wait_ms:
            return Outcome(done=False, wait_ms=earlier.wait_ms), None
        if earlier.ts is not None:  # posted before, answer lost: adopt it, update it next pass
            await self._until_stored(
                self.store.set_card_message, card.card_id, card.channel, earlier.ts
            )
            await self._until_stored(self.intents.clear, card.card_id)
            return Outcome(done=False, wait_ms=0), None
        message = await self._render(card)
        if message is None:
            return DONE, None
        outcome, ts = await self._post_once(
            card, post_intents.CARD, text=message.text, blocks=message.blocks, unfurl_media=False
        )
        if ts is None:
            return outcome, None
        await self._until_stored(self.store.set_card_message, card.card_id, card.channel, ts)
        await self._until_stored(self.intents.clear, card.card_id)
        await self._until_stored(self.store.set_posted_revision, card.card_id, card.revision)
        await self._pause(keys.channel_pause(card.channel), self.post_interval_ms)
        self.metrics.cards_posted.inc()
        return DONE, ts

    async def _update(self, card: TriageCard, ts: str) -> Outcome:
        # Checked again here: a webhook may have made the card stale since the pass read it.
        wait = self._known_pause_ms(keys.method_pause("chat.update"))
        if wait:
            return Outcome(done=False, wait_ms=wait)
        # Tier 3 for the whole workspace, shared by every poster: taken before each update,
        # so a storm card kept current and the groups' cards never meet a 429.
        wait = await self.store.take_token(
            keys.CHAT_UPDATE_BUDGET,
            per_minute=self.updates_per_minute,
            burst=keys.CHAT_UPDATE_BURST,
        )
        if wait:
            self._note_pause(keys.method_pause("chat.update"), wait)
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
                await self.store.forget_card_message(card.card_id)
                return Outcome(done=False, wait_ms=0)
            return await self._on_error(card, "chat.update", exc)
        except (ClientError, TimeoutError) as exc:
            return await self._on_network_error(card, "chat.update", exc)
        await self.store.set_posted_revision(card.card_id, card.revision)
        self.metrics.cards_updated.inc()
        return DONE

    async def _post_replies(self, card: TriageCard, ts: str) -> Outcome:
        while (reply := await self.store.next_reply(card.card_id)) is not None:
            wait = self._known_pause_ms(keys.channel_pause(card.channel))
            if wait:
                return Outcome(done=False, wait_ms=wait)
            kind = post_intents.reply_kind(reply.reply_id)
            earlier = await self.intents.earlier(card.card_id, card.channel, kind, thread_ts=ts)
            if earlier.wait_ms:
                return Outcome(done=False, wait_ms=earlier.wait_ms)
            if earlier.ts is None:
                outcome, _ = await self._post_once(card, kind, thread_ts=ts, text=reply.text)
                if not outcome.done:
                    return outcome
            await self._until_stored(self._pop_posted_reply, card.card_id, reply.reply_id)
            await self._until_stored(self.intents.clear, card.card_id)
            if earlier.ts is None:
                await self._pause(keys.channel_pause(card.channel), self.post_interval_ms)
                self.metrics.thread_replies.inc()
        return DONE

    async def _post_once(
        self, card: TriageCard, kind: str, **message: object
    ) -> tuple[Outcome, str | None]:
        """chat.postMessage of `kind` (the card, or a reply), once: behind an intent confirmed on
        a replica, with metadata naming it, abandoned at the deadline (bot/post_intents.py)."""
        if not await self.intents.begin(card.card_id, kind):
            return Outcome(done=False, wait_ms=INTENT_RETRY_MS), None
        try:
            async with asyncio.timeout(post_intents.POST_DEADLINE_S):
                response = await self._call(
                    "chat.postMessage",
                    self.client.chat_postMessage,
                    channel=card.channel,
                    metadata=post_intents.metadata(card.card_id, kind),
                    unfurl_links=False,
                    **message,
                )
        except SlackApiError as exc:
            await self.intents.clear(card.card_id)  # refused: nothing was posted
            return await self._on_error(card, "chat.postMessage", exc), None
        except (ClientError, TimeoutError) as exc:
            if isinstance(exc, ClientConnectorError):  # never reached Slack
                await self.intents.clear(card.card_id)
            # Otherwise the intent stays: Slack may have the message (bot/post_intents.py).
            return await self._on_network_error(card, "chat.postMessage", exc), None
        return DONE, str(response["ts"])

    async def _read_pauses(self, channel: str) -> None:
        """Learn the pauses that gate this channel's cards (another process may have set one)."""
        pause_keys = (keys.channel_pause(channel), keys.method_pause("chat.update"))
        for key, ms in zip(
            pause_keys, await self.store.pauses_remaining_ms(*pause_keys), strict=True
        ):
            self._note_pause(key, ms)

    async def _pause(self, key: str, ms: int) -> None:
        """Pause `key`'s resource for every process (Redis) and remember it here."""
        await self.store.pause(key, ms)
        self._note_pause(key, ms)

    def _note_pause(self, key: str, ms: int) -> None:
        # Pauses only ever grow (Store.pause), so the later of the two ends is the right one.
        ends = time.monotonic() + ms / 1000
        self._pause_ends[key] = max(ends, self._pause_ends.get(key, 0.0))

    def _known_pause_ms(self, key: str) -> int:
        remaining_s = self._pause_ends.get(key, 0.0) - time.monotonic()
        return math.ceil(remaining_s * 1000) if remaining_s > 0 else 0

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

    async def _render(self, card: TriageCard) -> CardMessage | None:
        """The card's message, or None after setting aside a card that cannot be rendered
        (a bug in one card must not stop every other card of its channel)."""
        try:
            return render(card, self.clock.now(), context=self.context)
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
            await self._pause(pause_key, retry_after_s * 1000)
            log.info("%s rate limited on %s; waiting %d s", method, card.channel, retry_after_s)
            return Outcome(done=False, wait_ms=retry_after_s * 1000)
        if error in PERMANENT_ERRORS:
            log.error("%s refused card %s for good: %s", method, card.card_id, error)
            await self.store.set_aside(card.card_id, card.channel, f"{method}:{error}")
            return Outcome(done=False, wait_ms=0)
        log.warning("%s failed for card %s: %s; will retry", method, card.card_id, error)
        await self._pause(keys.channel_pause(card.channel), TRANSIENT_RETRY_MS)
        return Outcome(done=False, wait_ms=TRANSIENT_RETRY_MS)

    async def _on_network_error(self, card: TriageCard, method: str, exc: Exception) -> Outcome:
        self.metrics.slack_api_errors.labels(method, type(exc).__name__).inc()
        log.warning("%s: Slack unreachable (%s); will retry", method, exc)
        await self._pause(keys.channel_pause(card.channel), TRANSIENT_RETRY_MS)
        return Outcome(done=False, wait_ms=TRANSIENT_RETRY_MS)

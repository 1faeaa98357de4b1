"""One Slack message per card (and per thread reply), even when Redis fails over mid-post.

chat.postMessage has no idempotency key, and the poster learns a new message's ts only from
Slack's answer. If that answer is lost (a timeout), or recorded on a primary that dies before
its replica has it, the card looks unposted and would be posted a second time. So:
- before posting, the poster records an intent (`keys.card_posting`), confirmed on a replica
  (bot/core/replication.py); unconfirmed, nothing is posted;
- every message carries the card id (and a reply its reply id) in Slack's message metadata;
- a poster that finds an intent but no recorded ts waits until any post that may still be in
  flight has ended (posts are abandoned after POST_DEADLINE_S), then looks for the message in
  the channel (or the thread) and adopts it; it posts only if Slack has none.
The lookup needs the channels:history scope (manifest.yaml has it); refused, Seawall posts
again rather than risk a card that never appears.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from aiohttp import ClientError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import keys
from bot.core.clock import Clock
from bot.core.metrics import Metrics
from bot.core.replication import NotReplicated, ReplicaWait

log = logging.getLogger("seawall.poster")

EVENT_TYPE = "seawall_card"
POST_DEADLINE_S = 10.0  # the poster's Slack client times out after 10 s too
# After the deadline Slack may still be storing a post whose answer we gave up on.
SETTLE_S = 2.0
# A message is looked for from this long before the intent (Slack's clock and ours differ).
LOOKBACK_S = 60.0
MAX_PAGES = 10  # of 200 messages: a channel busier than that since the intent is looked at so far
LOOKUP_RETRY_MS = 2_000
CARD = "card"


def reply_kind(reply_id: str) -> str:
    return f"reply:{reply_id}"


def metadata(card_id: str, kind: str = CARD) -> dict[str, Any]:
    """Slack message metadata naming what a message shows, so a lost post can be found."""
    return {"event_type": EVENT_TYPE, "event_payload": {"card_id": card_id, "kind": kind}}


@dataclass(frozen=True)
class Earlier:
    """What an earlier, unrecorded post of the same thing left: wait `wait_ms` before
    deciding, or the message `ts` Slack has (None with no wait: nothing, post it)."""

    wait_ms: int = 0
    ts: str | None = None


NOTHING_EARLIER = Earlier()


class PostIntents:
    """Intents of the outbound poster, one per card (a card posts one thing at a time)."""

    def __init__(
        self,
        *,
        redis: aioredis.Redis,
        replicas: ReplicaWait,
        clock: Clock,
        client: AsyncWebClient,
        metrics: Metrics,
    ) -> None:
        self.redis = redis
        self.replicas = replicas
        self.clock = clock
        self.client = client
        self.metrics = metrics

    def _now_ms(self) -> int:
        return int(self.clock.now().timestamp() * 1000)

    async def begin(self, card_id: str, kind: str) -> bool:
        """Record that `kind` of the card is about to be posted, on a replica too. False: no
        replica confirmed it, so post nothing now (the poster tries again shortly)."""
        value = f"{kind} {self._now_ms()}"
        if not self.replicas.enabled:
            await self.redis.set(keys.card_posting(card_id), value, ex=keys.POSTING_TTL_S)
            return True
        async with self.replicas.pinned(self.redis) as pinned:
            await pinned.client.set(keys.card_posting(card_id), value, ex=keys.POSTING_TTL_S)
            try:
                await pinned.confirm()
            except NotReplicated as exc:
                log.warning("card %s not posted yet: %s", card_id, exc)
                return False
        return True

    async def clear(self, card_id: str) -> None:
        """The post is recorded (or Slack refused it): nothing is left to look for."""
        await self.redis.delete(keys.card_posting(card_id))

    async def earlier(
        self, card_id: str, channel: str, kind: str, thread_ts: str | None = None
    ) -> Earlier:
        """Did an earlier post of `kind` reach Slack without being recorded?"""
        raw = await self.redis.get(keys.card_posting(card_id))
        if not raw:
            return NOTHING_EARLIER
        found_kind, _, at = str(raw).rpartition(" ")
        if found_kind != kind or not at.isdigit():
            return NOTHING_EARLIER  # an intent for something else, already settled
        wait_ms = int(at) + int((POST_DEADLINE_S + SETTLE_S) * 1000) - self._now_ms()
        if wait_ms > 0:
            return Earlier(wait_ms=wait_ms)
        oldest = f"{int(at) / 1000 - LOOKBACK_S:.6f}"
        try:
            ts = await self._find(channel, card_id, kind, oldest, thread_ts)
        except (ClientError, TimeoutError) as exc:
            log.warning("card %s: Slack unreachable to look for an earlier post (%s)", card_id, exc)
            return Earlier(wait_ms=LOOKUP_RETRY_MS)
        except SlackApiError as exc:
            log.warning(
                "card %s: an earlier post may have reached Slack, and Slack refused to show "
                "the channel (%s); posting it again, which may show it twice",
                card_id,
                exc.response.get("error"),
            )
            return NOTHING_EARLIER
        if ts is not None:
            log.info("card %s: the %s posted before was found in Slack (%s)", card_id, kind, ts)
            self.metrics.posts_found.inc()
        return Earlier(ts=ts)

    async def _find(
        self, channel: str, card_id: str, kind: str, oldest: str, thread_ts: str | None
    ) -> str | None:
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            args: dict[str, Any] = {
                "channel": channel,
                "oldest": oldest,
                "limit": 200,
                "include_all_metadata": True,
                **({"cursor": cursor} if cursor else {}),
            }
            page = await (
                self.client.conversations_replies(ts=thread_ts, **args)
                if thread_ts
                else self.client.conversations_history(**args)
            )
            for message in page.get("messages") or []:
                meta = message.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if (
                    meta.get("event_type") == EVENT_TYPE
                    and payload.get("card_id") == card_id
                    and payload.get("kind") == kind
                ):
                    return str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None

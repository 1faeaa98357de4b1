"""Redis state for cards: atomic mutations, the per-channel outbox, leases and dedup keys.

Every write that a retry could repeat is guarded in the same transaction as the effect
(WATCH/MULTI or a Lua script), so a crash between "claimed" and "done" cannot lose work.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from redis.exceptions import WatchError

from bot.core import keys
from bot.core.clock import Clock
from bot.core.errors import StoreUnavailable
from bot.core.redis_primitives import REDIS_ERRORS as REDIS_ERRORS
from bot.core.redis_primitives import Primitives, retry_after_watch
from bot.core.redis_target import RedisTarget
from bot.core.retention import Retention
from bot.models.card import CARD_SCHEMA_VERSION, ThreadReply, TriageCard
from bot.models.lifecycle import is_closed, kept_for

# Marks a card clean only when Slack shows its current revision and its thread replies are
# all posted; otherwise it stays in the outbox and the poster comes back to it.
_MARK_CLEAN = """
if redis.call('GET', KEYS[1]) == ARGV[1] and redis.call('GET', KEYS[3]) == ARGV[1]
   and redis.call('LLEN', KEYS[2]) == 0 then
  redis.call('ZREM', KEYS[4], ARGV[2])
  return 1
end
return 0
"""
# Writes keys the poster learns after the card's transaction (its Slack message, the index,
# the revision shown) with the card's own TTL, read in the same script: a card that closed
# while it was being posted cannot leave them behind for good. A card that is gone gets them
# for ARGV[1] ms rather than for ever. KEYS[1] is the card; then pairs of key, value.
_SET_LIKE_CARD = """
for i = 2, #KEYS do redis.call('SET', KEYS[i], ARGV[i]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 then ttl = tonumber(ARGV[1]) end
if ttl > 0 then
  for i = 2, #KEYS do redis.call('PEXPIRE', KEYS[i], ttl) end
end
return ttl
"""
# Forgets a channel from the work list only when its outbox is really empty.
_FORGET_CHANNEL_IF_EMPTY = """
if redis.call('ZCARD', KEYS[1]) == 0 then return redis.call('SREM', KEYS[2], ARGV[1]) end
return 0
"""


@dataclass
class CardMutation:
    """What a mutation wants written: the new card, replies for its thread, and whether
    Slack must be updated (False for bookkeeping-only changes)."""

    card: TriageCard
    replies: list[str] = field(default_factory=list)
    render: bool = True


@dataclass
class MutationResult:
    card: TriageCard | None
    changed: bool
    duplicate: bool = False


# Gets the stored card (None: no such card), parsed for it alone: it may change that card and
# return it in a CardMutation, or return None to write nothing (its changes are then dropped).
Mutator = Callable[[TriageCard | None], CardMutation | None]


@dataclass(frozen=True)
class OutboxEntry:
    """Where one outbox card stands with Slack, as read for a poster pass."""

    card_id: str
    ts: str | None  # its Slack message, once posted
    revision: int | None  # latest written revision (None: unknown, e.g. the card is gone)
    posted_revision: int  # the revision Slack shows (0: none yet)

    @property
    def needs_update(self) -> bool:
        """Posted, but Slack shows an older revision: chat.update, not chat.postMessage."""
        return self.ts is not None and self.revision != self.posted_revision


def connect(where: str | RedisTarget) -> aioredis.Redis:
    """A client that fails fast (a webhook must answer 503 quickly when Redis is down), to a
    URL or to what REDIS_URL / REDIS_SENTINELS name (bot/core/redis_target.py)."""
    target = where if isinstance(where, RedisTarget) else RedisTarget(url=where)
    return target.client()


class Store(Primitives):
    """Cards and their outbox, on top of the leases, pauses and claims of Primitives."""

    def __init__(
        self, redis: aioredis.Redis, clock: Clock, retention: Retention | None = None
    ) -> None:
        super().__init__(redis)
        self.clock = clock
        self.retention = retention or Retention()
        # TTL for message keys of a card that is gone by the time the poster records them.
        self._orphan_ttl_ms = int(self.retention.resolved_cards.total_seconds() * 1000)
        self._set_like_card = redis.register_script(_SET_LIKE_CARD)
        self._mark_clean = redis.register_script(_MARK_CLEAN)
        self._forget_channel = redis.register_script(_FORGET_CHANNEL_IF_EMPTY)

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except REDIS_ERRORS as exc:
            raise StoreUnavailable(f"Redis is unreachable: {exc}") from exc

    # --- cards -------------------------------------------------------------------------
    async def get_card(self, card_id: str) -> TriageCard | None:
        raw = await self.redis.get(keys.card(card_id))
        return TriageCard.model_validate_json(raw) if raw else None

    async def mutate_card(
        self,
        card_id: str,
        mutate: Mutator,
        *,
        dedup_keys: tuple[str, ...] = (),
        dedup_ttl_s: int = 0,
    ) -> MutationResult:
        """Read-modify-write one card atomically (optimistic; retried on conflict).

        `dedup_keys`, when given, are claimed in the same transaction: a delivery any of them
        already marks as applied changes nothing, and a claim can never outlive a failed write.
        """
        card_key = keys.card(card_id)
        # Watched too: the poster may record the card's Slack message meanwhile, and the
        # message's keys must get the card's TTL whichever write comes first.
        message_key = keys.card_message(card_id)
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                while True:
                    try:
                        await pipe.watch(card_key, message_key, *dedup_keys)
                        # One round trip for every read (a quarter of a delivery's Redis CPU).
                        raw, message, *claimed = await pipe.mget(card_key, message_key, *dedup_keys)
                        if any(claim is not None for claim in claimed):
                            await pipe.unwatch()
                            return MutationResult(card=None, changed=False, duplicate=True)
                        # Parsed for this attempt alone, so `mutate` may change it in place:
                        # no defensive copy (deep copies were most of a delivery's CPU).
                        current = TriageCard.model_validate_json(raw) if raw else None
                        revision = current.revision if current else 0
                        was_closed = current is not None and is_closed(current.subject)
                        mutation = mutate(current)
                        if mutation is None:
                            # Claimed even so: a delivery that changed nothing now must not
                            # count later, when a replay of it would (see docs/decisions.md).
                            await self._claim_only(pipe, dedup_keys, dedup_ttl_s)
                            # What is stored, not what `mutate` may have changed before it
                            # chose to write nothing.
                            stored = TriageCard.model_validate_json(raw) if raw else None
                            return MutationResult(card=stored, changed=False)
                        card = mutation.card
                        # A bookkeeping-only write leaves Slack's message current: it keeps the
                        # revision, so a poster that just rendered it still marks it clean.
                        shown = mutation.render or bool(mutation.replies)
                        card.revision = revision + 1 if shown or current is None else revision
                        card.updated_at = self.clock.now()
                        # Written in this release's shape, whichever release stored it.
                        card.schema_version = CARD_SCHEMA_VERSION
                        pipe.multi()
                        self._queue_card_write(pipe, card, mutation)
                        self._queue_retention(pipe, card, message, was_closed)
                        for dedup_key in dedup_keys:
                            pipe.set(dedup_key, "1", ex=dedup_ttl_s)
                        await pipe.execute()
                        return MutationResult(card=card, changed=True)
                    except WatchError as exc:
                        retry_after_watch(exc)
                        continue
        except REDIS_ERRORS as exc:
            raise StoreUnavailable(f"Redis is unreachable: {exc}") from exc

    @staticmethod
    async def _claim_only(
        pipe: aioredis.client.Pipeline, dedup_keys: tuple[str, ...], ttl_s: int
    ) -> None:
        if not dedup_keys:
            await pipe.unwatch()
            return
        pipe.multi()
        for dedup_key in dedup_keys:
            pipe.set(dedup_key, "1", ex=ttl_s)
        await pipe.execute()

    def _queue_card_write(
        self, pipe: aioredis.client.Pipeline, card: TriageCard, mutation: CardMutation
    ) -> None:
        pipe.set(keys.card(card.card_id), card.model_dump_json())
        pipe.set(keys.card_revision(card.card_id), card.revision)
        for text in mutation.replies:
            reply = ThreadReply(reply_id=secrets.token_hex(8), text=text)
            pipe.rpush(keys.card_replies(card.card_id), reply.model_dump_json())
        if mutation.render or mutation.replies:
            now_ms = int(self.clock.now().timestamp() * 1000)
            pipe.zadd(keys.outbox(card.channel), {card.card_id: now_ms}, nx=True)
            pipe.sadd(keys.OUTBOX_CHANNELS, card.channel)
            pipe.lpush(keys.OUTBOX_WAKE, card.channel)
            pipe.ltrim(keys.OUTBOX_WAKE, 0, 15)

    def _queue_retention(
        self,
        pipe: aioredis.client.Pipeline,
        card: TriageCard,
        message: str | None,
        was_closed: bool,
    ) -> None:
        """A closed card and every key about it expire after its retention, counted from this
        write; a card that opens again keeps them for good again. An open card that was open
        needs nothing: its keys never had a TTL (SET and RPUSH create them without one)."""
        ttl = kept_for(card, self.retention)
        if ttl is None and not was_closed:
            return
        names = [
            keys.card(card.card_id),
            keys.card_revision(card.card_id),
            keys.card_replies(card.card_id),
            keys.card_message(card.card_id),
            keys.card_posted_revision(card.card_id),
        ]
        if message:
            channel, ts = message.split(" ", 1)
            names.append(keys.message_card(channel, ts))
        for name in names:
            if ttl is None:
                pipe.persist(name)
            else:
                pipe.pexpire(name, int(ttl.total_seconds() * 1000))

    async def card_message(self, card_id: str) -> tuple[str, str] | None:
        """(channel, ts) of the card's Slack message, if it was posted."""
        raw = await self.redis.get(keys.card_message(card_id))
        if not raw:
            return None
        channel, ts = raw.split(" ", 1)
        return channel, ts

    async def set_card_message(self, card_id: str, channel: str, ts: str) -> None:
        """Record where the card is in Slack, and the index back, with the card's TTL."""
        await self._set_like_card(
            keys=[keys.card(card_id), keys.card_message(card_id), keys.message_card(channel, ts)],
            args=[self._orphan_ttl_ms, f"{channel} {ts}", card_id],
        )

    async def forget_card_message(self, card_id: str) -> None:
        """The card's Slack message is gone (deleted by someone): post it again later."""
        where = await self.card_message(card_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(keys.card_message(card_id))
            if where is not None:
                pipe.delete(keys.message_card(*where))
            await pipe.execute()

    async def card_for_message(self, channel: str, ts: str) -> str | None:
        result: str | None = await self.redis.get(keys.message_card(channel, ts))
        return result

    # --- outbox ------------------------------------------------------------------------
    async def dirty_channels(self) -> list[str]:
        return sorted(await self.redis.smembers(keys.OUTBOX_CHANNELS))

    async def oldest_dirty(self, channel: str, limit: int) -> list[str]:
        result: list[str] = await self.redis.zrange(keys.outbox(channel), 0, limit - 1)
        return result

    async def outbox_entries(self, card_ids: list[str]) -> list[OutboxEntry]:
        """Message, revision and posted revision of each card, in one MGET.

        One command for a whole poster pass instead of two or three per card. The keys span
        hash slots: a move to Redis Cluster would split this per slot (`mget_nonatomic`).
        """
        if not card_ids:
            return []
        names: list[str] = []
        for card_id in card_ids:
            names += [
                keys.card_message(card_id),
                keys.card_revision(card_id),
                keys.card_posted_revision(card_id),
            ]
        values: list[str | None] = await self.redis.mget(names)
        entries = []
        for i, card_id in enumerate(card_ids):
            message, revision, posted = values[3 * i : 3 * i + 3]
            entries.append(
                OutboxEntry(
                    card_id=card_id,
                    ts=message.split(" ", 1)[1] if message else None,
                    revision=int(revision) if revision else None,
                    posted_revision=int(posted) if posted else 0,
                )
            )
        return entries

    async def outbox_size(self, channel: str) -> int:
        return int(await self.redis.zcard(keys.outbox(channel)))

    async def forget_channel_if_empty(self, channel: str) -> None:
        await self._forget_channel(
            keys=[keys.outbox(channel), keys.OUTBOX_CHANNELS], args=[channel]
        )

    async def posted_revision(self, card_id: str) -> int:
        raw = await self.redis.get(keys.card_posted_revision(card_id))
        return int(raw) if raw else 0

    async def set_posted_revision(self, card_id: str, revision: int) -> None:
        """Slack now shows `revision`: a retry after a later failure need not send it again."""
        await self._set_like_card(
            keys=[keys.card(card_id), keys.card_posted_revision(card_id)],
            args=[self._orphan_ttl_ms, revision],
        )

    async def mark_clean(self, card: TriageCard) -> bool:
        """Leave the outbox if Slack shows the current revision and every reply is posted."""
        result = await self._mark_clean(
            keys=[
                keys.card_revision(card.card_id),
                keys.card_replies(card.card_id),
                keys.card_posted_revision(card.card_id),
                keys.outbox(card.channel),
            ],
            args=[card.revision, card.card_id],
        )
        return bool(result)

    async def set_aside(self, card_id: str, channel: str, reason: str) -> None:
        """Give up on the card's current revision (Slack refused it for good, or it cannot be
        read); keep a record. A newer revision puts it back in the outbox."""
        now_ms = int(self.clock.now().timestamp() * 1000)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrem(keys.outbox(channel), card_id)
            pipe.zadd(keys.DEAD_LETTER, {f"{card_id} {reason}": now_ms})
            # Bounded by age and size (keys.DEAD_LETTER): the newest entries are what helps.
            pipe.zremrangebyscore(
                keys.DEAD_LETTER, "-inf", f"({now_ms - keys.DEAD_LETTER_MAX_AGE_S * 1000}"
            )
            pipe.zremrangebyrank(keys.DEAD_LETTER, 0, -(keys.DEAD_LETTER_MAX + 1))
            await pipe.execute()

    async def next_reply(self, card_id: str) -> ThreadReply | None:
        raw = await self.redis.lindex(keys.card_replies(card_id), 0)
        return ThreadReply.model_validate_json(raw) if raw else None

    async def pop_reply(self, card_id: str) -> None:
        await self.redis.lpop(keys.card_replies(card_id))

    async def wait_for_work(self, timeout_s: float) -> str | None:
        """Sleep until a writer signals new outbox work, or the timeout passes; the channel
        the signal names (None on timeout)."""
        popped = await self.redis.blpop([keys.OUTBOX_WAKE], timeout=timeout_s)
        return str(popped[1]) if popped else None

"""A storm's Redis state (key patterns and TTLs in bot/core/keys.py): which storm a channel
is in, the groups it lists, the channel's recent new cards, and the storm's hold on the
channel's outbox (the order of its cards, the cards it keeps back, the card it brings back).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import redis.asyncio as aioredis

from bot.core import keys
from bot.models.card import TriageCard

# Takes a summary-only group's card out of the outbox, but only at the revision the storm card
# shows: a newer one stays, so the next pass sees the change (and holds it again).
_WITHDRAW_IF_REVISION = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('ZREM', KEYS[2], ARGV[2]) end
return 0
"""


CARDS_PER_READ = 200


class StormState:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self._withdraw = redis.register_script(_WITHDRAW_IF_REVISION)

    async def active(self, channel: str) -> str | None:
        """The card id of the storm `channel` is in, if any."""
        result: str | None = await self.redis.get(keys.storm(channel))
        return result

    async def begin(self, channel: str, card_id: str, members: Iterable[str]) -> bool:
        """Mark `channel` as in the storm `card_id` (False: it already is in one)."""
        if not await self.redis.set(keys.storm(channel), card_id, nx=True):
            return False
        await self.join(card_id, members)
        return True

    async def join(self, card_id: str, members: Iterable[str]) -> None:
        ids = list(members)
        if ids:
            await self.redis.sadd(keys.storm_members(card_id), *ids)

    async def members(self, card_id: str) -> list[str]:
        return sorted(await self.redis.smembers(keys.storm_members(card_id)))

    async def end(self, channel: str, card_id: str, keep_ms: int | None) -> None:
        """The channel is out of the storm; its member list lives as long as its card."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(keys.storm(channel))
            if keep_ms is not None and keep_ms > 0:
                pipe.pexpire(keys.storm_members(card_id), keep_ms)
            await pipe.execute()

    async def note_recent(self, channel: str, card_ids: list[str], now_ms: int) -> None:
        """Remember new alert cards seen in the channel's outbox lately."""
        key = keys.storm_recent(channel)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(key, dict.fromkeys(card_ids, now_ms), nx=True)
            pipe.zremrangebyscore(key, "-inf", now_ms - keys.STORM_RECENT_S * 1000)
            pipe.expire(key, 2 * keys.STORM_RECENT_S)
            await pipe.execute()

    async def recent(self, channel: str, now_ms: int) -> list[str]:
        since = now_ms - keys.STORM_RECENT_S * 1000
        return list(await self.redis.zrangebyscore(keys.storm_recent(channel), since, "+inf"))

    async def unordered(self, channel: str, below: int) -> list[str]:
        """Cards of the channel's outbox with a score under `below`: every card but those a
        storm has ordered already (bot/storm/rules.py: MEMBER_SCORE_BASE)."""
        return list(await self.redis.zrangebyscore(keys.outbox(channel), "-inf", f"({below}"))

    async def cards(self, card_ids: list[str]) -> list[TriageCard | None]:
        """Several cards, CARDS_PER_READ to a round trip (None: gone): a storm's thousands of
        cards at ~10 KB each must not come back as one reply of tens of MB."""
        found: list[TriageCard | None] = []
        for start in range(0, len(card_ids), CARDS_PER_READ):
            chunk = card_ids[start : start + CARDS_PER_READ]
            raws = await self.redis.mget([keys.card(i) for i in chunk])
            found += [TriageCard.model_validate_json(raw) if raw else None for raw in raws]
        return found

    async def order(self, channel: str, scores: Mapping[str, int]) -> None:
        """Set the outbox order of cards already in it (XX: never adds one that left)."""
        if scores:
            await self.redis.zadd(keys.outbox(channel), dict(scores), xx=True)

    async def withdraw(self, channel: str, card_id: str, revision: int) -> None:
        await self._withdraw(
            keys=[keys.card_revision(card_id), keys.outbox(channel)], args=[revision, card_id]
        )

    async def bring_back(
        self, channel: str, card_ids: list[str], score: int, *, keep_score: bool = False
    ) -> None:
        """Put cards (back) in the channel's outbox at `score` and wake a poster.
        `keep_score`: a card already waiting keeps its place."""
        if not card_ids:
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(keys.outbox(channel), dict.fromkeys(card_ids, score), nx=keep_score)
            pipe.sadd(keys.OUTBOX_CHANNELS, channel)
            pipe.lpush(keys.OUTBOX_WAKE, channel)
            pipe.ltrim(keys.OUTBOX_WAKE, 0, 15)
            await pipe.execute()

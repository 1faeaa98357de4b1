"""Redis primitives every part of Seawall shares: leases held by one process at a time,
pauses whose TTL is the wait itself, and one-shot claims (SET NX) against retries and double
clicks. The store builds on them (bot/store.py); they know nothing of cards."""

from __future__ import annotations

import secrets

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.exceptions import WatchError

from bot.core.errors import StoreUnavailable

REDIS_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)


def retry_after_watch(exc: WatchError) -> None:
    """Whether a WATCH transaction that failed with `exc` may simply be retried: yes when a
    watched key changed; not when redis-py reports a dead connection as a WatchError (it
    does while watching), because a retry on a server that keeps failing (a primary turned
    replica in a failover) would loop for ever. Then the connection error is raised."""
    cause = exc.__cause__ or exc.__context__  # redis-py raises it while handling the error
    if isinstance(cause, REDIS_ERRORS):
        raise cause


# Releases a lease only if we still hold it (another process may hold it after expiry).
_RELEASE_IF_OWNER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# A token bucket on Redis's own clock (TIME), so every process agrees however their clocks
# drift: ARGV = tokens per ms, capacity. Takes a token and answers 0, or answers the ms to
# wait for one (taking nothing: a refused caller must not eat the next one's allowance).
_TAKE_TOKEN = """
local now_s = redis.call('TIME')
local now = tonumber(now_s[1]) * 1000 + math.floor(tonumber(now_s[2]) / 1000)
local rate, capacity = tonumber(ARGV[1]), tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]) or capacity, tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate))
return wait
"""
_RENEW_IF_OWNER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


class Primitives:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self._release = redis.register_script(_RELEASE_IF_OWNER)
        self._renew = redis.register_script(_RENEW_IF_OWNER)
        self._take_token = redis.register_script(_TAKE_TOKEN)

    async def acquire_lease(self, key: str, ttl_ms: int) -> str | None:
        token = secrets.token_hex(8)
        ok = await self.redis.set(key, token, nx=True, px=ttl_ms)
        return token if ok else None

    async def renew_lease(self, key: str, token: str, ttl_ms: int) -> bool:
        return bool(await self._renew(keys=[key], args=[token, ttl_ms]))

    async def release_lease(self, key: str, token: str) -> None:
        await self._release(keys=[key], args=[token])

    async def pause(self, key: str, ms: int) -> None:
        """Block `key`'s resource for `ms` (extends, never shortens, a running pause)."""
        remaining = await self.pause_remaining_ms(key)
        if ms > remaining:
            await self.redis.set(key, "1", px=max(1, ms))

    async def pause_remaining_ms(self, key: str) -> int:
        ttl = int(await self.redis.pttl(key))
        return max(ttl, 0)

    async def pauses_remaining_ms(self, *pause_keys: str) -> list[int]:
        """pause_remaining_ms of several keys in one round trip."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in pause_keys:
                pipe.pttl(key)
            ttls = await pipe.execute()
        return [max(int(ttl), 0) for ttl in ttls]

    async def take_token(self, key: str, *, per_minute: float, burst: int) -> int:
        """One call's worth of a rate limit shared by every process: 0 when it may go now,
        else the ms until it may (nothing is taken then)."""
        return int(await self._take_token(keys=[key], args=[per_minute / 60_000, burst]))

    async def claim(self, key: str, ttl_s: int) -> bool:
        """True the first time within `ttl_s`; False for repeats (retries, double clicks)."""
        try:
            return bool(await self.redis.set(key, "1", nx=True, ex=ttl_s))
        except REDIS_ERRORS as exc:
            raise StoreUnavailable(f"Redis is unreachable: {exc}") from exc

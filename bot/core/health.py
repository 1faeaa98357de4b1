"""What could make Seawall silently lose or withhold state, for /readyz and `seawall check`:
a Redis that keeps nothing across a restart or evicts keys when full, and workers that stopped
beating (without one no card reaches Slack).

These are warnings, not readiness failures: a web process still takes webhooks safely (they are
stored in Redis and wait in the outbox), and taking it out of rotation would make Alertmanager
and Sentry deliveries fail instead (docs/decisions.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from bot.core import keys
from bot.core.clock import Clock
from bot.core.replication import online_replicas

# A worker beats every WORKER_HEARTBEAT_S; after this long without any beat, say so.
WORKER_SILENT_AFTER_S = 60

NO_PERSISTENCE = (
    "Redis keeps Seawall's state in memory only (appendonly no and no RDB save rules): a Redis "
    "restart loses every card, run and incident. Turn on AOF (appendonly yes, appendfsync "
    "everysec); Seawall keeps working meanwhile."
)
EVICTION = (
    "Redis may evict Seawall's keys when it is full (maxmemory {maxmemory}, maxmemory-policy "
    "{policy}): cards and dedup keys could vanish. Set maxmemory-policy noeviction, so a full "
    "Redis refuses writes (and Seawall answers 503, which senders retry) instead."
)
CONFIG_UNREADABLE = (
    "Seawall could not read Redis's persistence settings (CONFIG GET was refused) and INFO "
    "says AOF is off: make sure snapshots or AOF keep Seawall's state across a restart."
)

UNKNOWN_SETTINGS = (
    "Seawall could not read Redis's persistence or eviction settings (CONFIG and INFO were "
    "refused): make sure Redis keeps Seawall's state across a restart and never evicts it."
)


async def redis_durability_warnings(redis: aioredis.Redis) -> list[str]:
    """Sentences about Redis settings that can lose Seawall's state ([] when none)."""
    try:
        config: dict[str, Any] = await redis.config_get("appendonly")
        config |= await redis.config_get("save")
        config |= await redis.config_get("maxmemory")
        config |= await redis.config_get("maxmemory-policy")
    except ResponseError:  # managed Redis often disables CONFIG; INFO says part of it
        return await _warnings_from_info(redis)
    warnings = []
    if config.get("appendonly") != "yes" and not str(config.get("save") or "").strip():
        warnings.append(NO_PERSISTENCE)
    maxmemory = int(config.get("maxmemory") or 0)
    policy = str(config.get("maxmemory-policy") or "noeviction")
    if maxmemory and policy != "noeviction":
        warnings.append(EVICTION.format(maxmemory=maxmemory, policy=policy))
    return warnings


async def _warnings_from_info(redis: aioredis.Redis) -> list[str]:
    try:
        persistence = await redis.info("persistence")
        memory = await redis.info("memory")
    except ResponseError:
        return [UNKNOWN_SETTINGS]
    warnings = []
    if not int(persistence.get("aof_enabled") or 0):
        warnings.append(CONFIG_UNREADABLE)
    maxmemory = int(memory.get("maxmemory") or 0)
    policy = str(memory.get("maxmemory_policy") or "noeviction")
    if maxmemory and policy != "noeviction":
        warnings.append(EVICTION.format(maxmemory=maxmemory, policy=policy))
    return warnings


NO_REPLICA = (
    "Sentinel is configured but the Redis primary has no replica online: a failover has "
    "nothing to promote, and webhooks are answered 503 for a minute after a replica was last "
    "seen, then acknowledged with one copy. Start the replica or repair its link (INFO "
    "replication on both)."
)


async def replica_warnings(redis: aioredis.Redis) -> list[str]:
    """For a primary that should have a replica (Sentinel is configured): none is online."""
    return [] if online_replicas(await redis.info("replication")) else [NO_REPLICA]


async def worker_beat(redis: aioredis.Redis, clock: Clock, worker_id: str) -> None:
    """One heartbeat of a worker (and the pruning that keeps the set small)."""
    now = clock.now().timestamp()
    async with redis.pipeline(transaction=True) as pipe:
        pipe.zadd(keys.WORKERS, {worker_id: now})
        pipe.zremrangebyscore(keys.WORKERS, "-inf", now - keys.WORKERS_TTL_S)
        pipe.expire(keys.WORKERS, keys.WORKERS_TTL_S)
        await pipe.execute()


async def worker_gone(redis: aioredis.Redis, worker_id: str) -> None:
    """A worker that stops cleanly leaves at once rather than after WORKER_SILENT_AFTER_S."""
    await redis.zrem(keys.WORKERS, worker_id)


@dataclass(frozen=True)
class Workers:
    alive: int  # workers that beat within WORKER_SILENT_AFTER_S
    last_seen_s: float | None  # seconds since any worker's last beat (None: none in a day)

    def warning(self) -> str | None:
        if self.last_seen_s is None:
            return (
                "No Seawall worker has been seen: cards are stored but none reaches Slack. "
                "Start `seawall worker` (the Procfile runs it beside `seawall serve`)."
            )
        if self.alive == 0:
            return (
                f"No Seawall worker seen for {int(self.last_seen_s)} s: cards are stored but "
                "none reaches Slack. Check that `seawall worker` is running and reaches Redis."
            )
        return None


async def workers_seen(redis: aioredis.Redis, clock: Clock) -> Workers:
    now = clock.now().timestamp()
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zrevrange(keys.WORKERS, 0, 0, withscores=True)
        pipe.zcount(keys.WORKERS, now - WORKER_SILENT_AFTER_S, "+inf")
        newest, alive = await pipe.execute()
    last_seen = max(0.0, now - float(newest[0][1])) if newest else None
    return Workers(alive=int(alive), last_seen_s=last_seen)

"""What Redis looks like from Seawall, for `seawall check`: the primary, its replicas, the
Sentinels and how each keeps data on disk, plus what would make a failover lose state.

Read-only: INFO, CONFIG GET (refused by some managed Redis; INFO is used instead) and
SENTINEL MASTER / GET-MASTER-ADDR-BY-NAME. Every server is asked with a short timeout, so an
unreachable replica or Sentinel is reported, never waited for.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError, ResponseError

from bot.core.health import NO_REPLICA
from bot.core.redis_target import RedisTarget

PROBE_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class Node:
    address: str
    role: str  # "primary", "replica"
    state: str  # replica: online / wait_bgsave / ...; primary: "up"
    persistence: str  # "AOF (appendfsync everysec)", "RDB snapshots", "none", "unknown"
    lag_s: int | None = None  # replica: seconds since its last acknowledgement


@dataclass(frozen=True)
class SentinelView:
    address: str
    primary: str | None  # the primary it names ("host:port", with flags when it is down)
    problem: str | None = None  # why it names none
    peers: int = 0  # other Sentinels it knows
    quorum: int = 0


@dataclass
class Topology:
    primary: Node
    replicas: list[Node] = field(default_factory=list)
    sentinels: list[SentinelView] = field(default_factory=list)
    wait_refused: str | None = None  # why the primary refused WAIT (some managed Redis do)

    def lines(self, target: RedisTarget, wait_ms: int) -> list[str]:
        """What `seawall check` prints: one line per server, then what a webhook waits for."""
        master = f" (Sentinel master {target.master!r})" if target.uses_sentinel else ""
        found = [f"Redis primary {self.primary.address}{master}: {self.primary.persistence}"]
        for replica in self.replicas:
            lag = f", last acknowledged {replica.lag_s} s ago" if replica.lag_s is not None else ""
            found.append(
                f"Redis replica {replica.address}: {replica.state}{lag}; {replica.persistence}"
            )
        if not self.replicas:
            found.append("Redis replicas: none")
        for sentinel in self.sentinels:
            found.append(
                f"Sentinel {sentinel.address}: names {sentinel.primary} as primary (knows "
                f"{sentinel.peers} other Sentinels, quorum {sentinel.quorum})"
                if sentinel.primary
                else f"Sentinel {sentinel.address}: {sentinel.problem}"
            )
        online = sum(1 for r in self.replicas if r.state == "online")
        if wait_ms and online:
            found.append(
                f"Webhooks are answered 200 once a replica holds them (WAIT, up to {wait_ms} ms)"
            )
        elif wait_ms:
            found.append("Webhooks wait for no replica: none is online")
        return found

    def warnings(self, target: RedisTarget, wait_ms: int) -> list[str]:
        """What would make a failover lose state, or fail to happen."""
        found = []
        online = [r for r in self.replicas if r.state == "online"]
        if target.uses_sentinel and not online:
            found.append(NO_REPLICA)
        if self.wait_refused and wait_ms:
            found.append(
                f"Redis refuses WAIT ({self.wait_refused}), so every webhook is answered 503: "
                "set SEAWALL_REPLICA_WAIT_MS=0 and rely on your Redis service's own replication."
            )
        if online and wait_ms == 0:
            found.append(
                "SEAWALL_REPLICA_WAIT_MS is 0: webhooks are acknowledged before a replica has "
                "them, so a primary that dies right after can lose alerts Alertmanager will "
                "not send again. Unset it (500 ms by default)."
            )
        answering = [s for s in self.sentinels if s.primary]
        named = {str(s.primary) for s in answering}
        if len(named) > 1:
            found.append(
                f"The Sentinels disagree about the primary ({', '.join(sorted(named))}): "
                "check that they monitor the same master name and can reach each other."
            )
        quorum = max((s.quorum for s in answering), default=0)
        if target.uses_sentinel and len(answering) < max(quorum, 2):
            found.append(
                f"Only {len(answering)} of {len(self.sentinels)} Sentinels answer (quorum "
                f"{quorum}): no failover can be agreed on. Start them, or fix REDIS_SENTINELS."
            )
        return found


async def describe(redis: aioredis.Redis, target: RedisTarget) -> Topology:
    """The topology as the primary and the Sentinels report it (raises on a primary that
    does not answer: the caller reports Redis as unreachable)."""
    replication = await redis.info("replication")
    address = _address_of(redis)
    primary = Node(address, "primary", "up", await _persistence(redis))
    replicas = []
    for name, value in replication.items():
        if name.startswith("slave") and isinstance(value, dict):
            where = f"{value.get('ip')}:{value.get('port')}"
            replicas.append(
                Node(
                    where,
                    "replica",
                    str(value.get("state", "?")),
                    await _persistence_at(str(value.get("ip")), int(value.get("port", 0)), target),
                    int(value["lag"]) if "lag" in value else None,
                )
            )
    sentinels = await asyncio.gather(*(_ask(host, port, target) for host, port in target.sentinels))
    try:
        await redis.execute_command("WAIT", 0, 0)  # answers at once: is the command allowed?
        refused = None
    except ResponseError as exc:
        refused = str(exc)
    return Topology(primary, replicas, list(sentinels), refused)


def _address_of(redis: aioredis.Redis) -> str:
    kwargs = redis.connection_pool.connection_kwargs
    pool = redis.connection_pool
    master = getattr(pool, "master_address", None)  # a Sentinel pool remembers what it found
    if master:
        return f"{master[0]}:{master[1]}"
    return f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}"


async def _persistence(redis: aioredis.Redis) -> str:
    try:
        config: dict[str, Any] = await redis.config_get("appendonly")
        config |= await redis.config_get("appendfsync")
        config |= await redis.config_get("save")
    except ResponseError:  # managed Redis: CONFIG is disabled, INFO says part of it
        info = await redis.info("persistence")
        return "AOF on" if int(info.get("aof_enabled") or 0) else "AOF off (RDB unknown)"
    if config.get("appendonly") == "yes":
        return f"AOF (appendfsync {config.get('appendfsync')})"
    if str(config.get("save") or "").strip():
        return f"RDB snapshots only (save {config['save']}): a restart loses recent writes"
    return "no persistence: a restart loses everything"


async def _persistence_at(host: str, port: int, target: RedisTarget) -> str:
    client = _quick(host, port, target.url_password())
    try:
        return await _persistence(client)
    except (RedisError, OSError) as exc:
        return f"not reachable from here ({type(exc).__name__})"
    finally:
        with contextlib.suppress(RedisError, OSError):
            await client.aclose()


async def _ask(host: str, port: int, target: RedisTarget) -> SentinelView:
    address = f"{host}:{port}"
    client = _quick(host, port, target.sentinel_password)
    try:
        state: dict[str, Any] = await client.sentinel_master(target.master)
    except ResponseError as exc:
        return SentinelView(address, None, f"does not monitor {target.master!r} ({exc})")
    except (RedisError, OSError) as exc:
        return SentinelView(address, None, f"unreachable ({type(exc).__name__})")
    finally:
        with contextlib.suppress(RedisError, OSError):
            await client.aclose()
    flags = str(state.get("flags", ""))
    named = f"{state.get('ip')}:{state.get('port')}"
    if "down" in flags:
        named += f" ({flags})"
    return SentinelView(
        address,
        named,
        None,
        peers=int(state.get("num-other-sentinels", 0)),
        quorum=int(state.get("quorum", 0)),
    )


def _quick(host: str, port: int, password: str | None) -> aioredis.Redis:
    return aioredis.Redis(
        host=host,
        port=port,
        password=password,
        socket_connect_timeout=PROBE_TIMEOUT_S,
        socket_timeout=PROBE_TIMEOUT_S,
        retry=Retry(NoBackoff(), 0),
        decode_responses=True,
    )

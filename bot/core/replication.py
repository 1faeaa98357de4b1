"""Acknowledged means replicated: before Seawall answers 200 for a write (or runs a step that
must not run twice), a Redis replica has it, so a primary that dies next loses nothing that
was acknowledged.

Why one pinned connection: WAIT counts the replicas that acknowledged the writes *of the
connection it is sent on* (it waits for that client's last write offset). redis-py hands each
command and pipeline whichever pooled connection is free, so a WAIT sent after an intake could
travel on a connection that wrote nothing and answer at once. A delivery's Redis work
therefore runs on one connection (`Pinned.client`, pipelines included), and `confirm()` ends
it with a marker write plus WAIT on that same connection. The marker covers writes made on
other connections just before (the job queue's enqueue): the replication stream is one
ordered log, so a replica that has the marker has everything the primary applied before it.
The pinned connection must not move to another server between the writes and the WAIT (a
retry after a failover reconnects through the Sentinels to the new primary, whose replicas
never saw the old primary's writes): a reconnect during the request refuses it.

Which primaries need a replica: the one this process sees with replicas online, and for
GRACE_S after it lost them (a replica link that drops, then a primary that dies, is exactly
the loss WAIT prevents). A primary never seen with a replica (one box; a freshly promoted
primary whose old peer died) acknowledges on its own. docs/decisions.md has the trade-off.
"""

from __future__ import annotations

import contextlib
import time
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection, ConnectionPool
from redis.exceptions import ResponseError

from bot.core import keys
from bot.core.errors import StoreUnavailable
from bot.core.metrics import Metrics

# How long a primary that had replicas still needs one after they all went away. Longer
# refuses more webhooks during a replica's maintenance; shorter widens the window in which a
# primary that lost its replica link and then died loses acknowledged writes.
GRACE_S = 60.0
MAX_PRIMARIES_REMEMBERED = 16
MAX_CLIENTS_KEPT = 256  # more than the connections one process keeps open


class NotReplicated(StoreUnavailable):
    """The write is on the primary, but no replica confirmed it: ask the sender to retry."""


@dataclass(frozen=True)
class Confirmation:
    replicas: int  # replicas that confirmed (0: the primary acknowledged alone)
    required: int


class ReplicaWait:
    """The policy (how many replicas, how long to wait) and what this process has seen of
    each primary's replicas. One per process (Deps.replicas)."""

    def __init__(
        self,
        *,
        timeout_ms: int,
        replicas: int = 1,
        metrics: Metrics | None = None,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.timeout_ms = timeout_ms
        self.replicas = replicas
        self.metrics = metrics
        self._now = now
        # master_replid -> {replica count: when this process last saw that many online}.
        # A promoted replica gets a new replid, so a new primary starts with no history.
        self._seen: dict[str, dict[int, float]] = {}
        # A client per pooled connection, kept while it is among the last ones used: building
        # a redis-py client costs ~80 us, a twentieth of a webhook's CPU.
        self._clients: OrderedDict[AbstractConnection, aioredis.Redis] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.timeout_ms > 0

    @contextlib.asynccontextmanager
    async def pinned(self, redis: aioredis.Redis) -> AsyncIterator[Pinned]:
        """A client whose every command and pipeline uses one connection of `redis`'s pool."""
        pool = redis.connection_pool
        connection = await pool.get_connection()
        pinned = Pinned(self, self._client_on(pool, connection), connection)
        try:
            yield pinned
        finally:
            connection.deregister_connect_callback(pinned.reconnected)
            await pool.release(connection)

    async def confirm(self, redis: aioredis.Redis) -> Confirmation:
        """Confirm every write this process made before now (on any connection of the same
        primary) is on a replica; for callers that did not pin their writes (the worker)."""
        if not self.enabled:
            return Confirmation(replicas=0, required=0)
        async with self.pinned(redis) as pinned:
            return await pinned.confirm()

    def _client_on(self, pool: ConnectionPool, connection: AbstractConnection) -> aioredis.Redis:
        client = self._clients.get(connection)
        if client is None:
            client = aioredis.Redis(connection_pool=_OneConnection(pool, connection))
            self._clients[connection] = client
            if len(self._clients) > MAX_CLIENTS_KEPT:
                self._clients.popitem(last=False)  # a connection the pool may have dropped
        else:
            self._clients.move_to_end(connection)
        return client

    def required(self, replid: str, online: int) -> int:
        """Replicas this write must reach on the primary `replid` with `online` replicas."""
        now = self._now()
        seen = self._seen.setdefault(replid, {})
        for count in range(1, online + 1):
            seen[count] = now
        if len(self._seen) > MAX_PRIMARIES_REMEMBERED:
            del self._seen[next(iter(self._seen))]  # the oldest primary seen
        expected = max((n for n, at in seen.items() if now - at <= GRACE_S), default=0)
        return min(self.replicas, max(online, expected))

    def record(self, outcome: str, seconds: float | None = None) -> None:
        if self.metrics is not None:
            self.metrics.replica_waits.labels(outcome).inc()
            if seconds is not None:
                self.metrics.replica_wait_latency.observe(seconds)


class Pinned:
    """One pooled connection held for a request, as a client (see the module docstring)."""

    def __init__(
        self, policy: ReplicaWait, client: aioredis.Redis, connection: AbstractConnection
    ) -> None:
        self._policy = policy
        self._reconnects = 0
        connection.register_connect_callback(self.reconnected)
        self.client = client

    def reconnected(self, connection: AbstractConnection) -> None:
        # The pool hands out connected connections: any connect from here on is a reconnect.
        self._reconnects += 1

    async def confirm(self) -> Confirmation:
        """A replica has every write made so far (this connection's and, before it, any
        other's on the same primary); raises NotReplicated (the caller answers 503)."""
        try:
            return await self._confirm()
        except ResponseError as exc:  # INFO or WAIT refused (a managed Redis may): say so
            self._policy.record("refused")
            raise NotReplicated(
                f"Redis refused INFO or WAIT ({exc}); if this Redis cannot report or wait "
                "for its replicas, set SEAWALL_REPLICA_WAIT_MS=0"
            ) from exc

    async def _confirm(self) -> Confirmation:
        policy, started = self._policy, time.perf_counter()
        self._check_same_server()
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.set(keys.REPLICATION_MARKER, "1", px=keys.REPLICATION_MARKER_TTL_MS)
            pipe.info("replication")
            _, info = await pipe.execute()
        online = online_replicas(info)
        required = policy.required(str(info.get("master_replid", "")), online)
        if required == 0:
            policy.record("alone", time.perf_counter() - started)
            return Confirmation(replicas=0, required=0)
        if online < required:
            policy.record("no_replica", time.perf_counter() - started)
            raise NotReplicated(
                f"Redis has {online} replica(s) online and Seawall needs {required} to hold "
                "this write (one was online within the last minute)"
            )
        acked = int(await self.client.execute_command("WAIT", required, policy.timeout_ms))
        self._check_same_server()
        if acked < required:
            policy.record("timeout", time.perf_counter() - started)
            raise NotReplicated(
                f"no Redis replica confirmed the write within {policy.timeout_ms} ms "
                f"({acked} of {required})"
            )
        policy.record("replicated", time.perf_counter() - started)
        return Confirmation(replicas=acked, required=required)

    def _check_same_server(self) -> None:
        if self._reconnects:
            self._policy.record("reconnected")
            raise NotReplicated(
                "the connection to Redis was re-established during the request (a failover?), "
                "so Seawall cannot tell that every write of it is on one primary and its replica"
            )


def online_replicas(info: dict[str, Any]) -> int:
    """Replicas in INFO replication's answer whose link is up (state=online)."""
    replicas = (value for name, value in info.items() if name.startswith("slave"))
    return sum(1 for r in replicas if isinstance(r, dict) and r.get("state") == "online")


class _OneConnection(ConnectionPool):  # type: ignore[misc]  # redis-py is untyped here
    """What redis-py's client and pipelines take for a pool, handing out one connection that
    belongs to the real pool (which connects, releases and closes it)."""

    def __init__(self, pool: ConnectionPool, connection: AbstractConnection) -> None:
        # Deliberately not ConnectionPool.__init__: this pool creates no connection.
        self.connection_class = pool.connection_class
        self.connection_kwargs = pool.connection_kwargs
        self.max_connections = 1
        self.encoder_class = pool.encoder_class
        self._event_dispatcher = pool._event_dispatcher
        self._available_connections: list[AbstractConnection] = []
        self._in_use_connections: weakref.WeakSet[AbstractConnection] = weakref.WeakSet()
        self._connection = connection

    async def get_connection(self, *args: Any, **kwargs: Any) -> AbstractConnection:
        return self._connection

    async def release(self, connection: AbstractConnection) -> None:
        return None

    async def disconnect(self, inuse_connections: bool = True) -> None:
        return None

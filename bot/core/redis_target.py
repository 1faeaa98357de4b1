"""Where Seawall's Redis is: REDIS_URL, or the primary that a set of Sentinels names
(DESIGN.md, the environment contract).

Every client Seawall opens (the store's, the job queue's, `seawall check`'s, the postmortem's)
comes from here, so a Sentinel setup replaces REDIS_URL everywhere at once. With Sentinel,
redis-py asks the Sentinels for the primary each time it opens a connection, drops idle
connections to a primary that is no longer one, and turns a READONLY answer from a demoted
primary into a connection error: a caller sees one failed command (a webhook answers 503),
and the next connection goes to the new primary. Nothing here keeps the primary's address.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.asyncio.connection import Connection, SSLConnection, parse_url
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError

from bot.core.config import Settings

# A webhook must answer 503 quickly when Redis is down, so connects and replies are bounded.
CONNECT_TIMEOUT_S = 1.0
REPLY_TIMEOUT_S = 3.0
HEALTH_CHECK_S = 15
# Sentinels are asked one after the other until one names the primary: a dead one must cost
# one short connect attempt, not redis-py's default retries with backoff (seconds each).
SENTINEL_TIMEOUT_S = 0.5


@dataclass(frozen=True)
class RedisTarget:
    """REDIS_URL, or Sentinels and a master name (then REDIS_URL gives only the password,
    user and database number, if it has them)."""

    url: str
    sentinels: tuple[tuple[str, int], ...] = ()
    master: str | None = None
    sentinel_password: str | None = None

    @classmethod
    def of(cls, settings: Settings) -> RedisTarget:
        return cls(
            url=settings.redis_url,
            sentinels=settings.sentinel_addresses(),
            master=settings.redis_sentinel_master,
            sentinel_password=settings.redis_sentinel_password,
        )

    @property
    def uses_sentinel(self) -> bool:
        return bool(self.sentinels and self.master)

    def describe(self) -> str:
        """For messages: where Redis is, without any password."""
        if self.uses_sentinel:
            where = ", ".join(f"{host}:{port}" for host, port in self.sentinels)
            return f"Sentinel master {self.master!r} via {where}"
        return shown_url(self.url)

    def url_password(self) -> str | None:
        """The data nodes' password (REDIS_URL's), for asking a replica directly."""
        password = parse_url(self.url).get("password")
        return str(password) if password else None

    def client(self, *, decode_responses: bool = True, for_jobs: bool = False) -> aioredis.Redis:
        """A new client (its own connection pool); the caller closes it.

        `for_jobs`: the job queue's client. saq decodes replies itself and blocks on BLMOVE
        for as long as the queue is empty, so it gets no reply timeout."""
        options: dict[str, Any] = {
            "decode_responses": decode_responses,
            "socket_connect_timeout": CONNECT_TIMEOUT_S,
        }
        if not for_jobs:
            options |= {"socket_timeout": REPLY_TIMEOUT_S, "health_check_interval": HEALTH_CHECK_S}
        if not self.uses_sentinel:
            scheme = urlsplit(self.url).scheme
            if scheme in ("redis", "rediss"):
                options["connection_class"] = PrimaryOnlySSL if scheme == "rediss" else PrimaryOnly
            return aioredis.Redis.from_url(self.url, **options)
        assert self.master is not None
        sentinel = Sentinel(
            self.sentinels,
            sentinel_kwargs={
                "password": self.sentinel_password,
                "socket_connect_timeout": SENTINEL_TIMEOUT_S,
                "socket_timeout": SENTINEL_TIMEOUT_S,
                "retry": Retry(NoBackoff(), 0),
            },
            **_credentials(self.url),
            **options,
        )
        client: aioredis.Redis = sentinel.master_for(self.master)
        return client


class PrimaryOnly(Connection):  # type: ignore[misc]  # redis-py is untyped here
    """A connection to REDIS_URL, whose host may become a replica in a failover (a managed
    Redis moves its endpoint's name to the new primary). A READONLY answer means exactly that:
    drop the connection, so the next command resolves the name again, and raise a connection
    error (a webhook answers 503 and the sender retries) rather than an unexpected one.
    Sentinel's own connections do the same (redis.asyncio.sentinel)."""

    async def read_response(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().read_response(*args, **kwargs)
        except ReadOnlyError:
            await self.disconnect()
            raise RedisConnectionError(
                "this Redis server is a replica now (a failover?); reconnecting"
            ) from None


class PrimaryOnlySSL(PrimaryOnly, SSLConnection):  # type: ignore[misc]
    pass


def _credentials(url: str) -> dict[str, Any]:
    """What REDIS_URL still says when Sentinel names the host: user, password, database, TLS."""
    options = parse_url(url)
    found: dict[str, Any] = {
        key: options[key] for key in ("username", "password", "db") if options.get(key)
    }
    if urlsplit(url).scheme == "rediss":
        found["ssl"] = True
    return found


def shown_url(url: str) -> str:
    """The Redis URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))

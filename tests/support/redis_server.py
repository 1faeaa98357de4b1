"""A real redis-server child process on a free port, owned (and stopped) by PID."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any, cast

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from bot.core import keys
from tests.support.ports import HOST
from tests.support.processes import ChildProcess

START_TIMEOUT = 10.0


class RedisStartError(RuntimeError):
    """redis-server did not come up; the message carries the end of its log."""


class _PortTaken(RedisStartError):
    pass


class RedisServer(ChildProcess):
    """redis-server as a child process: no persistence, bound to 127.0.0.1 only.

    start() returns once the server answers PING (timeout 10 s).
    """

    name = "redis-server"
    start_error = RedisStartError
    port_taken_error = _PortTaken
    port_taken_marker = "Address already in use"
    start_timeout = START_TIMEOUT
    poll_interval = 0.02
    ready_when = "answering PING on port {port}"
    not_ready = "did not answer PING on port {port}"

    def __init__(
        self,
        workdir: Path,
        port: int | None = None,
        executable: str = "redis-server",
        extra_args: tuple[str, ...] = (),
        password: str | None = None,
    ) -> None:
        super().__init__(workdir, port, executable, "redis-server.log")
        self.extra_args = extra_args  # e.g. ("--replicaof", host, port) for a replica
        self.password = password  # requirepass (and masterauth, for when it is a replica)

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}{HOST}:{self.port}/0"

    def client(self, **kwargs: Any) -> redis.Redis:
        """A new sync client for this server; the caller closes it."""
        return redis.Redis.from_url(self.url, **kwargs)

    def flushall(self) -> None:
        with self.client() as client:
            client.flushall()

    def _command(self, executable: str) -> list[str]:
        return [
            executable,
            "--port", str(self.port),
            "--bind", HOST,
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.workdir),
            "--daemonize", "no",
            "--logfile", "",
            *(("--requirepass", self.password, "--masterauth", self.password)
              if self.password else ()),
            *self.extra_args,
        ]  # fmt: skip

    def _is_ready(self, proc: subprocess.Popen[bytes]) -> bool:
        """True once *our* process answers (not some other server that holds the port)."""
        # No retries: redis-py's default backoff would turn each refused connect into ~0.5 s.
        client = redis.Redis(
            host=HOST,
            port=self.port,
            password=self.password,
            socket_connect_timeout=0.2,
            socket_timeout=1,
            retry=Retry(NoBackoff(), 0),
        )
        try:
            info = cast("dict[str, Any]", client.info("server"))  # sync client: a dict
            return bool(client.ping()) and info["process_id"] == proc.pid
        except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError):
            return False
        finally:
            client.close()


def let_time_pass(client: redis.Redis, seconds: float) -> None:
    """Make Redis look `seconds` later: every key with a TTL loses that much of it, and keys
    whose TTL was shorter are gone. Redis has no clock to move, and TTLs are what it ages."""
    for key in client.scan_iter(count=1000):
        ttl_ms = cast("int", client.pttl(key))
        if ttl_ms <= 0:
            continue  # no TTL (-1) or already gone (-2)
        if ttl_ms <= seconds * 1000:
            client.delete(key)
        else:
            client.pexpire(key, ttl_ms - int(seconds * 1000))


# Bookkeeping, not state: running workers rewrite their heartbeat every few seconds, and every
# acknowledged request rewrites the replication marker (bot/core/replication.py).
BOOKKEEPING = frozenset({keys.WORKERS, keys.REPLICATION_MARKER})


def state_keys(client: redis.Redis) -> list[Any]:
    """Every seawall:* key that holds state a request could have changed: all of them but
    BOOKKEEPING."""
    return sorted(
        key
        for key in client.scan_iter(match="seawall:*", count=1000)
        if (key.decode() if isinstance(key, bytes) else key) not in BOOKKEEPING
    )

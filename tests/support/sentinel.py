"""Redis with a replica and three Sentinels, as real child processes, for failover drills.

The Sentinels run the failover exactly as in production (`redis-server --sentinel`), tuned to
be quick: the primary is judged down after DOWN_AFTER_MS without an answer, and a failover is
over in about two seconds on this machine. Everything listens on 127.0.0.1 and is stopped by
PID; `kill_primary()` is a SIGKILL, the way a crashed or OOM-killed Redis goes.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any, cast

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.support.ports import HOST
from tests.support.processes import ChildProcess
from tests.support.redis_server import RedisServer
from tests.support.waiting import wait_until

MASTER = "seawall"
DOWN_AFTER_MS = 1000
# Also how long a Sentinel waits before retrying a failed failover (twice this): small, so a
# drill on a busy machine is not stuck for minutes after one slow election.
FAILOVER_TIMEOUT_MS = 4000


class SentinelStartError(RuntimeError):
    """redis-server --sentinel did not come up; the message carries the end of its log."""


class _PortTaken(SentinelStartError):
    pass


def quick_client(port: int, password: str | None = None) -> redis.Redis:
    """A sync client to 127.0.0.1:`port` that gives up at once (no retries, short timeouts)."""
    return redis.Redis(
        host=HOST,
        port=port,
        password=password,
        socket_connect_timeout=0.3,
        socket_timeout=2,
        retry=Retry(NoBackoff(), 0),
        decode_responses=True,
    )


class SentinelServer(ChildProcess):
    """One Sentinel monitoring MASTER, started as `redis-server <conf> --sentinel`."""

    name = "redis-sentinel"
    start_error = SentinelStartError
    port_taken_error = _PortTaken
    port_taken_marker = "Address already in use"
    start_timeout = 10.0
    poll_interval = 0.02
    ready_when = "answering PING on port {port}"
    not_ready = "did not answer PING on port {port}"

    def __init__(
        self,
        workdir: Path,
        primary_port: int,
        executable: str = "redis-server",
        *,
        data_password: str | None = None,
        password: str | None = None,
    ) -> None:
        super().__init__(workdir, None, executable, "sentinel.log")
        self.primary_port = primary_port
        self.config_path = self.workdir / "sentinel.conf"
        self.data_password = data_password  # the data nodes' requirepass
        self.password = password  # this Sentinel's own (and its peers')

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}"

    def _prepare(self) -> None:
        # A Sentinel rewrites its own file (peers, epochs): written afresh for each start.
        self.config_path.write_text(
            "\n".join(
                [
                    f"port {self.port}",
                    f"bind {HOST}",
                    f"dir {self.workdir}",
                    f"sentinel monitor {MASTER} {HOST} {self.primary_port} 2",
                    f"sentinel down-after-milliseconds {MASTER} {DOWN_AFTER_MS}",
                    f"sentinel failover-timeout {MASTER} {FAILOVER_TIMEOUT_MS}",
                    f"sentinel parallel-syncs {MASTER} 1",
                    *([f"sentinel auth-pass {MASTER} {self.data_password}"]
                      if self.data_password else []),
                    *([f"requirepass {self.password}", f"sentinel sentinel-pass {self.password}"]
                      if self.password else []),
                ]
            )
            + "\n"
        )  # fmt: skip

    def _command(self, executable: str) -> list[str]:
        return [executable, str(self.config_path), "--sentinel"]

    def _is_ready(self, proc: subprocess.Popen[bytes]) -> bool:
        client = quick_client(self.port, self.password)
        try:
            info = cast("dict[str, Any]", client.info("server"))
            return bool(client.ping()) and info["process_id"] == proc.pid
        except (redis.ConnectionError, redis.TimeoutError):
            return False
        finally:
            client.close()

    def master(self) -> dict[str, Any]:
        """SENTINEL MASTER: this Sentinel's view of the primary (flags, peers, replicas)."""
        with quick_client(self.port, self.password) as client:
            return cast("dict[str, Any]", client.sentinel_master(MASTER))

    def primary_port_now(self) -> int:
        with quick_client(self.port, self.password) as client:
            _, port = cast("tuple[str, int]", client.sentinel_get_master_addr_by_name(MASTER))
            return int(port)


class RedisWithSentinels:
    """A primary, one replica and three Sentinels. After a failover the replica is the primary
    (`current()`), and the old primary stays dead: the drill is about losing one."""

    def __init__(
        self,
        workdir: Path,
        *,
        data_password: str | None = None,
        sentinel_password: str | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        self.data_password = data_password
        self.sentinel_password = sentinel_password
        # A full sync normally waits 5 s for more replicas to share it (diskless sync delay).
        quick_sync = ("--repl-diskless-sync-delay", "0")
        self.servers = [
            RedisServer(
                self.workdir / f"redis-{name}", extra_args=quick_sync, password=data_password
            )
            for name in "ab"
        ]
        self.sentinels: list[SentinelServer] = []

    def start(self) -> None:
        first, second = self.servers
        first.start()
        second.extra_args = (*second.extra_args, "--replicaof", HOST, str(first.port))
        second.start()
        wait_until(lambda: self.online_replicas(first) == 1, timeout=10, what="the replica in sync")
        self.sentinels = [
            SentinelServer(
                self.workdir / f"sentinel-{n}",
                first.port,
                data_password=self.data_password,
                password=self.sentinel_password,
            )
            for n in range(3)
        ]
        for sentinel in self.sentinels:
            sentinel.start()
        # Sentinels find each other through hello messages, sent every 2 s (a few rounds on a
        # machine busy with the rest of the suite).
        wait_until(self._sentinels_agree, timeout=30, interval=0.1, what="Sentinels to meet")

    def _sentinels_agree(self) -> bool:
        """Every Sentinel knows the other two and the replica: a failover can be voted. A
        Sentinel slow to answer (a busy machine) has not agreed yet; it is asked again."""
        try:
            views = [sentinel.master() for sentinel in self.sentinels]
        except redis.RedisError:
            return False
        return all(int(v["num-other-sentinels"]) == 2 and int(v["num-slaves"]) == 1 for v in views)

    def env(self) -> dict[str, str]:
        """The settings that point Seawall at this topology."""
        env = {
            "REDIS_SENTINELS": ",".join(f"{HOST}:{s.port}" for s in self.sentinels),
            "REDIS_SENTINEL_MASTER": MASTER,
        }
        if self.data_password:  # REDIS_URL's host is not used, its password is
            env["REDIS_URL"] = f"redis://:{self.data_password}@unused.invalid/0"
        if self.sentinel_password:
            env["REDIS_SENTINEL_PASSWORD"] = self.sentinel_password
        return env

    def current(self) -> RedisServer:
        """The server the Sentinels name as primary now."""
        port = self.sentinels[0].primary_port_now()
        return next(s for s in self.servers if s.port == port)

    def other(self, server: RedisServer) -> RedisServer:
        return next(s for s in self.servers if s is not server)

    @staticmethod
    def online_replicas(server: RedisServer) -> int:
        try:
            with quick_client(server.port, server.password) as client:
                info = cast("dict[str, Any]", client.info("replication"))
        except (redis.ConnectionError, redis.TimeoutError):
            return -1
        return sum(
            1
            for name, value in info.items()
            if name.startswith("slave") and isinstance(value, dict) and value["state"] == "online"
        )

    def cut_replication(self) -> None:
        """From now on nothing the primary applies reaches its replica, deterministically:
        the replication link is closed and the primary refuses the replica's PSYNC and SYNC
        (an ACL on the default user; Seawall's clients never send those). This is a replica
        that lags by seconds, made exact: whatever the primary acknowledges alone from here
        is lost when it dies."""
        primary = self.current()
        with quick_client(primary.port, primary.password) as client:
            client.execute_command("ACL", "SETUSER", "default", "-psync", "-sync")
            client.execute_command("CLIENT", "KILL", "TYPE", "replica")
        wait_until(
            lambda: self.online_replicas(self.current()) == 0, timeout=5, what="the link to drop"
        )

    def kill_primary(self) -> tuple[RedisServer, float]:
        """SIGKILL the primary; (it, when: time.monotonic())."""
        primary = self.current()
        primary.kill()
        return primary, time.monotonic()

    def wait_for_failover(self, old: RedisServer, timeout: float = 30) -> RedisServer:
        """The replica, once every Sentinel names it and it answers as a primary."""
        new = self.other(old)

        def promoted() -> bool:
            try:
                if any(s.primary_port_now() != new.port for s in self.sentinels):
                    return False
                with quick_client(new.port, new.password) as client:
                    return cast("dict[str, Any]", client.info("replication"))["role"] == "master"
            except (redis.ConnectionError, redis.TimeoutError):
                return False

        wait_until(promoted, timeout=timeout, interval=0.05, what="the Sentinels' failover")
        return new

    def stop(self) -> None:
        for process in [*self.sentinels, *self.servers]:
            process.stop()

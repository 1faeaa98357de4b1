"""A real Postgres cluster as a child process on a free port, owned (and stopped) by PID.

Postgres refuses to run as root, and CI runs the suite as root on a fresh Debian machine. So
when the tests run as root, `initdb` and `postgres` run as the unprivileged OS user
`seawall-pg`, which this module creates once with `useradd --system` (idempotent: an
existing user is reused) and switches to with `setpriv`. setpriv execs rather than forks, so
the PID the tests own is the postmaster's own. As any other user, Postgres runs as that user.

The data directory lives in the system temp directory (pytest's own temp directories are
0700 and owned by root, which the Postgres user could not enter) and is removed by `close()`.
Settings make a replication slot reach its cap in seconds: `max_slot_wal_keep_size=64MB`,
`wal_keep_size=0`, and checkpoints only when a test asks (so it can see `unreserved` before a
`CHECKPOINT` turns it `lost`).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from tests.support.ports import HOST
from tests.support.processes import ChildProcess

OS_USER = "seawall-pg"
SUPERUSER = "postgres"
START_TIMEOUT = 20.0
SETTINGS: Mapping[str, str] = {
    "listen_addresses": HOST,
    "unix_socket_directories": "",  # TCP only: no socket file to own or clean up
    "wal_level": "logical",
    "max_replication_slots": "20",
    "max_wal_senders": "10",
    "max_slot_wal_keep_size": "64MB",
    "wal_keep_size": "0",
    "max_wal_size": "1GB",  # no automatic checkpoint while a test fills WAL...
    "checkpoint_timeout": "1h",  # ...nor a timed one: tests CHECKPOINT themselves
    "min_wal_size": "32MB",
    "max_prepared_transactions": "5",
    "fsync": "off",  # a throwaway cluster: speed over durability
    "synchronous_commit": "off",
    "log_min_messages": "warning",
}


class PostgresStartError(RuntimeError):
    """Postgres did not come up; the message carries the end of its log."""


class _PortTaken(PostgresStartError):
    pass


def bindir() -> Path:
    """Where the server binaries are: $PG_BINDIR, else the newest /usr/lib/postgresql/*/bin
    (Debian keeps them off PATH), else the directory of `postgres` on PATH."""
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1].parent
    on_path = shutil.which("postgres")
    if on_path:
        return Path(on_path).parent
    raise PostgresStartError("no Postgres server found; run ./scripts/install-system-deps.sh")


def os_user() -> pwd.struct_passwd | None:
    """The user Postgres runs as when we are root (created if missing); None otherwise."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(OS_USER)
    except KeyError:
        pass
    result = subprocess.run(  # exit 9: created meanwhile by someone else, which is fine
        ["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
         "--shell", "/usr/sbin/nologin", OS_USER],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode not in (0, 9):
        raise PostgresStartError(f"useradd {OS_USER} failed: {result.stderr.strip()}")
    return pwd.getpwnam(OS_USER)


class PostgresServer(ChildProcess):
    """One Postgres cluster (initdb on first start) listening on 127.0.0.1 only."""

    name = "postgres"
    start_error = PostgresStartError
    port_taken_error = _PortTaken
    port_taken_marker = "Address already in use"
    start_timeout = START_TIMEOUT
    poll_interval = 0.05
    ready_when = "accepting connections on port {port}"
    not_ready = "did not accept connections on port {port}"
    stop_signal = signal.SIGINT  # fast shutdown: does not wait for clients to leave

    def __init__(self, workdir: Path, settings: Mapping[str, str] | None = None) -> None:
        self.bin = bindir()
        super().__init__(workdir, None, str(self.bin / "postgres"), "postgres.log")
        self.settings = {**SETTINGS, **(settings or {})}
        self.user = os_user()
        self.home = Path(tempfile.mkdtemp(prefix="seawall-pg-"))
        self.data = self.home / "data"
        if self.user is not None:
            os.chown(self.home, self.user.pw_uid, self.user.pw_gid)

    @property
    def url(self) -> str:
        return self.dsn()

    def dsn(self, dbname: str = "postgres", user: str = SUPERUSER, password: str = "") -> str:
        secret = f" password={password}" if password else ""
        return f"host={HOST} port={self.port} dbname={dbname} user={user}{secret}"

    @contextmanager
    def connect(self, dbname: str = "postgres", user: str = SUPERUSER) -> Iterator[Any]:
        """A sync autocommit connection (a test's own session), closed on exit."""
        with psycopg.connect(self.dsn(dbname, user), autocommit=True) as conn:
            yield conn

    def execute(self, sql: str, params: tuple[Any, ...] = (), dbname: str = "postgres") -> Any:
        """Run one statement as the superuser; the rows it returns (or None)."""
        with self.connect(dbname) as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else None

    def close(self) -> None:
        """Stop the server and remove its data directory."""
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)

    def _as_user(self) -> list[str]:
        if self.user is None:
            return []
        return [
            "setpriv",
            f"--reuid={self.user.pw_uid}",
            f"--regid={self.user.pw_gid}",
            "--clear-groups",
            "--",
        ]

    def _prepare(self) -> None:
        if self.data.exists():
            return
        with self.log_path.open("ab") as log:
            subprocess.run(
                [*self._as_user(), str(self.bin / "initdb"), "-D", str(self.data),
                 "-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--no-sync"],
                stdout=log, stderr=subprocess.STDOUT, check=True,
            )  # fmt: skip

    def _command(self, executable: str) -> list[str]:
        options = [item for k, v in self.settings.items() for item in ("-c", f"{k}={v}")]
        return [*self._as_user(), executable, "-D", str(self.data), "-p", str(self.port), *options]

    def _is_ready(self, proc: subprocess.Popen[bytes]) -> bool:
        """True once *our* cluster answers (not another server that holds the port)."""
        try:
            with psycopg.connect(self.dsn(), connect_timeout=1) as conn:
                row = conn.execute("SELECT current_setting('data_directory')").fetchone()
        except psycopg.OperationalError:
            return False
        return row is not None and Path(row[0]) == self.data


# --- a lab for replication slots: roles, one database per test, WAL on demand --------------

MONITOR = "seawall_monitor"  # what slot-lag looks with: pg_monitor and nothing else
ADMIN = "seawall_admin"  # what it acts with: REPLICATION and pg_signal_backend only
APP = "app"  # an application's sessions (the idle-in-transaction one)
CDC = "cdc"  # a logical replication consumer (pg_recvlogical)
MB = 1024 * 1024

ROLES = (
    f"CREATE ROLE {MONITOR} LOGIN IN ROLE pg_monitor",
    f"CREATE ROLE {ADMIN} LOGIN REPLICATION IN ROLE pg_signal_backend",
    f"CREATE ROLE {APP} LOGIN",
    f"CREATE ROLE {CDC} LOGIN REPLICATION",
)


def create_roles(server: PostgresServer) -> None:
    """The grants docs/playbooks.md asks for, and nothing more (so the tests prove them)."""
    for statement in ROLES:
        server.execute(statement)


class SlotLab:
    """One test's database on the session's cluster, its slots, sessions and consumers;
    `close()` stops and drops them all, so the next test starts from a quiet cluster."""

    def __init__(self, server: PostgresServer, name: str) -> None:
        self.server = server
        self.db = name
        self.slots: list[str] = []
        self.sessions: list[Any] = []
        self.consumers: list[subprocess.Popen[bytes]] = []
        server.execute(f'CREATE DATABASE "{name}" OWNER {APP}')
        server.execute("CREATE TABLE t (id int)", dbname=name)
        server.execute(f"GRANT ALL ON t TO {APP}", dbname=name)

    def sql(self, statement: str, params: tuple[Any, ...] = ()) -> Any:
        return self.server.execute(statement, params, dbname=self.db)

    def slot(self, name: str) -> None:
        """A logical slot with test_decoding, inactive (no consumer yet)."""
        self.sql("SELECT pg_create_logical_replication_slot(%s, 'test_decoding')", (name,))
        self.slots.append(name)

    def row(self, name: str) -> tuple[Any, ...] | None:
        """(wal_status, retained bytes, active, active_pid) of the slot, None when gone."""
        rows = self.sql(
            "SELECT wal_status, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint, "
            "active, active_pid FROM pg_replication_slots WHERE slot_name = %s",
            (name,),
        )
        return tuple(rows[0]) if rows else None

    def wal(self, megabytes: int) -> None:
        """Write about `megabytes` of WAL (logical messages: no table grows), flushed, so
        pg_current_wal_lsn() counts all of it at once."""
        if megabytes <= 0:
            return
        with self.server.connect(self.db) as conn:
            conn.execute("SET synchronous_commit = on")  # the commit flushes the WAL
            conn.execute(
                "SELECT count(pg_logical_emit_message(true, 'seawall-test', repeat('x', %s))) "
                "FROM generate_series(1, %s)",
                (MB, megabytes),
            )

    def fill_to(self, name: str, percent: float, cap: int = 64 * MB) -> None:
        """Write WAL until the slot retains about `percent` of the cap (no checkpoint)."""
        row = self.row(name)
        assert row is not None, f"no slot {name}"
        assert row[1] is not None, f"slot {name} has no WAL to fill"
        self.wal(-(-(int(cap * percent / 100) - row[1]) // MB))

    def checkpoint(self) -> None:
        self.sql("CHECKPOINT")

    def consume(self, name: str) -> None:
        """What a consumer that keeps up does: confirm everything written so far."""
        self.sql("SELECT pg_replication_slot_advance(%s, pg_current_wal_lsn())", (name,))

    def idle_in_transaction(self) -> int:
        """A session that wrote a row and then went idle, its transaction open; its PID."""
        conn = psycopg.connect(self.server.dsn(self.db, APP), autocommit=True)
        self.sessions.append(conn)
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        conn.execute("BEGIN")
        conn.execute("INSERT INTO t VALUES (1)")
        return int(row[0])

    def alive(self, pid: int) -> bool:
        return bool(self.sql("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)))

    def consumer(self, name: str) -> subprocess.Popen[bytes]:
        """pg_recvlogical streaming from the slot as the replication role (it exits when its
        connection is terminated: --no-loop)."""
        proc = subprocess.Popen(
            [str(self.server.bin / "pg_recvlogical"), "--start", "--no-loop",
             "-d", self.server.dsn(self.db, CDC), "--slot", name, "-f", "/dev/null",
             "-s", "1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.consumers.append(proc)
        return proc

    def close(self) -> None:
        for proc in self.consumers:
            if proc.poll() is None:
                proc.terminate()
            proc.wait(5)
        for conn in self.sessions:
            conn.close()
        for name in self.slots:
            rows = self.sql(
                "SELECT active_pid FROM pg_replication_slots WHERE slot_name = %s", (name,)
            )
            if rows and rows[0][0]:
                self.sql("SELECT pg_terminate_backend(%s, 5000)", (rows[0][0],))
            if rows:
                self.sql("SELECT pg_drop_replication_slot(%s)", (name,))
        self.server.execute(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')

"""Postgres replication slots: look with a read-only role (`pg_monitor`), act with an admin
role (`REPLICATION` to drop slots, `pg_signal_backend` to terminate sessions).

Async psycopg 3, one short connection per call (autocommit, so looking holds no snapshot and
no xmin of its own), a statement timeout, and a read-only session for looking. The SQL is
static; the only values from outside, a slot name and a PID, are bound parameters.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from bot.core.errors import ExternalServiceError
from bot.models.slots import Backend, Holder, SlotRow, Snapshot

CONNECT_TIMEOUT_S = 5
STATEMENT_TIMEOUT = "10s"
GONE_WAIT_S = 5.0  # how long a terminated backend may take to exit
DROP_ATTEMPTS = 3  # a consumer may reconnect between its termination and the drop

SERVER = """
SELECT pg_is_in_recovery(),
       pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
                            ELSE pg_current_wal_lsn() END, '0/0')::bigint,
       pg_size_bytes(current_setting('max_slot_wal_keep_size')),
       current_setting('server_version'),
       clock_timestamp()
"""
# retained and lag as protocols.md defines them; positions as bytes since 0/0 for samples.
SLOTS = """
WITH position AS (
  SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
              ELSE pg_current_wal_lsn() END AS lsn
)
SELECT s.slot_name, s.slot_type, s.plugin, s.database, s.temporary, s.active, s.active_pid,
       s.wal_status, s.safe_wal_size,
       pg_wal_lsn_diff(s.restart_lsn, '0/0')::bigint,
       pg_wal_lsn_diff(s.confirmed_flush_lsn, '0/0')::bigint,
       pg_wal_lsn_diff(p.lsn, s.restart_lsn)::bigint,
       pg_wal_lsn_diff(p.lsn, s.confirmed_flush_lsn)::bigint,
       r.application_name,
       pg_wal_lsn_diff(p.lsn, '0/0')::bigint
FROM pg_replication_slots s CROSS JOIN position p
LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid
WHERE %(name)s::text IS NULL OR s.slot_name = %(name)s::text
ORDER BY s.slot_name
LIMIT 200
"""
# Sessions that hold the xmin horizon, wrote something (a transaction id: logical decoding
# keeps WAL from its start), or sit idle in a transaction; oldest transaction first.
HOLDERS = """
SELECT a.pid, a.usename, a.application_name, a.datname, a.state, a.backend_type,
       a.xact_start, a.query_start, a.state_change,
       greatest(age(a.backend_xid), age(a.backend_xmin)),
       a.backend_xid IS NOT NULL,
       left(a.query, 500)
FROM pg_stat_activity a
WHERE a.pid <> pg_backend_pid()
  AND (a.backend_xid IS NOT NULL OR a.backend_xmin IS NOT NULL
       OR a.state IN ('idle in transaction', 'idle in transaction (aborted)'))
ORDER BY a.xact_start NULLS LAST, a.pid
LIMIT 10
"""
PREPARED = """
SELECT gid, prepared, owner, database, age(transaction)
FROM pg_prepared_xacts ORDER BY prepared LIMIT 3
"""
WAL_DIR = "SELECT coalesce(sum(size), 0)::bigint FROM pg_ls_waldir()"
BACKEND = """
SELECT pid, backend_type, usename, application_name, backend_start, state
FROM pg_stat_activity WHERE pid = %s
"""
TERMINATE = "SELECT pg_terminate_backend(%s)"
DROP = "SELECT pg_drop_replication_slot(%s)"


@dataclass(frozen=True)
class Dropped:
    dropped: bool  # False: the slot was already gone
    terminated: tuple[int, ...] = ()  # walsenders terminated first


class SlotSource(Protocol):
    """What looking needs (a read-only role is enough)."""

    async def snapshot(self, database: str) -> Snapshot: ...

    async def slot(self, name: str) -> SlotRow | None: ...

    async def backend(self, pid: int) -> Backend | None: ...


class SlotAdmin(SlotSource, Protocol):
    """What acting needs besides: terminating sessions and dropping slots."""

    async def terminate(self, pid: int) -> bool: ...

    async def drop_slot(self, name: str) -> Dropped: ...


class PsycopgSlots:
    """Both roles through psycopg; `read_only` sessions refuse any write (defence in depth:
    the monitoring role should not be able to write anyway)."""

    def __init__(self, dsn: str, *, label: str, read_only: bool) -> None:
        self.dsn = dsn
        self.label = label
        self.read_only = read_only

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        try:
            options = conninfo_to_dict(self.dsn)
        except psycopg.Error:
            # Never echo the DSN: it may hold a password.
            raise ExternalServiceError(f"the DSN of {self.label} cannot be read") from None
        # Named in pg_stat_activity, unless the DSN names the session itself.
        name = {} if "application_name" in options else {"application_name": "seawall"}
        try:
            conn = await psycopg.AsyncConnection.connect(
                make_conninfo(self.dsn, **name),
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT_S,
            )
        except psycopg.Error as exc:
            raise ExternalServiceError(
                f"Postgres {self.label} did not answer: {_first_line(exc)}"
            ) from exc
        try:
            await conn.execute(f"SET statement_timeout = '{STATEMENT_TIMEOUT}'")
            if self.read_only:
                await conn.execute("SET default_transaction_read_only = on")
            yield conn
        except pg_errors.InsufficientPrivilege as exc:
            raise ExternalServiceError(
                f"the role Seawall uses on {self.label} may not do this "
                f"({_first_line(exc)}); nothing was changed. Grant it what docs/playbooks.md "
                "(slot-lag) lists, or do it by hand"
            ) from exc
        except psycopg.Error as exc:
            raise ExternalServiceError(f"Postgres {self.label}: {_first_line(exc)}") from exc
        finally:
            await conn.close()

    async def snapshot(self, database: str) -> Snapshot:
        async with self._session() as conn:
            server = await (await conn.execute(SERVER)).fetchone()
            assert server is not None
            rows = await (await conn.execute(SLOTS, {"name": None})).fetchall()
            holders = [_holder(r) for r in await (await conn.execute(HOLDERS)).fetchall()]
            holders += [_prepared(r) for r in await (await conn.execute(PREPARED)).fetchall()]
            wal_dir = await _wal_dir(conn)
        in_recovery, wal_lsn, cap, version, taken_at = server
        if rows:
            wal_lsn = rows[0][14]  # the position the slots' numbers were measured against
        holders.sort(key=lambda h: (h.xact_start is None, h.xact_start or taken_at))
        return Snapshot(
            database=database,
            taken_at=taken_at,
            wal_lsn=wal_lsn,
            cap_bytes=cap if cap >= 0 else None,
            wal_dir_bytes=wal_dir,
            in_recovery=in_recovery,
            server_version=version,
            slots=[_slot(r) for r in rows],
            holders=holders[:10],
        )

    async def slot(self, name: str) -> SlotRow | None:
        async with self._session() as conn:
            row = await (await conn.execute(SLOTS, {"name": name})).fetchone()
        return _slot(row) if row is not None else None

    async def backend(self, pid: int) -> Backend | None:
        async with self._session() as conn:
            return await _backend(conn, pid)

    async def terminate(self, pid: int) -> bool:
        """Terminate `pid` and wait (up to GONE_WAIT_S) until it has exited; False when it
        was not there to terminate."""
        async with self._session() as conn:
            row = await (await conn.execute(TERMINATE, (pid,))).fetchone()
            if not row or not row[0]:
                return False
            await _wait_gone(conn, pid)
        return True

    async def drop_slot(self, name: str) -> Dropped:
        """Drop the slot, terminating the walsender that holds it first. A consumer that
        reconnects in between is terminated again, up to DROP_ATTEMPTS times."""
        terminated: list[int] = []
        async with self._session() as conn:
            for _ in range(DROP_ATTEMPTS):
                row = await (await conn.execute(SLOTS, {"name": name})).fetchone()
                if row is None:
                    return Dropped(dropped=False, terminated=tuple(terminated))
                slot = _slot(row)
                if slot.active and slot.active_pid is not None:
                    await conn.execute(TERMINATE, (slot.active_pid,))
                    terminated.append(slot.active_pid)
                    await _wait_gone(conn, slot.active_pid)
                try:
                    await conn.execute(DROP, (name,))
                except pg_errors.UndefinedObject:
                    return Dropped(dropped=False, terminated=tuple(terminated))
                except pg_errors.ObjectInUse:
                    continue  # its consumer came back already: terminate it again
                return Dropped(dropped=True, terminated=tuple(terminated))
        raise ExternalServiceError(
            f"slot {name} on {self.label} stayed in use: its consumer reconnects as fast as it "
            "is terminated. Stop the consumer first, then drop the slot again"
        )


async def _wait_gone(conn: psycopg.AsyncConnection[Any], pid: int) -> None:
    waited = 0.0
    while waited < GONE_WAIT_S and await _backend(conn, pid) is not None:
        await asyncio.sleep(0.05)
        waited += 0.05


async def _backend(conn: psycopg.AsyncConnection[Any], pid: int) -> Backend | None:
    row = await (await conn.execute(BACKEND, (pid,))).fetchone()
    if row is None:
        return None
    return Backend(
        pid=row[0],
        backend_type=row[1],
        user=row[2],
        application=row[3],
        backend_start=row[4],
        state=row[5],
    )


async def _wal_dir(conn: psycopg.AsyncConnection[Any]) -> int | None:
    try:
        row = await (await conn.execute(WAL_DIR)).fetchone()
    except pg_errors.InsufficientPrivilege:
        return None  # a role without pg_monitor: the card just leaves pg_wal's size out
    return int(row[0]) if row else None


def _slot(row: Any) -> SlotRow:
    return SlotRow(
        name=row[0],
        slot_type=row[1],
        plugin=row[2],
        database=row[3],
        temporary=bool(row[4]),
        active=bool(row[5]),
        active_pid=row[6],
        wal_status=row[7],
        safe_wal_size=row[8],
        restart_lsn=row[9],
        confirmed_flush_lsn=row[10],
        retained=row[11],
        lag=row[12],
        consumer=row[13],
    )


def _holder(row: Any) -> Holder:
    return Holder(
        pid=row[0],
        user=row[1],
        application=row[2] or None,
        database=row[3],
        state=row[4],
        backend_type=row[5],
        xact_start=row[6],
        query_start=row[7],
        state_change=row[8],
        xid_age=row[9],
        has_xid=bool(row[10]),
        query=row[11] or "",
    )


def _prepared(row: Any) -> Holder:
    return Holder(
        gid=row[0],
        xact_start=row[1],
        user=row[2],
        database=row[3],
        xid_age=row[4],
        state="prepared",
        has_xid=True,
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__

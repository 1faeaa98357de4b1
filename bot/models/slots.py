"""Replication slots as Seawall sees them: what Postgres reports (a snapshot), what is kept
between looks to measure rates (a sample), and the two card subjects built from them: the
report of one look (`/playbook slot-lag`) and the watch card of one slot (the scheduled
check). Pure models; the decisions are in bot/slots/rules.py and bot/slots/diagnosis.py.

Byte positions (LSNs) are plain integers: bytes since 0/0, as `pg_wal_lsn_diff(lsn, '0/0')`.
Text that comes from the database (slot names, application names, query text) is untrusted:
the cards escape and truncate it.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from bot.core.times import UtcDatetime


class Level(StrEnum):
    """How urgent a slot is; a watch card's severity is one of the two above OK."""

    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return (Level.OK, Level.WARNING, Level.CRITICAL).index(self)

    @property
    def icon(self) -> str:
        return {Level.OK: "🟢", Level.WARNING: "🟠", Level.CRITICAL: "🔴"}[self]


class Case(StrEnum):
    """What is going on with a slot, as the runbook tells the cases apart."""

    HEALTHY = "healthy"  # the consumer keeps up
    STALLED = "stalled"  # no consumer connected: WAL piles up behind it
    SLOW = "slow"  # a consumer is connected but falls behind
    HELD = "held"  # the consumer keeps up, an open transaction holds restart_lsn back
    UNRESERVED = "unreserved"  # past the cap: the next checkpoint removes WAL it needs
    LOST = "lost"  # invalidated: the consumer must re-snapshot


class SlotRow(BaseModel):
    """One row of pg_replication_slots, with its walsender's application name."""

    name: str
    slot_type: str  # logical | physical
    plugin: str | None = None
    database: str | None = None
    temporary: bool = False
    active: bool = False
    active_pid: int | None = None
    wal_status: str | None = None  # reserved | extended | unreserved | lost
    safe_wal_size: int | None = None  # bytes until lost; None when lost or no cap
    restart_lsn: int | None = None
    confirmed_flush_lsn: int | None = None
    retained: int | None = None  # pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)
    lag: int | None = None  # pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)
    consumer: str | None = None  # application_name of the walsender (untrusted)


class Holder(BaseModel):
    """An open transaction (a session in pg_stat_activity, or a prepared transaction) that
    may hold WAL or the xmin horizon back."""

    pid: int | None = None  # None for a prepared transaction
    user: str | None = None
    application: str | None = None
    database: str | None = None
    state: str | None = None  # e.g. "idle in transaction", "active", "prepared"
    backend_type: str | None = None
    xact_start: UtcDatetime | None = None
    query_start: UtcDatetime | None = None
    state_change: UtcDatetime | None = None
    xid_age: int | None = None  # age(backend_xid or backend_xmin), in transactions
    has_xid: bool = False  # it wrote something: logical decoding must keep WAL from its start
    query: str = ""  # its last statement (untrusted, cut short)
    gid: str | None = None  # a prepared transaction's name


class Backend(BaseModel):
    """A server process as pg_stat_activity shows it: to check a PID again before acting."""

    pid: int
    backend_type: str | None = None
    user: str | None = None
    application: str | None = None
    backend_start: UtcDatetime | None = None
    state: str | None = None


class Snapshot(BaseModel):
    """One look at a database server: its WAL position and cap, its slots, its oldest
    transactions. `taken_at` is the server's clock, so rates do not depend on which worker
    took two samples."""

    database: str  # the name in SEAWALL_CONFIG, not the server's own
    taken_at: UtcDatetime
    wal_lsn: int
    cap_bytes: int | None  # max_slot_wal_keep_size; None when -1 (unlimited)
    wal_dir_bytes: int | None = None  # everything in pg_wal (None: not allowed to list it)
    in_recovery: bool = False
    server_version: str = ""
    slots: list[SlotRow] = Field(default_factory=list)
    holders: list[Holder] = Field(default_factory=list)


class SlotMark(BaseModel):
    """What a sample keeps of one slot."""

    restart_lsn: int | None = None
    confirmed_flush_lsn: int | None = None
    active: bool = False
    inactive_since: UtcDatetime | None = None  # first seen inactive (carried forward)


class Sample(BaseModel):
    """A snapshot reduced to what the next look needs to compute rates (kept in Redis)."""

    at: UtcDatetime
    wal_lsn: int
    slots: dict[str, SlotMark] = Field(default_factory=dict)


class SlotView(BaseModel):
    """One slot with what the rules made of it: its numbers, its case, and the sentences."""

    row: SlotRow
    percent: float | None = None  # retained / max_slot_wal_keep_size
    growth: float | None = None  # bytes per second the retained WAL grows (net)
    growth_assumed: bool = False  # no earlier sample of this slot: the server's WAL rate
    seconds_to_cap: float | None = None  # at `growth`; 0 when already past
    inactive_since: UtcDatetime | None = None
    level: Level = Level.OK
    case: Case = Case.HEALTHY
    holder: Holder | None = None  # the transaction blamed (case HELD)
    diagnosis: str = ""
    recommendation: str = ""


class SlotReport(BaseModel):
    """The result of one look at a database (subject of the look's card, `slots-{run}`)."""

    kind: Literal["slot_report"] = "slot_report"
    database: str
    taken_at: UtcDatetime
    server_version: str = ""
    in_recovery: bool = False
    cap_bytes: int | None = None
    wal_dir_bytes: int | None = None
    wal_rate: float | None = None  # bytes per second, over `rate_window_s`
    rate_window_s: float | None = None
    slots: list[SlotView] = Field(default_factory=list)  # worst first
    holders: list[Holder] = Field(default_factory=list)  # oldest first
    level: Level = Level.OK
    diagnosis: str = ""
    recommendation: str = ""
    warnings: list[str] = Field(default_factory=list)
    production: bool = False
    run_id: str | None = None
    requested_by: str | None = None
    stage: Literal["look", "after"] = "look"
    action: str | None = None  # what the run did, e.g. "drop orders_cdc" (stage "after")


class SlotWatch(BaseModel):
    """The watch card of one slot (or of a database the watch cannot check): raised when it
    crosses a threshold, updated while it stays there, resolved when it recovers.

    `severity` is what paging reads (warning or critical); nothing here pages anyone."""

    kind: Literal["slot_watch"] = "slot_watch"
    database: str
    slot: str | None = None  # None: about the database (unreachable, or no cap)
    status: Literal["firing", "resolved"] = "firing"
    severity: Level = Level.WARNING
    report: SlotReport | None = None  # the latest look, narrowed to this slot
    problem: str | None = None  # why the database cannot be watched (slot None)
    fired_at: UtcDatetime
    resolved_at: UtcDatetime | None = None
    checked_at: UtcDatetime
    peak_percent: float | None = None
    times_fired: int = 1

    @property
    def closed(self) -> bool:
        return self.status == "resolved"

    @property
    def title(self) -> str:
        if self.slot is None:
            return f"Slot watch on {self.database}"
        return f"Slot {self.slot} on {self.database}"


def slot_report_card_id(run_id: str) -> str:
    return f"slots-{run_id}"


def slot_watch_card_id(database: str, slot: str | None) -> str:
    """One card per (database, slot): names may hold '-' and '.', so they are hashed rather
    than joined (orders-a + b and orders + a-b must not share a card)."""
    digest = hashlib.sha256(f"{database}\n{slot or ''}".encode()).hexdigest()[:16]
    return f"slotwatch-{digest}"

"""slot-lag's own rules before it acts, pure: is the slot or session the command names the
one Postgres reports, and is it still the one the look saw when the confirmed step runs?

The look notes what it saw as the step's facts (kept with the run); the acting step reads
Postgres again and compares, so a PID reused by another session, or a slot dropped and
re-created meanwhile (e.g. by its consumer's own re-snapshot), is never the one acted on.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.errors import SeawallError
from bot.models.slots import Backend, SlotReport, SlotRow

# Sessions Seawall may terminate: clients (an idle-in-transaction session) and walsenders
# (a stuck consumer's connection). Never Postgres's own processes.
TERMINABLE = ("client backend", "walsender")


def when(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else ""


def slot_facts(name: str, row: SlotRow | None, database: str) -> dict[str, str]:
    """What the look saw of the slot to drop; refuses a slot that is not there."""
    if row is None:
        raise SeawallError(
            f"There is no replication slot `{name}` on {database}; nothing was changed. "
            f"`/playbook slot-lag {database}` lists the slots there"
        )
    return {
        "slot_type": row.slot_type,
        "plugin": row.plugin or "",
        "wal_status": row.wal_status or "",
    }


def backend_facts(pid: int, backend: Backend | None, database: str) -> dict[str, str]:
    """What the look saw of the session to terminate; refuses one that is not a client
    session or a walsender."""
    if backend is None:
        raise SeawallError(
            f"pid {pid} is not a session on {database} (it may have ended); nothing was "
            f"changed. `/playbook slot-lag {database}` lists the oldest open transactions"
        )
    if backend.backend_type not in TERMINABLE:
        raise SeawallError(
            f"pid {pid} is Postgres's own {backend.backend_type or 'process'}; Seawall only "
            "terminates client sessions and walsenders. Nothing was changed"
        )
    return {
        "backend_start": when(backend.backend_start),
        "backend_type": backend.backend_type or "",
        "user": backend.user or "",
    }


def terminate_refusal(pid: int, seen: dict[str, str], now: Backend) -> str | None:
    """Why `pid` must not be terminated now, or None. A PID is reused by the next session
    that starts: the backend's start time tells them apart."""
    if not seen:
        return f"the look did not record pid {pid}; nothing was terminated. Run the playbook again"
    if when(now.backend_start) != seen.get("backend_start"):
        return (
            f"pid {pid} is now another session (started {when(now.backend_start) or '?'}) than "
            "the one the look saw, which has ended; nothing was terminated. Look again"
        )
    return None


def drop_refusal(name: str, seen: dict[str, str], now: SlotRow) -> str | None:
    """Why slot `name` must not be dropped now, or None: it is not the slot the look saw."""
    if not seen:
        return f"the look did not record slot {name}; nothing was dropped. Run the playbook again"
    if now.slot_type != seen.get("slot_type") or (now.plugin or "") != seen.get("plugin"):
        return (
            f"slot {name} is now a {now.slot_type} slot with plugin {now.plugin or 'none'}, not "
            "the one the look saw: it was re-created meanwhile; nothing was dropped. Look again"
        )
    if seen.get("wal_status") == "lost" and now.wal_status != "lost":
        return (
            f"slot {name} was lost when the look saw it and is {now.wal_status} now: it was "
            "re-created meanwhile (a lost slot never recovers); nothing was dropped. Look again"
        )
    return None


def after_words(drop: str | None, terminate: int | None, report: SlotReport) -> str:
    """What the verifying look found, in a line for the run card."""
    if drop is not None:
        still = next((v for v in report.slots if v.row.name == drop), None)
        if still is not None:
            return f"Slot {drop} exists again (re-created by its consumer?): {still.diagnosis}"
        return (
            f"Slot {drop} is gone: the WAL it held is freed at the next checkpoint. Next: "
            "re-create it and have its consumer take a new snapshot (checklist in the thread "
            "of the report card)"
        )
    return f"After terminating pid {terminate}: {report.diagnosis}"

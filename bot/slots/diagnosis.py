"""What is going on with a slot, in one sentence, and what to do about it, with the numbers.

The cases follow the runbook (bot/slots/runbook.py): a slot that is lost or past the cap; a
long transaction holding restart_lsn back while the consumer keeps up (lag small, retained
large); a stalled consumer (no one connected); a slow one (connected, falling behind); or a
slot that keeps up. Pure: the sentences are built from the numbers, never from the clock.

The sentences are Seawall's own mrkdwn: they name slots (Postgres allows only a-z, 0-9 and _
in them, escaped all the same), PIDs, states and numbers, and commands in code spans; never
application names or query text, which only the report's holder list shows, escaped.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.cards.common import escape
from bot.core.sizes import human_bytes, human_rate
from bot.core.times import duration_text
from bot.models.slots import Case, Holder, Level, Sample, SlotView, Snapshot

SEGMENT = 16 * 1024 * 1024  # one WAL segment: less than this is not worth a word
DECIDE_SOON_S = 30 * 60  # closer than this to the cap, dropping is part of the advice


def approx(seconds: float) -> str:
    """A duration ahead, as an estimate: ~12 min, ~3 h 05 min."""
    start = datetime(2000, 1, 1)
    return "~" + duration_text(start, start + timedelta(seconds=max(seconds, 0)))


def command(database: str, action: str = "") -> str:
    return f"`/playbook slot-lag {' '.join(w for w in (database, action) if w)}`"


def held_part(view: SlotView, cap: int | None, what: str = "") -> str:
    """What a slot retains: 52 MB (81% of the 64 MB cap), or 1.2 GB (no cap); `what`
    follows the size: 52 MB of WAL (81% of ...)."""
    retained = human_bytes(view.row.retained or 0) + what
    if cap is None:
        return f"{retained} (no cap)"
    if view.percent is None:
        return retained
    return f"{retained} ({view.percent:.0f}% of the {human_bytes(cap)} cap)"


def cap_part(view: SlotView) -> str:
    """When the slot hits the cap at its growth rate."""
    if view.seconds_to_cap == 0:
        return "it is past the cap"
    if view.seconds_to_cap is not None and view.growth:
        return f"it will hit the cap in {approx(view.seconds_to_cap)} at {human_rate(view.growth)}"
    if view.growth is not None and view.growth <= 0:
        return "it is not growing now"
    return "its growth is not measured yet"


def inactive_for(view: SlotView, now: datetime) -> str:
    since = view.inactive_since
    if since is None or since >= now:
        return ""
    return f" for {duration_text(since, now)}"


def holder_words(holder: Holder, now: datetime) -> str:
    if holder.pid is None:
        prepared = holder.xact_start
        age = f", prepared {duration_text(prepared, now)} ago" if prepared else ""
        return f"prepared transaction `{escape(holder.gid or '?')}`{age}"
    state = holder.state or "unknown state"
    if holder.xact_start is not None:
        state += f", transaction open for {duration_text(holder.xact_start, now)}"
    return f"pid {holder.pid} ({state})"


def oldest_writer(holders: list[Holder]) -> Holder | None:
    """The oldest transaction that wrote something: logical decoding keeps WAL from its start."""
    writers = [h for h in holders if h.has_xid and h.xact_start is not None]
    return min(writers, key=lambda h: h.xact_start or datetime.max) if writers else None


def lag_growth(view: SlotView, snap: Snapshot, baseline: Sample | None) -> float | None:
    mark = baseline.slots.get(view.row.name) if baseline else None
    if baseline is None or mark is None or mark.confirmed_flush_lsn is None or view.row.lag is None:
        return None
    window = (snap.taken_at - baseline.at).total_seconds()
    if window <= 0:
        return None
    return (view.row.lag - (baseline.wal_lsn - mark.confirmed_flush_lsn)) / window


def case_of(view: SlotView, snap: Snapshot, baseline: Sample | None) -> tuple[Case, Holder | None]:
    row = view.row
    if row.wal_status == "lost":
        return Case.LOST, None
    if row.wal_status == "unreserved":
        return Case.UNRESERVED, None
    retained, lag = row.retained or 0, row.lag
    if lag is not None and retained >= SEGMENT and lag < SEGMENT:
        writer = oldest_writer(snap.holders)
        if writer is not None:
            return Case.HELD, writer
    if not row.active:
        return (
            (Case.STALLED, None) if retained >= SEGMENT or view.level.rank else (Case.HEALTHY, None)
        )
    behind = lag if lag is not None else retained
    growing = lag_growth(view, snap, baseline) if lag is not None else view.growth
    if behind >= SEGMENT and (growing is None or growing > 0):
        return Case.SLOW, None
    return Case.HEALTHY, None


def describe_slot(
    view: SlotView, snap: Snapshot, baseline: Sample | None, sample: Sample
) -> SlotView:
    """The view with its case, the transaction blamed, and its two sentences."""
    del sample  # the view already carries what the sample knew (inactive_since)
    case, holder = case_of(view, snap, baseline)
    name, db, now = escape(view.row.name), snap.database, snap.taken_at
    held = held_part(view, snap.cap_bytes)
    drop = command(db, f"drop={view.row.name}")
    if case is Case.LOST:
        diagnosis = (
            f"{name} is lost: the WAL it needed was removed when it went past "
            "max_slot_wal_keep_size, so no consumer can resume from it"
        )
        advice = (
            f"Re-snapshot: drop the slot ({drop}), re-create it with the same name and plugin, "
            "then have its consumer take a new initial snapshot (Debezium: restart the "
            "connector with a snapshot). Changes made since it was lost reach the consumer "
            "only through that snapshot."
        )
    elif case is Case.UNRESERVED:
        diagnosis = (
            f"{name} is past the cap (wal_status unreserved, it retains "
            f"{human_bytes(view.row.retained or 0)}): the next checkpoint removes WAL it needs "
            "and it will be lost"
        )
        advice = (
            "Only a consumer that catches up right now can save it. Otherwise plan the "
            f"re-snapshot: drop the slot ({drop}), re-create it, re-snapshot its consumer."
        )
    elif case is Case.HELD:
        assert holder is not None
        diagnosis = (
            f"{name}'s consumer keeps up (lag {human_bytes(view.row.lag or 0)}), but "
            f"{holder_words(holder, now)} holds back {held_part(view, snap.cap_bytes, ' of WAL')}"
        )
        if holder.pid is None:
            advice = (
                f"Commit or roll back prepared transaction `{escape(holder.gid or '?')}` (COMMIT "
                "PREPARED or ROLLBACK PREPARED, by hand: Seawall does not). Dropping the slot "
                "would not help: its consumer is fine."
            )
        else:
            advice = (
                f"Terminate pid {holder.pid} (its transaction rolls back, its client loses the "
                f"connection): {command(db, f'terminate={holder.pid}')}, or ask its owner to "
                "end it. Dropping the slot would not help: its consumer is fine."
            )
    elif case is Case.STALLED:
        diagnosis = (
            f"{name} is inactive{inactive_for(view, now)} and retains {held}: {cap_part(view)}"
        )
        advice = stalled_advice(view, snap, drop)
    elif case is Case.SLOW:
        behind = view.row.lag if view.row.lag is not None else view.row.retained
        diagnosis = (
            f"{name}'s consumer (pid {view.row.active_pid}) is connected but "
            f"{human_bytes(behind or 0)} behind and retains {held}: {cap_part(view)}"
        )
        kick = command(db, f"terminate={view.row.active_pid}")
        advice = (
            "Check the consumer: its errors, its throughput, the system it writes to. "
            f"Terminating its walsender makes it reconnect: {kick}. Drop the slot ({drop}) "
            "only if it cannot catch up before the cap."
        )
    else:
        state = "keeps up" if view.row.active else "is inactive but holds little"
        diagnosis = f"{name} {state}: it retains {held}"
        advice = "Nothing to do for this slot."
    return view.model_copy(
        update={"case": case, "holder": holder, "diagnosis": diagnosis, "recommendation": advice}
    )


def stalled_advice(view: SlotView, snap: Snapshot, drop: str) -> str:
    if snap.cap_bytes is None:
        return (
            "Restart its consumer now: nothing caps this slot, so it keeps WAL until the disk "
            "is full. If the consumer cannot come back soon, drop the slot and re-snapshot: "
            f"{drop}."
        )
    left = view.seconds_to_cap
    if left is not None and left < DECIDE_SOON_S:
        return (
            f"Restart its consumer now. If it cannot be back within {approx(left)}, drop the "
            f"slot and re-snapshot: {drop}."
        )
    if left is None and view.growth is None:
        return (
            "Restart its consumer. How fast it nears the cap is not measured yet: the next "
            f"check, or {command(snap.database)}, tells. Drop the slot ({drop}) only "
            "if the consumer is gone for good: it must then re-snapshot."
        )
    time_left = f"{approx(left)} until the cap" if left is not None else "it is not growing now"
    return (
        f"Restart its consumer; there is time ({time_left}). Drop the slot ({drop}) only if the "
        "consumer is gone for good: it must then re-snapshot."
    )


def summarize(views: list[SlotView], snap: Snapshot) -> tuple[str, str, list[str]]:
    """(diagnosis, recommendation, warnings) of a whole look; `views` worst first."""
    db = snap.database
    warnings = []
    if snap.cap_bytes is None:
        warnings.append(
            "max_slot_wal_keep_size is -1 (unlimited): a stalled slot keeps WAL until the disk "
            "is full and the primary stops taking writes. Set a cap below pg_wal's free space."
        )
    if snap.in_recovery:
        warnings.append("This server is a standby: positions are its replay position.")
    if not views:
        return f"There are no replication slots on {db}.", "Nothing to do.", warnings
    worst = views[0]
    if worst.case is Case.HEALTHY and worst.level is Level.OK:
        count = f"All {len(views)} slots" if len(views) > 1 else "The slot"
        fullest = max(views, key=lambda v: v.row.retained or 0)
        diagnosis = (
            f"{count} on {db} keep{'s' if len(views) == 1 else ''} up; the fullest, "
            f"{escape(fullest.row.name)}, retains {held_part(fullest, snap.cap_bytes)}."
        )
        return diagnosis, "Nothing to do now.", warnings
    others = sum(1 for v in views[1:] if v.case is not Case.HEALTHY or v.level is not Level.OK)
    more = ""
    if others > 1:
        more = f"; {others} more slots below need attention"
    elif others:
        more = "; 1 more slot below needs attention"
    return f"{worst.diagnosis}{more}.", worst.recommendation, warnings

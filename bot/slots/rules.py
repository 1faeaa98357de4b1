"""The numbers behind a slot: rates from two samples, percent of the cap, time until the cap,
the level a watch card shows, and how a look becomes a report. Pure: no I/O, no clock.

Rates need two samples. Seawall keeps recent samples of each database in Redis (the watch
writes one every interval, every look writes one too) and measures "over the last minute"
against the newest sample at least a minute old, else the oldest at least MIN_WINDOW_S old.
With none (no watch running, first look), the look takes a second snapshot MIN_WINDOW_S
later: a rate over less than that is mostly noise (one checkpoint, one batch job).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.cards.common import escape
from bot.models.slots import (
    Case,
    Level,
    Sample,
    SlotMark,
    SlotReport,
    SlotRow,
    SlotView,
    SlotWatch,
    Snapshot,
)
from bot.slots.diagnosis import describe_slot, summarize
from bot.slots.runbook import runbook

MIN_WINDOW_S = 5.0  # the shortest window a rate is measured over
RATE_WINDOW_S = 60.0  # "over the last minute"
MAX_SAMPLE_AGE_S = 600.0  # an older sample says nothing about the last minute
KEEP_SAMPLES_S = 180.0  # how far back Redis keeps samples (the rate looks one minute back)
MAX_SAMPLES = 30  # and at most this many, whatever the interval
HYSTERESIS_PERCENT = 5.0  # a level ends only this far below its threshold: no flapping
REPORT_SLOTS_MAX = 50  # slots kept on a report (the card shows the worst of them)


@dataclass(frozen=True)
class Thresholds:
    """The watch's thresholds, in percent of max_slot_wal_keep_size."""

    warn_percent: float = 50.0
    critical_percent: float = 80.0


def age_s(sample: Sample, now: datetime) -> float:
    return (now - sample.at).total_seconds()


def pick_baseline(samples: list[Sample], now: datetime) -> Sample | None:
    """The sample to measure rates against: the newest one at least a minute old, else the
    oldest at least MIN_WINDOW_S old; never one older than MAX_SAMPLE_AGE_S."""
    usable = [s for s in samples if MIN_WINDOW_S <= age_s(s, now) <= MAX_SAMPLE_AGE_S]
    minute_old = [s for s in usable if age_s(s, now) >= RATE_WINDOW_S]
    if minute_old:
        return min(minute_old, key=lambda s: age_s(s, now))
    if usable:
        return max(usable, key=lambda s: age_s(s, now))
    return None


def seconds_to_wait(samples: list[Sample], now: datetime) -> float:
    """How long a look waits before its second snapshot: 0 when a baseline exists, else until
    the youngest recent sample (the look's own first one) is MIN_WINDOW_S old."""
    if pick_baseline(samples, now) is not None:
        return 0.0
    recent = [age_s(s, now) for s in samples if 0 <= age_s(s, now) < MIN_WINDOW_S]
    return MIN_WINDOW_S - max(recent) if recent else MIN_WINDOW_S


def wal_rate(baseline: Sample | None, snap: Snapshot) -> tuple[float | None, float | None]:
    """(bytes per second, window in seconds) of WAL written since `baseline`; (None, None)
    when there is no usable baseline or the server went backwards (restored, failed over)."""
    if baseline is None:
        return None, None
    window = (snap.taken_at - baseline.at).total_seconds()
    written = snap.wal_lsn - baseline.wal_lsn
    if window <= 0 or written < 0:
        return None, None
    return written / window, window


def next_sample(snap: Snapshot, previous: Sample | None) -> Sample:
    """The snapshot as a sample, carrying when each slot was first seen inactive."""
    marks = {}
    for row in snap.slots:
        before = previous.slots.get(row.name) if previous else None
        since = None
        if not row.active:
            carried = before.inactive_since if before and not before.active else None
            since = carried or snap.taken_at
        marks[row.name] = SlotMark(
            restart_lsn=row.restart_lsn,
            confirmed_flush_lsn=row.confirmed_flush_lsn,
            active=row.active,
            inactive_since=since,
        )
    return Sample(at=snap.taken_at, wal_lsn=snap.wal_lsn, slots=marks)


def keep(samples: list[Sample], now: datetime) -> list[Sample]:
    """The samples worth keeping, newest first."""
    fresh = [s for s in samples if -MIN_WINDOW_S <= age_s(s, now) <= KEEP_SAMPLES_S]
    return sorted(fresh, key=lambda s: s.at, reverse=True)[:MAX_SAMPLES]


def percent_of_cap(retained: int | None, cap: int | None) -> float | None:
    if retained is None or cap is None or cap <= 0:
        return None
    return 100.0 * retained / cap


def slot_growth(
    row: SlotRow, snap: Snapshot, baseline: Sample | None, rate: float | None
) -> tuple[float | None, bool]:
    """(bytes per second the slot's retained WAL grows, assumed?). Without an earlier sample
    of this slot, the server's WAL rate: what it grows at if the slot does not move."""
    mark = baseline.slots.get(row.name) if baseline else None
    if row.retained is None or baseline is None:
        return None, False
    if mark is None or mark.restart_lsn is None:
        return rate, rate is not None
    window = (snap.taken_at - baseline.at).total_seconds()
    if window <= 0:
        return None, False
    before = baseline.wal_lsn - mark.restart_lsn
    return (row.retained - before) / window, False


def seconds_to_cap(safe_wal_size: int | None, growth: float | None) -> float | None:
    """Seconds until a slot is past the cap at `growth` bytes per second: 0 when it already
    is, None when it does not grow or nothing caps it."""
    if safe_wal_size is None:
        return None
    if safe_wal_size <= 0:
        return 0.0
    if growth is None or growth <= 0:
        return None
    return safe_wal_size / growth


def level_of(
    row: SlotRow, percent: float | None, thresholds: Thresholds, previous: Level = Level.OK
) -> Level:
    """Critical past `critical_percent` or once the slot is unreserved or lost; warning past
    `warn_percent`. A level reached before holds until the slot is HYSTERESIS_PERCENT below
    its threshold, so a slot hovering at a threshold does not flap."""
    if row.wal_status in ("unreserved", "lost"):
        return Level.CRITICAL
    if percent is None:
        return Level.OK
    critical, warn = thresholds.critical_percent, thresholds.warn_percent
    if percent >= critical or (
        previous is Level.CRITICAL and percent >= critical - HYSTERESIS_PERCENT
    ):
        return Level.CRITICAL
    if percent >= warn or (previous.rank >= 1 and percent >= warn - HYSTERESIS_PERCENT):
        return Level.WARNING
    return Level.OK


def view_slot(
    row: SlotRow,
    snap: Snapshot,
    baseline: Sample | None,
    rate: float | None,
    sample: Sample,
    thresholds: Thresholds,
) -> SlotView:
    """One slot's numbers, level, case and sentences."""
    percent = percent_of_cap(row.retained, snap.cap_bytes)
    growth, assumed = slot_growth(row, snap, baseline, rate)
    mark = sample.slots.get(row.name)
    view = SlotView(
        row=row,
        percent=percent,
        growth=growth,
        growth_assumed=assumed,
        seconds_to_cap=seconds_to_cap(row.safe_wal_size, growth),
        inactive_since=mark.inactive_since if mark else None,
        level=level_of(row, percent, thresholds),
    )
    return describe_slot(view, snap, baseline, sample)


def build_report(
    snap: Snapshot,
    samples: list[Sample],
    *,
    thresholds: Thresholds,
    production: bool = False,
) -> tuple[SlotReport, Sample]:
    """A look's report, and the sample to keep for the next one. `samples` are the earlier
    ones (newest first), without this snapshot's."""
    baseline = pick_baseline(samples, snap.taken_at)
    rate, window = wal_rate(baseline, snap)
    previous = max(samples, key=lambda s: s.at) if samples else None
    sample = next_sample(snap, previous)
    views = [view_slot(row, snap, baseline, rate, sample, thresholds) for row in snap.slots]
    views.sort(key=_worst_first)
    diagnosis, recommendation, warnings = summarize(views, snap)
    report = SlotReport(
        database=snap.database,
        taken_at=snap.taken_at,
        server_version=snap.server_version,
        in_recovery=snap.in_recovery,
        cap_bytes=snap.cap_bytes,
        wal_dir_bytes=snap.wal_dir_bytes,
        wal_rate=rate,
        rate_window_s=window,
        slots=views[:REPORT_SLOTS_MAX],
        holders=snap.holders,
        level=max((v.level for v in views), key=lambda lv: lv.rank, default=Level.OK),
        diagnosis=diagnosis,
        recommendation=recommendation,
        warnings=warnings,
        production=production,
    )
    return report, sample


CASE_ORDER = (Case.LOST, Case.UNRESERVED, Case.HELD, Case.STALLED, Case.SLOW, Case.HEALTHY)


def _worst_first(view: SlotView) -> tuple[int, int, float, str]:
    return (
        -view.level.rank,
        CASE_ORDER.index(view.case),
        -(view.percent or 0.0),
        view.row.name,
    )


# --- the watch card of one slot ---------------------------------------------------------


@dataclass(frozen=True)
class WatchChange:
    """A watch card's new state, the thread replies it gets, and the state flip (if any)
    for the timeline of an incident the card is linked to."""

    watch: SlotWatch
    replies: list[str]
    flip: str | None = None


def narrow(report: SlotReport, view: SlotView) -> SlotReport:
    """The look, as one slot's card shows it: that slot, and the oldest transactions."""
    return report.model_copy(
        update={
            "slots": [view],
            "holders": report.holders[:3],
            "level": view.level,
            "diagnosis": f"{view.diagnosis}.",
            "recommendation": view.recommendation,
        }
    )


def watch_slot(
    current: SlotWatch | None,
    view: SlotView | None,
    report: SlotReport,
    thresholds: Thresholds,
    now: datetime,
) -> WatchChange | None:
    """What one check does to a slot's watch card; None: nothing to write (no card and
    nothing wrong, or a resolved card that stays resolved)."""
    firing = current is not None and current.status == "firing"
    shown = current.report.taken_at if current is not None and current.report else None
    if shown is not None and report.taken_at < shown:
        return None  # an older look than the card shows (two checks crossed): it changes nothing
    if view is None:  # the slot is gone (dropped): nothing left to watch
        if current is None or not firing:
            return None
        gone = f"🟢 {current.slot} no longer exists on {current.database}: nothing left to watch."
        resolved = current.model_copy(
            update={"status": "resolved", "resolved_at": now, "checked_at": now}
        )
        return WatchChange(resolved, [gone], f"{current.title}: resolved, the slot was dropped")
    previous = current.severity if current is not None and firing else Level.OK
    level = level_of(view.row, view.percent, thresholds, previous)
    seen = narrow(report, view.model_copy(update={"level": level}))
    line = f"{view.diagnosis}."
    if level is Level.OK:
        if current is None or not firing:
            return None
        resolved = current.model_copy(
            update={"status": "resolved", "resolved_at": now, "checked_at": now, "report": seen}
        )
        return WatchChange(resolved, [f"🟢 Recovered: {line}"], f"{current.title}: recovered")
    if current is None or not firing:
        watch = SlotWatch(
            database=report.database,
            slot=view.row.name,
            severity=level,
            report=seen,
            fired_at=now,
            checked_at=now,
            peak_percent=view.percent,
            times_fired=current.times_fired + 1 if current is not None else 1,
        )
        opened = f"{level.icon} {level.value.capitalize()}: {line} {view.recommendation}"
        replies = (
            [opened] if current is not None else [opened, runbook(report.database, view.row.name)]
        )
        return WatchChange(watch, replies, f"{watch.title}: {level.value}")
    replies = []
    was = current.report.slots[0].case if current.report and current.report.slots else None
    if level is not current.severity:
        change = "Critical now" if level is Level.CRITICAL else "Back to warning"
        replies.append(f"{level.icon} {change}: {line}")
    elif view.case is not was and view.case in (Case.UNRESERVED, Case.LOST):
        replies.append(f"{level.icon} {view.case.value.capitalize()}: {line} {view.recommendation}")
    peaks = [p for p in (current.peak_percent, view.percent) if p is not None]
    updated = current.model_copy(
        update={
            "severity": level,
            "report": seen,
            "checked_at": now,
            "peak_percent": max(peaks) if peaks else None,
        }
    )
    flip = f"{current.title}: {level.value}" if replies else None
    return WatchChange(updated, replies, flip)


def watch_database(
    current: SlotWatch | None, database: str, problem: str | None, now: datetime
) -> WatchChange | None:
    """The card about a whole database: raised while the watch cannot do its job there
    (unreachable, or no cap to measure against), resolved when it can."""
    firing = current is not None and current.status == "firing"
    if problem is None:
        if current is None or not firing:
            return None
        resolved = current.model_copy(
            update={"status": "resolved", "resolved_at": now, "checked_at": now}
        )
        return WatchChange(
            resolved, [f"🟢 The watch can check {database} again."], f"{current.title}: resolved"
        )
    if current is None or not firing:
        watch = SlotWatch(
            database=database,
            severity=Level.WARNING,
            problem=problem,
            fired_at=now,
            checked_at=now,
            times_fired=current.times_fired + 1 if current is not None else 1,
        )
        return WatchChange(watch, [f"🟠 {escape(problem)}"], f"{watch.title}: {problem}")
    replies = [f"🟠 {escape(problem)}"] if problem != current.problem else []
    updated = current.model_copy(update={"problem": problem, "checked_at": now})
    return WatchChange(updated, replies, f"{current.title}: {problem}" if replies else None)

"""Who is on call: pure rota maths over a schedule and its overrides. No I/O, no clock.

Shifts are counted in *local dates* of the schedule's time zone and each handoff instant is
built from the local date and the handoff time, so a 09:00 handoff stays at 09:00 on both
sides of a daylight-saving change (the shift across it is 23 or 25 hours long). A handoff
time that does not exist on a spring-forward day (02:30) happens at the first instant after
the gap; on a fall-back day, at its first occurrence (Python's fold=0).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from bot.core.paging_config import Schedule

# Shift 0 of a schedule without `start`: a Monday, so weekly rotations count whole weeks.
EPOCH = date(1970, 1, 5)
OverrideKind = Literal["take", "handover"]


@dataclass(frozen=True)
class Override:
    """Someone holds the pager from `start` to `end` instead of the rota's person."""

    user_id: str
    start: datetime
    end: datetime
    by: str  # who asked for it
    kind: OverrideKind
    created_at: datetime

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True)
class Shift:
    schedule: str
    user_id: str
    start: datetime
    end: datetime
    override: Override | None = None


def period(schedule: Schedule) -> timedelta:
    return timedelta(days=7 if schedule.rotation == "weekly" else 1)


def handoff_instant(schedule: Schedule, local_date: date) -> datetime:
    """The UTC instant of the handoff on `local_date` in the schedule's zone."""
    _, at = schedule.handoff_parts()
    local = datetime.combine(local_date, at, tzinfo=schedule.zone)
    # Round-trip through UTC: a wall time in a spring-forward gap comes out as the real
    # instant after the gap.
    return local.astimezone(UTC)


def shift_date(schedule: Schedule, at: datetime) -> date:
    """The local date of the handoff that began the shift containing `at`."""
    weekday, _ = schedule.handoff_parts()
    day = at.astimezone(schedule.zone).date()
    if weekday is not None:
        day -= timedelta(days=(day.weekday() - weekday) % 7)
    if handoff_instant(schedule, day) > at:
        day -= period(schedule)
    return day


def anchor(schedule: Schedule) -> date:
    """The local date of shift 0 (members[0]'s): the first handoff day on or after `start`."""
    first = schedule.start or EPOCH
    weekday, _ = schedule.handoff_parts()
    if weekday is None:
        return first
    return first + timedelta(days=(weekday - first.weekday()) % 7)


def member_on(schedule: Schedule, day: date) -> str:
    """Who the rota gives the shift that starts on local date `day`."""
    index = (day - anchor(schedule)).days // period(schedule).days
    return schedule.members[index % len(schedule.members)]


def rota_shift(name: str, schedule: Schedule, at: datetime) -> Shift:
    """The rota's shift at `at`, ignoring overrides."""
    day = shift_date(schedule, at)
    return Shift(
        schedule=name,
        user_id=member_on(schedule, day),
        start=handoff_instant(schedule, day),
        end=handoff_instant(schedule, day + period(schedule)),
    )


def active_override(overrides: list[Override], at: datetime) -> Override | None:
    """The override in force at `at`: the most recently created one that covers it."""
    covering = [o for o in overrides if o.covers(at)]
    return max(covering, key=lambda o: o.created_at, default=None)


def on_call(name: str, schedule: Schedule, overrides: list[Override], at: datetime) -> Shift:
    """Who holds the pager of schedule `name` at `at`, from when until when."""
    override = active_override(overrides, at)
    if override is not None:
        return Shift(name, override.user_id, override.start, override.end, override)
    shift = rota_shift(name, schedule, at)
    # An override that begins later in this shift cuts it short.
    later = [o.start for o in overrides if shift.start < o.start < shift.end and o.start > at]
    return Shift(name, shift.user_id, shift.start, min([shift.end, *later]))


def next_shift(name: str, schedule: Schedule, overrides: list[Override], at: datetime) -> Shift:
    """The shift after the one at `at` (a different person, unless the rota has one member)."""
    current = on_call(name, schedule, overrides, at)
    following = on_call(name, schedule, overrides, current.end)
    if following.user_id == current.user_id and len(schedule.members) > 1:
        # Same person twice (an override that ended on their own rota turn): look one more.
        following = on_call(name, schedule, overrides, following.end)
    return following


def take(
    name: str,
    schedule: Schedule,
    overrides: list[Override],
    *,
    user_id: str,
    by: str,
    now: datetime,
    duration: timedelta | None,
    kind: OverrideKind = "take",
) -> Override:
    """An override giving `user_id` the pager from now, for `duration` or until the current
    shift would have ended (the next handoff, or the end of the override in force)."""
    end = now + duration if duration is not None else on_call(name, schedule, overrides, now).end
    return Override(user_id, now, end, by, kind, now)


def prune(overrides: list[Override], now: datetime) -> list[Override]:
    """Overrides that still matter at `now` (ended ones are dropped on every write)."""
    return [o for o in overrides if o.end > now]

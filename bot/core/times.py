"""Times: as senders write them (made aware and UTC), and as people read them.

RFC 3339 requires an offset and Alertmanager and Sentry send one, but a time without it
parses too (as a naive datetime), and comparing it with an aware one raises TypeError: in a
webhook that was a 500 (retried for ever), on a card it stopped the channel's poster. So a
time without an offset is read as UTC, every time is converted to UTC, and one that leaves
the years 1-9999 on the way (0001-01-01T00:00:00+05:00) is refused like any other bad field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator


def _in_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("time is out of range once converted to UTC") from exc


UtcDatetime = Annotated[datetime, AfterValidator(_in_utc)]


def duration_text(start: datetime, end: datetime) -> str:
    """How long an incident lasted, for people: "2 h 05 min", "12 min", "40 s"."""
    seconds = max(0, int((end - start).total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def is_late_night(hour: int, from_hour: int, until_hour: int) -> bool:
    """Whether `hour` (0-23) lies in [from_hour, until_hour), a window that may wrap past
    midnight (22 -> 7). Equal bounds mean no late-night window at all."""
    if from_hour == until_hour:
        return False
    if from_hour < until_hour:
        return from_hour <= hour < until_hour
    return hour >= from_hour or hour < until_hour


def zone_of(tz_name: str | None) -> ZoneInfo | None:
    """The IANA zone Slack named for a user, or None when absent or unknown here."""
    if not tz_name:
        return None
    try:
        return ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def operator_local_time(
    now: datetime, tz_name: str | None, from_hour: int, until_hour: int
) -> tuple[str | None, bool]:
    """("03:12 (Europe/Paris)", late-night?) for an aware `now`; (None, False) if unknown."""
    zone = zone_of(tz_name)
    if zone is None:
        return None, False
    local = now.astimezone(zone)
    return f"{local:%H:%M} ({tz_name})", is_late_night(local.hour, from_hour, until_hour)

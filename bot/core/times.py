"""Times: as senders write them (made aware and UTC), and as people read them.

RFC 3339 requires an offset and Alertmanager and Sentry send one, but a time without it
parses too (as a naive datetime), and comparing it with an aware one raises TypeError: in a
webhook that was a 500 (retried for ever), on a card it stopped the channel's poster. So a
time without an offset is read as UTC, every time is converted to UTC, and one that leaves
the years 1-9999 on the way (0001-01-01T00:00:00+05:00) is refused like any other bad field.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
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


_DURATION_PART = re.compile(r"(\d+)\s*(d|h|m|s)")
_DURATION_UNIT_S = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}


def parse_duration(text: str) -> timedelta:
    """ "30s", "5m", "1h", "1h30m", "2d" -> a timedelta. Raises ValueError with the reason.

    The units people write in configs and slash commands; a bare number is refused because
    "5" could mean seconds or minutes."""
    cleaned = text.strip().lower().replace(" ", "")
    if not cleaned:
        raise ValueError("a duration is empty; write it like 30s, 5m, 1h or 1h30m")
    parts = _DURATION_PART.findall(cleaned)
    if not parts or "".join(n + u for n, u in parts) != cleaned:
        raise ValueError(f"{text!r} is not a duration; write it like 30s, 5m, 1h or 1h30m")
    seconds = sum(int(n) * _DURATION_UNIT_S[u] for n, u in parts)
    return timedelta(seconds=seconds)


def duration_words(delta: timedelta) -> str:
    """A duration for people, the way they would say it: "45 s", "5 min", "1 h 30 min"."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min" + (f" {rest} s" if rest and minutes < 10 else "")
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    days, hours = divmod(hours, 24)
    return f"{days} d" + (f" {hours} h" if hours else "")


def duration_config_text(delta: timedelta) -> str:
    """A duration as a config would write it: 90 s -> "1m30s"."""
    seconds = int(delta.total_seconds())
    out = ""
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            out += f"{amount}{unit}"
    return out or "0s"

"""Times as senders write them, made safe to compare and to show: always aware, in UTC.

RFC 3339 requires an offset and Alertmanager and Sentry send one, but a time without it
parses too (as a naive datetime), and comparing it with an aware one raises TypeError: in a
webhook that was a 500 (retried for ever), on a card it stopped the channel's poster. So a
time without an offset is read as UTC, every time is converted to UTC, and one that leaves
the years 1-9999 on the way (0001-01-01T00:00:00+05:00) is refused like any other bad field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def _in_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("time is out of range once converted to UTC") from exc


UtcDatetime = Annotated[datetime, AfterValidator(_in_utc)]

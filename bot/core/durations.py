"""Durations as people write them in SEAWALL_CONFIG: `30s`, `15m`, `12h`, `30d`."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(value: object) -> object:
    """`30s`, `15m`, `12h`, `30d` as a timedelta; seconds as a number and ISO 8601 (`P30D`)
    are left to pydantic."""
    if not isinstance(value, str) or value.strip().startswith("P"):
        return value
    if match := _DURATION.match(value):
        return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    raise ValueError(f"{value!r} is not a duration such as 30s, 15m, 12h or 30d")


Duration = Annotated[timedelta, BeforeValidator(_duration)]


def parse_duration(text: str) -> timedelta:
    """`30s`, `15m`, `12h`, `30d` as a timedelta; ValueError for anything else."""
    value = _duration(text.strip())
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ValueError(f"{text!r} is not a duration such as 30s, 15m, 12h or 30d")
    return value

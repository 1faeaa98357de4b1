"""Sizes and rates as people read them on a phone: "52 MB", "1.2 GB", "3.0 MB/s".

Units step by 1024 and are written kB, MB, GB, TB as Postgres's own pg_size_pretty writes
them, so a number on a card matches what a DBA sees in psql. Below 10 units one decimal is
kept ("3.4 MB"), above it none ("52 MB"): more digits are noise at 3 a.m.
"""

from __future__ import annotations

UNITS = ("B", "kB", "MB", "GB", "TB", "PB")
STEP = 1024


def human_bytes(size: float) -> str:
    """A byte count in the largest unit that keeps it at or above 1 ("-" for a negative)."""
    sign = "-" if size < 0 else ""
    value = abs(float(size))
    unit = 0
    while value >= STEP and unit < len(UNITS) - 1:
        value /= STEP
        unit += 1
    if unit == 0:
        return f"{sign}{int(value)} B"
    # Rounding may carry to the next unit: 1023.96 kB reads better as 1.0 MB.
    if round(value) >= STEP and unit < len(UNITS) - 1:
        value /= STEP
        unit += 1
    text = f"{value:.1f}" if value < 9.95 else f"{value:.0f}"
    return f"{sign}{text} {UNITS[unit]}"


def human_rate(bytes_per_second: float) -> str:
    """A byte rate: "3.0 MB/s"."""
    return f"{human_bytes(bytes_per_second)}/s"


def parse_bytes(text: str) -> float:
    """The inverse of human_bytes, as closely as its rounding allows (tests, and reading a
    card's numbers back)."""
    number, _, unit = text.strip().removesuffix("/s").partition(" ")
    return float(number) * float(STEP ** UNITS.index(unit))

"""Sizes and rates as a phone shows them, and the job schedule a watch interval becomes."""

from __future__ import annotations

import pytest
from croniter import croniter
from hypothesis import given
from hypothesis import strategies as st

from bot.core.jobs import cron_for
from bot.core.sizes import human_bytes, human_rate, parse_bytes


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (512, "512 B"),
        (1536, "1.5 kB"),
        (52 * 1024**2, "52 MB"),
        (int(3.04 * 1024**2), "3.0 MB"),
        (1024**2 - 10, "1.0 MB"),  # rounding carries to the next unit
        (int(1.2 * 1024**3), "1.2 GB"),
        (-64 * 1024**2, "-64 MB"),
    ],
)
def test_sizes_read_like_pg_size_pretty(size: int, text: str) -> None:
    assert human_bytes(size) == text


def test_a_rate_is_a_size_per_second() -> None:
    assert human_rate(3 * 1024**2) == "3.0 MB/s"


@given(st.integers(min_value=0, max_value=2**62))
def test_a_shown_size_is_within_five_percent_of_the_real_one(size: int) -> None:
    shown = parse_bytes(human_bytes(size))
    assert abs(shown - size) <= max(0.05 * size, 1)


@given(st.integers(min_value=0, max_value=2**62), st.integers(min_value=0, max_value=2**62))
def test_a_larger_size_never_reads_smaller(a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert parse_bytes(human_bytes(low)) <= parse_bytes(human_bytes(high))


@pytest.mark.parametrize("every", [1, 5, 10, 15, 20, 30, 60, 120, 300, 600, 1800, 3600])
def test_an_interval_that_divides_a_minute_or_an_hour_is_a_valid_cron(every: int) -> None:
    expression = cron_for(every)
    assert croniter.is_valid(expression)
    ticks = croniter(expression, 0.0)
    first, second = ticks.get_next(), ticks.get_next()
    assert second - first == every


@pytest.mark.parametrize("every", [7, 45, 90, 0.5, 7200])
def test_an_interval_that_would_run_unevenly_is_refused_with_what_works(every: float) -> None:
    with pytest.raises(ValueError, match="must"):
        cron_for(every)

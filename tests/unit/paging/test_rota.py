"""Rota maths: handoffs at local wall-clock time, across DST, with overrides (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.paging_config import Schedule
from bot.paging.rota import (
    Override,
    handoff_instant,
    next_shift,
    on_call,
    prune,
    rota_shift,
    take,
)

A, B, C = "U0ALICE", "U0BOB", "U0CAROL"


def schedule(**overrides: object) -> Schedule:
    values: dict[str, object] = {
        "timezone": "Europe/Paris",
        "rotation": "daily",
        "handoff": "09:00",
        "members": [A, B],
        "start": "2026-03-27",
    }
    values.update(overrides)
    return Schedule.model_validate(values)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_daily_handoff_stays_at_0900_local_across_the_spring_dst_change() -> None:
    daily = schedule()  # Paris springs forward on Sunday 29 March 2026 at 02:00
    before = rota_shift("p", daily, utc(2026, 3, 29, 6, 30))  # 08:30 CEST: Saturday's shift
    after = rota_shift("p", daily, utc(2026, 3, 29, 7, 30))  # 09:30 CEST: Sunday's
    assert before.user_id == B  # 27th alice, 28th bob
    assert after.user_id == A
    assert after.start == utc(2026, 3, 29, 7, 0)  # 09:00 CEST, not 08:00 UTC (09:00 CET)
    assert before.end == after.start
    assert after.start - before.start == timedelta(hours=23)  # the short night


def test_a_weekly_handoff_at_0900_on_monday_follows_new_york_into_summer_time() -> None:
    weekly = schedule(
        timezone="America/New_York", rotation="weekly", handoff="mon 09:00", start="2026-03-02"
    )  # New York springs forward on Sunday 8 March 2026
    shift = rota_shift("p", weekly, utc(2026, 3, 9, 13, 30))  # Monday 09:30 EDT
    assert shift.user_id == B
    assert shift.start == utc(2026, 3, 9, 13, 0)
    assert shift.start - rota_shift("p", weekly, utc(2026, 3, 6)).start == timedelta(
        days=7, hours=-1
    )


def test_a_handoff_time_skipped_by_dst_happens_just_after_the_gap() -> None:
    weekly = schedule(rotation="weekly", handoff="sun 02:30", start="2026-03-22")
    shift = rota_shift("p", weekly, utc(2026, 3, 29, 2, 0))
    assert shift.start == utc(2026, 3, 29, 1, 30)  # 03:30 CEST: 02:30 did not exist


def test_a_handoff_time_that_happens_twice_uses_the_first() -> None:
    weekly = schedule(rotation="weekly", handoff="sun 02:30", start="2026-10-18")
    shift = rota_shift("p", weekly, utc(2026, 10, 25, 1, 0))
    assert shift.start == utc(2026, 10, 25, 0, 30)  # 02:30 CEST, before the clocks go back


def test_the_first_shift_on_or_after_start_belongs_to_the_first_member() -> None:
    weekly = schedule(rotation="weekly", handoff="mon 09:00", start="2026-03-04")  # a Wednesday
    assert rota_shift("p", weekly, utc(2026, 3, 9, 12)).user_id == A  # from Monday 9th
    assert rota_shift("p", weekly, utc(2026, 3, 8, 12)).user_id == B  # the week before


def test_an_override_takes_the_pager_and_hands_it_back() -> None:
    daily = schedule()
    now = utc(2026, 3, 27, 12)
    taken = take("p", daily, [], user_id=C, by=C, now=now, duration=timedelta(hours=2))
    during = on_call("p", daily, [taken], now + timedelta(hours=1))
    assert (during.user_id, during.end, during.override) == (C, now + timedelta(hours=2), taken)
    assert on_call("p", daily, [taken], now + timedelta(hours=2)).user_id == A


def test_a_take_without_a_duration_lasts_until_the_next_handoff() -> None:
    daily = schedule()
    now = utc(2026, 3, 27, 12)
    taken = take("p", daily, [], user_id=B, by=B, now=now, duration=None)
    assert taken.end == utc(2026, 3, 28, 8)  # 09:00 CET the next day


def test_the_latest_override_wins() -> None:
    daily = schedule()
    now = utc(2026, 3, 27, 12)
    first = Override(B, now, now + timedelta(hours=5), B, "take", now)
    second = Override(C, now, now + timedelta(hours=1), A, "handover", now + timedelta(minutes=1))
    assert on_call("p", daily, [first, second], now + timedelta(minutes=30)).user_id == C
    assert on_call("p", daily, [first, second], now + timedelta(hours=2)).user_id == B


def test_who_is_next_skips_to_a_different_person() -> None:
    daily = schedule()
    now = utc(2026, 3, 27, 12)
    following = next_shift("p", daily, [], now)
    assert (following.user_id, following.start) == (B, utc(2026, 3, 28, 8))


def test_ended_overrides_are_dropped() -> None:
    now = utc(2026, 3, 27, 12)
    old = Override(B, now - timedelta(hours=3), now - timedelta(hours=1), B, "take", now)
    live = Override(C, now, now + timedelta(hours=1), C, "take", now)
    assert prune([old, live], now) == [live]


ZONES = ["Europe/Paris", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC"]
instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)
schedules = st.builds(
    lambda zone, weekly, day, hour, minute, members, start: schedule(
        timezone=zone,
        rotation="weekly" if weekly else "daily",
        handoff=(f"{['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'][day]} " if weekly else "")
        + f"{hour:02d}:{minute:02d}",
        members=members,
        start=start.isoformat(),
    ),
    st.sampled_from(ZONES),
    st.booleans(),
    st.integers(0, 6),
    st.integers(0, 23),
    st.sampled_from([0, 30, 59]),
    st.lists(st.sampled_from([A, B, C]), min_size=1, max_size=4),
    st.dates(min_value=date(2019, 1, 1), max_value=date(2030, 1, 1)),
)


@settings(max_examples=300, deadline=None)
@given(schedules, instants)
def test_every_instant_lies_in_exactly_one_shift_that_starts_at_the_local_handoff(
    rota: Schedule, at: datetime
) -> None:
    shift = rota_shift("p", rota, at)
    assert shift.start <= at < shift.end
    period = timedelta(days=7 if rota.rotation == "weekly" else 1)
    assert abs((shift.end - shift.start) - period) <= timedelta(hours=1)  # DST moves it 1 h
    _, at_time = rota.handoff_parts()
    local = shift.start.astimezone(ZoneInfo(rota.timezone))
    wall = datetime.combine(local.date(), at_time, tzinfo=ZoneInfo(rota.timezone))
    if wall.astimezone(UTC).astimezone(ZoneInfo(rota.timezone)).time() == at_time:
        assert local.time() == at_time  # unless that wall time did not exist that day
    assert handoff_instant(rota, local.date()) == shift.start


@settings(max_examples=200, deadline=None)
@given(schedules, instants)
def test_the_next_shift_belongs_to_the_next_member(rota: Schedule, at: datetime) -> None:
    shift = rota_shift("p", rota, at)
    following = rota_shift("p", rota, shift.end)
    assert following.start == shift.end
    members = rota.members
    index = [i for i, m in enumerate(members) if m == shift.user_id]
    assert any(members[(i + 1) % len(members)] == following.user_id for i in index)


@pytest.mark.parametrize("handoff", ["9:00", "09:00 mon", "mon", "funday 09:00"])
def test_a_weekly_handoff_needs_a_day_and_a_time(handoff: str) -> None:
    with pytest.raises(ValueError, match="handoff"):
        schedule(rotation="weekly", handoff=handoff)

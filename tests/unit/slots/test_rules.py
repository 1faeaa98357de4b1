"""The numbers behind a slot and what they mean, on snapshots written by hand: rates, time
until the cap, levels that do not flap, the diagnosis of each case, and the watch card's
transitions."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.models.slots import (
    Case,
    Holder,
    Level,
    Sample,
    SlotMark,
    SlotReport,
    SlotRow,
    SlotWatch,
)
from bot.slots.rules import (
    MIN_WINDOW_S,
    WatchChange,
    level_of,
    next_sample,
    pick_baseline,
    seconds_to_cap,
    seconds_to_wait,
    wal_rate,
    watch_database,
    watch_slot,
)
from bot.slots.runbook import runbook
from tests.fixtures.slots import (
    CAP,
    MB,
    T0,
    THRESHOLDS,
    WAL,
    idle_in_transaction,
    report,
    row,
    sample_of,
    snap,
)

# --- samples and rates ------------------------------------------------------------------


def aged(seconds: float) -> Sample:
    return Sample(at=T0 - timedelta(seconds=seconds), wal_lsn=0)


def test_the_baseline_is_the_newest_sample_at_least_a_minute_old() -> None:
    chosen = pick_baseline([aged(30), aged(65), aged(95), aged(2)], T0)
    assert chosen is not None
    assert chosen.at == T0 - timedelta(seconds=65)


def test_without_a_minute_old_sample_the_oldest_usable_one_is_used() -> None:
    chosen = pick_baseline([aged(8), aged(30), aged(3)], T0)
    assert chosen is not None
    assert chosen.at == T0 - timedelta(seconds=30)


def test_samples_too_young_or_too_old_give_no_baseline() -> None:
    assert pick_baseline([aged(1), aged(4.9), aged(601)], T0) is None


@given(st.lists(st.floats(min_value=-10, max_value=2000), max_size=12))
def test_a_baseline_is_always_usable_and_prefers_a_minute(ages: list[float]) -> None:
    chosen = pick_baseline([aged(a) for a in ages], T0)
    usable = [a for a in ages if MIN_WINDOW_S <= a <= 600]
    if not usable:
        assert chosen is None
        return
    assert chosen is not None
    age = (T0 - chosen.at).total_seconds()
    assert MIN_WINDOW_S <= age <= 600
    if any(a >= 60 for a in usable):
        assert age == pytest.approx(min(a for a in usable if a >= 60))


def test_a_look_waits_only_until_its_first_sample_is_old_enough() -> None:
    assert seconds_to_wait([], T0) == MIN_WINDOW_S
    assert seconds_to_wait([aged(2)], T0) == pytest.approx(MIN_WINDOW_S - 2)
    assert seconds_to_wait([aged(70)], T0) == 0


def test_the_wal_rate_is_bytes_written_over_the_window() -> None:
    before = Sample(at=T0 - timedelta(seconds=60), wal_lsn=WAL - 180 * MB)
    assert wal_rate(before, snap()) == (3 * MB, 60)


def test_a_server_that_went_backwards_has_no_rate() -> None:
    after_restore = Sample(at=T0 - timedelta(seconds=60), wal_lsn=WAL + MB)
    assert wal_rate(after_restore, snap()) == (None, None)


def test_a_slot_stays_inactive_since_it_was_first_seen_so() -> None:
    first = next_sample(snap(row(retained=MB)), None)
    later = next_sample(snap(row(retained=2 * MB), at=T0 + timedelta(minutes=5)), first)
    assert later.slots["orders_cdc"].inactive_since == T0
    active = next_sample(snap(row(retained=MB, active=True, pid=7)), later)
    assert active.slots["orders_cdc"].inactive_since is None


# --- time until the cap and levels ------------------------------------------------------


@given(
    st.integers(min_value=-CAP, max_value=100 * CAP),
    st.floats(min_value=-1e9, max_value=1e9, allow_nan=False),
    st.floats(min_value=1, max_value=1e9),
)
def test_time_to_cap_is_never_negative_and_shrinks_as_growth_rises(
    safe: int, growth: float, more: float
) -> None:
    left = seconds_to_cap(safe, growth)
    if safe <= 0:
        assert left == 0
    elif growth <= 0:
        assert left is None
    else:
        assert left is not None
        assert left >= 0
        faster = seconds_to_cap(safe, growth + more)
        assert faster is not None
        assert faster <= left


def test_no_cap_means_no_time_to_cap() -> None:
    assert seconds_to_cap(None, 3 * MB) is None


@given(
    st.floats(min_value=0, max_value=200),
    st.floats(min_value=0, max_value=200),
    st.sampled_from(list(Level)),
)
def test_more_of_the_cap_is_never_a_lower_level(a: float, b: float, previous: Level) -> None:
    low, high = sorted((a, b))
    slot = row(retained=MB)
    assert level_of(slot, low, THRESHOLDS, previous).rank <= (
        level_of(slot, high, THRESHOLDS, previous).rank
    )


@given(st.floats(min_value=0, max_value=200), st.sampled_from(list(Level)))
def test_a_level_holds_within_the_hysteresis_and_never_starts_below_its_threshold(
    percent: float, previous: Level
) -> None:
    level = level_of(row(retained=MB), percent, THRESHOLDS, previous)
    if previous is Level.OK:
        expected = Level.CRITICAL if percent >= 80 else Level.WARNING if percent >= 50 else Level.OK
        assert level is expected
    if previous is Level.CRITICAL and percent >= 75:
        assert level is Level.CRITICAL
    if previous is not Level.OK and 45 <= percent < 80:
        assert level.rank >= Level.WARNING.rank


@pytest.mark.parametrize("status", ["unreserved", "lost"])
def test_a_slot_past_the_cap_is_critical_whatever_its_percent(status: str) -> None:
    assert level_of(row(retained=MB, status=status), None, THRESHOLDS) is Level.CRITICAL


# --- what a look says -------------------------------------------------------------------


def stalled_41_minutes() -> SlotReport:
    cap = 10 * 1024 * MB
    retained = int(0.81 * cap)
    minute_ago = WAL - 180 * MB  # 3 MB/s of WAL, and the slot did not move
    before = snap(
        row(retained=retained - 180 * MB, cap=cap, wal=minute_ago),
        at=T0 - timedelta(minutes=1),
        wal=minute_ago,
        cap=cap,
    )
    slot = row(retained=retained, cap=cap).model_copy(update={"safe_wal_size": 2160 * MB})
    earlier = [sample_of(before, inactive_since=T0 - timedelta(minutes=41))]
    return report(slot, earlier=earlier, cap=cap)


def test_a_stalled_consumer_is_told_with_the_time_left_and_both_ways_out() -> None:
    look = stalled_41_minutes()
    assert look.slots[0].case is Case.STALLED
    assert look.level is Level.CRITICAL
    assert look.diagnosis == (
        "orders_cdc is inactive for 41 min and retains 8.1 GB (81% of the 10 GB cap): it will "
        "hit the cap in ~12 min at 3.0 MB/s."
    )
    assert look.recommendation == (
        "Restart its consumer now. If it cannot be back within ~12 min, drop the slot and "
        "re-snapshot: `/playbook slot-lag orders drop=orders_cdc`."
    )
    assert look.wal_rate == 3 * MB
    assert look.rate_window_s == 60


def test_a_stalled_consumer_far_from_the_cap_is_told_there_is_time() -> None:
    minute_ago = WAL - 60 * 1024  # 1 kB/s: hours from the cap
    before = snap(
        row(retained=20 * MB - 60 * 1024, wal=minute_ago),
        at=T0 - timedelta(minutes=1),
        wal=minute_ago,
    )
    look = report(row(retained=20 * MB), earlier=[sample_of(before)])
    assert look.slots[0].case is Case.STALLED
    assert "there is time (~" in look.recommendation
    assert "only if the consumer is gone for good" in look.recommendation


def test_an_idle_in_transaction_session_is_blamed_when_the_consumer_keeps_up() -> None:
    look = report(
        row(retained=40 * MB, lag=100 * 1024, active=True, pid=77),
        holders=[idle_in_transaction()],
    )
    slot = look.slots[0]
    assert slot.case is Case.HELD
    assert slot.holder is not None
    assert slot.holder.pid == 4242
    assert look.diagnosis.startswith(
        "orders_cdc's consumer keeps up (lag 100 kB), but pid 4242 (idle in transaction, "
        "transaction open for 41 min) holds back 40 MB of WAL (62% of the 64 MB cap)"
    )
    assert "`/playbook slot-lag orders terminate=4242`" in look.recommendation
    assert "Dropping the slot would not help" in look.recommendation


def test_a_session_that_wrote_nothing_is_not_blamed() -> None:
    reader = idle_in_transaction().model_copy(update={"has_xid": False})
    look = report(row(retained=40 * MB, lag=0, active=True, pid=77), holders=[reader])
    assert look.slots[0].case is not Case.HELD


def test_a_prepared_transaction_is_left_to_a_human() -> None:
    prepared = Holder(
        gid="tx-9", state="prepared", has_xid=True, xact_start=T0 - timedelta(hours=2)
    )
    look = report(row(retained=40 * MB, lag=0, active=True, pid=7), holders=[prepared])
    assert "prepared transaction `tx-9`, prepared 2 h 00 min ago" in look.diagnosis
    assert "ROLLBACK PREPARED" in look.recommendation
    assert "terminate=" not in look.recommendation


def test_a_lost_slot_asks_for_a_re_snapshot() -> None:
    look = report(row(retained=0, status="lost"))
    assert look.level is Level.CRITICAL
    assert look.slots[0].case is Case.LOST
    assert look.diagnosis.startswith("orders_cdc is lost:")
    assert "Re-snapshot: drop the slot (`/playbook slot-lag orders drop=orders_cdc`)" in (
        look.recommendation
    )


def test_an_unreserved_slot_is_critical_and_told_it_will_be_lost() -> None:
    look = report(row(retained=70 * MB, status="unreserved"))
    assert look.level is Level.CRITICAL
    assert look.slots[0].case is Case.UNRESERVED
    assert "the next checkpoint removes WAL it needs" in look.diagnosis


def test_a_connected_consumer_falling_behind_is_slow_and_can_be_kicked() -> None:
    minute_ago = WAL - 20 * MB
    before = snap(
        row(retained=20 * MB, lag=20 * MB, active=True, pid=88, wal=minute_ago),
        at=T0 - timedelta(minutes=1),
        wal=minute_ago,
    )
    look = report(
        row(retained=40 * MB, lag=40 * MB, active=True, pid=88), earlier=[sample_of(before)]
    )
    assert look.slots[0].case is Case.SLOW
    assert "consumer (pid 88) is connected but 40 MB behind" in look.diagnosis
    assert "`/playbook slot-lag orders terminate=88`" in look.recommendation


def test_slots_that_keep_up_say_so_and_ask_nothing() -> None:
    look = report(
        row("a", retained=MB, lag=0, active=True, pid=1),
        row("b", retained=3 * MB, lag=0, active=True, pid=2),
    )
    assert (
        look.diagnosis
        == "All 2 slots on orders keep up; the fullest, b, retains 3.0 MB (5% of the 64 MB cap)."
    )
    assert look.recommendation == "Nothing to do now."


def test_no_cap_is_a_loud_warning_and_the_worst_slot_still_leads() -> None:
    look = report(row(retained=900 * MB, cap=None), cap=None)
    assert look.warnings
    assert look.warnings[0].startswith("max_slot_wal_keep_size is -1 (unlimited)")
    assert look.slots[0].case is Case.STALLED
    assert "retains 900 MB (no cap)" in look.diagnosis
    assert "nothing caps this slot" in look.recommendation


def test_the_worst_slot_comes_first_and_the_others_are_counted() -> None:
    look = report(
        row("fine", retained=MB, lag=0, active=True, pid=1),
        row("late", retained=60 * MB),
        row("gone", retained=0, status="lost"),
    )
    assert [v.row.name for v in look.slots] == ["gone", "late", "fine"]
    assert look.diagnosis.endswith("; 1 more slot below needs attention.")


def test_no_slots_is_said_plainly() -> None:
    assert report().diagnosis == "There are no replication slots on orders."


# --- the watch card ---------------------------------------------------------------------


def check(current: SlotWatch | None, slot: SlotRow | None, at: datetime = T0) -> WatchChange | None:
    look = report(*([slot] if slot else []))
    view = look.slots[0] if slot else None
    return watch_slot(current, view, look, THRESHOLDS, at)


def percent(p: float, **kw: object) -> SlotRow:
    return row(retained=int(CAP * p / 100), **kw)  # type: ignore[arg-type]


def test_no_card_is_raised_below_the_warning() -> None:
    assert check(None, percent(49)) is None


def test_crossing_warn_raises_a_card_with_the_runbook_in_its_thread() -> None:
    change = check(None, percent(55))
    assert change is not None
    assert change.watch.status == "firing"
    assert change.watch.severity is Level.WARNING
    assert change.replies[0].startswith("🟠 Warning: orders_cdc is inactive and retains 35 MB (55%")
    assert change.replies[1].startswith("📖 *Recovery checklist")
    assert "drop=orders_cdc" in change.replies[1]


def test_the_same_level_updates_the_card_quietly() -> None:
    first = check(None, percent(55))
    assert first is not None
    again = check(first.watch, percent(60), T0 + timedelta(seconds=30))
    assert again is not None
    assert again.replies == []
    assert again.flip is None
    assert again.watch.peak_percent == pytest.approx(60, abs=0.1)


def test_escalation_lost_and_recovery_each_get_one_reply() -> None:
    warned = check(None, percent(55))
    assert warned is not None
    critical = check(warned.watch, percent(85))
    assert critical is not None
    assert critical.replies[0].startswith("🔴 Critical now:")
    held = check(critical.watch, percent(77))  # within the hysteresis: still critical
    assert held is not None
    assert held.replies == []
    assert held.watch.severity is Level.CRITICAL
    unreserved = check(held.watch, percent(105, status="unreserved"))
    assert unreserved is not None
    assert unreserved.replies[0].startswith("🔴 Unreserved:")
    lost = check(unreserved.watch, row(retained=0, status="lost"))
    assert lost is not None
    assert lost.replies[0].startswith("🔴 Lost: orders_cdc is lost")
    assert "Re-snapshot" in lost.replies[0]
    gone = check(lost.watch, None)
    assert gone is not None
    assert gone.watch.closed
    assert gone.replies == ["🟢 orders_cdc no longer exists on orders: nothing left to watch."]


def test_a_recovered_slot_resolves_and_a_second_fire_skips_the_runbook() -> None:
    warned = check(None, percent(55))
    assert warned is not None
    recovered = check(warned.watch, percent(30))
    assert recovered is not None
    assert recovered.watch.closed
    assert recovered.replies[0].startswith("🟢 Recovered:")
    assert check(recovered.watch, percent(30)) is None  # stays resolved: nothing to write
    again = check(recovered.watch, percent(56))
    assert again is not None
    assert again.watch.times_fired == 2
    assert len(again.replies) == 1


@given(st.lists(st.floats(min_value=0, max_value=120), min_size=1, max_size=12))
def test_repeating_a_check_never_adds_a_reply(percents: list[float]) -> None:
    current: SlotWatch | None = None
    for p in percents:
        change = check(current, percent(p))
        current = change.watch if change else current
    repeat = check(current, percent(percents[-1]))
    assert repeat is None or repeat.replies == []


def test_a_database_the_watch_cannot_check_gets_one_card_until_it_can() -> None:
    raised = watch_database(None, "orders", "cannot connect <x>", T0)
    assert raised is not None
    assert raised.watch.slot is None
    assert raised.replies == ["🟠 cannot connect &lt;x&gt;"]
    same = watch_database(raised.watch, "orders", "cannot connect <x>", T0)
    assert same is not None
    assert same.replies == []
    back = watch_database(same.watch, "orders", None, T0)
    assert back is not None
    assert back.watch.closed
    assert watch_database(None, "orders", None, T0) is None


def test_marks_keep_what_the_rates_need() -> None:
    made = next_sample(snap(row(retained=5 * MB, lag=MB, active=True, pid=3)), None)
    assert made.slots["orders_cdc"] == SlotMark(
        restart_lsn=WAL - 5 * MB, confirmed_flush_lsn=WAL - MB, active=True, inactive_since=None
    )


def test_the_runbook_names_the_commands_and_holds_nothing_slack_would_parse() -> None:
    text = runbook("orders", "orders_cdc")
    assert "`/playbook slot-lag orders drop=orders_cdc`" in text
    assert "`/playbook slot-lag orders terminate=&lt;pid&gt;`" in text
    assert "<" not in text
    assert ">" not in text


def test_a_look_older_than_the_card_changes_nothing() -> None:
    critical = check(None, percent(85), T0)
    assert critical is not None
    look = report(percent(55), at=T0 - timedelta(seconds=1))
    assert watch_slot(critical.watch, look.slots[0], look, THRESHOLDS, T0) is None

"""The resume ramp's pure rules: levels in units, worker by worker, the signals' verdict and
the depth curve as text."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from playbooks.ramp import (
    RampLevel,
    Signals,
    WorkerShape,
    add_sample,
    curve_text,
    describe_level,
    judge,
    plan_levels,
    sparkline,
    spread,
)

LEVEL = TypeAdapter(RampLevel)


def test_the_contract_ramp_becomes_absolute_units_for_the_capacity_it_had() -> None:
    ramp = [LEVEL.validate_python(v) for v in (1, "25%", "50%", "100%")]
    assert plan_levels(ramp, 8) == [1, 2, 4, 8]
    assert plan_levels(ramp, 2) == [1, 2]  # 25% and 50% of 2 are 1: no step twice
    assert plan_levels(ramp, 1) == [1]


def test_a_ramp_that_stops_short_of_100_percent_still_ends_fully_resumed() -> None:
    assert plan_levels(["1", "50%"], 10) == [1, 5, 10]


@given(
    st.lists(st.one_of(st.integers(1, 50), st.integers(1, 100).map(lambda n: f"{n}%")), min_size=1),
    st.integers(1, 500),
)
def test_every_plan_rises_strictly_and_ends_at_the_capacity(ramp: list[object], cap: int) -> None:
    levels = plan_levels([LEVEL.validate_python(v) for v in ramp], cap)
    assert levels[-1] == cap
    assert all(a < b for a, b in itertools.pairwise(levels))
    assert levels[0] >= 1


@pytest.mark.parametrize("bad", [0, "0%", "150%", "-1", "a lot", "2.5", True])
def test_a_level_that_means_nothing_is_refused(bad: object) -> None:
    with pytest.raises(ValidationError):
        LEVEL.validate_python(bad)


def test_levels_read_as_steps_of_the_whole() -> None:
    assert describe_level([1, 2, 4, 8], 1) == "step 2/4: 2 of 8 (25%)"
    assert describe_level([1, 2, 4, 8], -1) == "paused (0 of 8)"


def test_workers_come_back_one_at_a_time_resizable_pools_by_the_slot() -> None:
    workers = [WorkerShape("w1", 2, True), WorkerShape("w2", 1, False)]
    assert spread(workers, 0) == [0, 0]
    assert spread(workers, 1) == [1, 0]  # one slot of w1: its pool shrinks to 1
    assert spread(workers, 2) == [2, 0]
    assert spread(workers, 3) == [2, 1]


def test_a_pool_that_cannot_be_resized_comes_back_whole() -> None:
    workers = [WorkerShape("solo", 4, False), WorkerShape("w2", 4, True)]
    assert spread(workers, 1) == [4, 0]


def test_the_ramp_goes_on_when_the_queue_falls_and_no_alert_fires() -> None:
    verdict = judge(Signals(depth_then=900, depth_now=400, firing=[]), running=True)
    assert verdict.ok
    assert verdict.reason == "queue 900 → 400, no matching alert firing"


def test_a_queue_that_did_not_fall_stops_the_ramp_and_says_the_numbers() -> None:
    verdict = judge(Signals(depth_then=900, depth_now=1200), running=True)
    assert not verdict.ok
    assert verdict.reason == "the queue did not fall: 900 then, 1,200 now"


def test_an_empty_queue_is_fine_and_nothing_running_needs_no_fall() -> None:
    assert judge(Signals(depth_then=0, depth_now=0), running=True).ok
    assert judge(Signals(depth_then=None, depth_now=5000), running=False).ok


def test_a_firing_alert_or_unreadable_alerts_stop_the_ramp() -> None:
    firing = judge(Signals(10, 5, firing=["HighErrorRate"]), running=True)
    assert not firing.ok
    assert "HighErrorRate" in firing.reason
    unreadable = judge(Signals(10, 5, alerts_error="ALERTMANAGER_URL is not set"), running=True)
    assert not unreadable.ok
    assert "could not be read" in unreadable.reason


def test_the_depth_curve_is_a_sparkline_of_the_last_samples() -> None:
    assert sparkline([8, 4, 2, 0]) == "█▅▃▁"
    assert sparkline([]) == ""
    curve = ""
    for depth in (1204, 900, None, 310):
        curve = add_sample(curve, depth)
    assert curve == "1204,900,310"
    assert curve_text(curve) == "depth █▆▁ 1,204 → 310"
    for depth in range(40):
        curve = add_sample(curve, depth)
    assert len(curve.split(",")) == 24

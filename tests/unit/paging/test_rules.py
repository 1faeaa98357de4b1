"""Paging rules, pure: what pages, where an alert goes, the ladder's steps and moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core.paging_config import Oncall
from bot.models.alert import Alert, AlertGroup, Status
from bot.models.card import TriageCard
from bot.models.heartbeat import HeartbeatAlarm
from bot.models.page import Claim, Delivery, Page, PagedCard, Target
from bot.models.sentry import SentryIssue
from bot.paging.rules import (
    level_steps,
    notice_for,
    paged_card,
    place,
    plan,
    push_text,
    should_page,
    status_for,
    summary,
)

T0 = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)
A, C = "U0ALICE", "U0CAROL"


def oncall(**overrides: Any) -> Oncall:
    values: dict[str, Any] = {
        "schedules": {
            "primary": {
                "timezone": "Europe/Paris",
                "rotation": "weekly",
                "handoff": "mon 09:00",
                "members": [A],
            }
        },
        "people": {
            A: {
                "notify": [
                    {"via": "slack", "after": "0s"},
                    {"via": "ntfy://ntfy.example.com/alice?priority=5", "after": "1m"},
                    {"via": "pover://user@token?priority=emergency", "after": "3m"},
                ]
            }
        },
        "escalation": [
            {"notify": "schedule:primary", "ack_timeout": "5m"},
            {"notify": [C], "ack_timeout": "5m"},
        ],
        "repeat": 2,
    }
    values.update(overrides)
    return Oncall.model_validate(values)


def group(severity: str = "critical", status: Status = Status.FIRING) -> AlertGroup:
    alert = Alert(
        fingerprint="f1",
        status=status,
        labels={"alertname": "DiskFull", "severity": severity},
        starts_at=T0,
    )
    return AlertGroup(
        group_key="g",
        common_labels={"alertname": "DiskFull", "severity": severity},
        alerts={"f1": alert},
    )


def card(subject: Any, card_id: str = "am-1") -> TriageCard:
    return TriageCard(
        card_id=card_id, channel="C0ALERTS", subject=subject, created_at=T0, updated_at=T0
    )


def page(**overrides: Any) -> Page:
    values: dict[str, Any] = {
        "page_id": "p1",
        "person": A,
        "state": "open",
        "raised_at": T0,
        "cards": [PagedCard(card_id="am-1", title="DiskFull", severity="critical", rank=5,
                            channel="C0ALERTS", source="alertmanager")],
        "level_started_at": T0,
        "targets": [Target(user_id=A)],
    }  # fmt: skip
    values.update(overrides)
    return Page.model_validate(values)


# --- what pages -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "pages"),
    [
        (group("critical"), True),
        (group("page"), True),
        (group("warning"), False),
        (group("critical", Status.RESOLVED), False),
        (SentryIssue(issue_id="1", title="Boom", level="fatal"), True),
        (SentryIssue(issue_id="1", title="Boom", level="error"), False),
        (SentryIssue(issue_id="1", title="Boom", level="fatal", status="resolved"), False),
        (
            HeartbeatAlarm(
                name="wd", alertname="Watchdog", timeout_s=600, last_seen=T0, missing_since=T0
            ),
            True,
        ),
    ],
)
def test_page_on_decides_what_pages(subject: Any, pages: bool) -> None:
    assert should_page(card(subject), oncall().page_on) is pages


def test_page_on_with_several_labels_needs_all_of_them() -> None:
    config = oncall(page_on={"alertmanager": {"severity": ["critical"], "team": ["db"]}})
    assert not should_page(card(group()), config.page_on)


# --- where an alert goes ----------------------------------------------------------------------


def test_a_first_alert_raises_a_new_page() -> None:
    assert (
        place(own=None, open_for_person=None, storm=None, now=T0, oncall=oncall()).action == "new"
    )


def test_an_alert_for_someone_already_paged_joins_their_page() -> None:
    decision = place(own=None, open_for_person=page(), storm=page(), now=T0, oncall=oncall())
    assert (decision.action, decision.page_id) == ("join", "p1")


def test_an_alert_within_the_storm_window_joins_an_acknowledged_page() -> None:
    acked = page(state="acked")
    now = T0 + timedelta(seconds=90)
    assert (
        place(own=None, open_for_person=None, storm=acked, now=now, oncall=oncall()).action
        == "join"
    )
    later = T0 + timedelta(minutes=3)
    assert (
        place(own=None, open_for_person=None, storm=acked, now=later, oncall=oncall()).action
        == "new"
    )


def test_a_flapping_alert_that_was_acknowledged_does_not_page_again_within_the_window() -> None:
    acked = page(state="acked")
    now = T0 + timedelta(minutes=20)
    assert (
        place(own=acked, open_for_person=None, storm=None, now=now, oncall=oncall()).action
        == "ignore"
    )
    later = T0 + timedelta(minutes=31)
    assert (
        place(own=acked, open_for_person=None, storm=None, now=later, oncall=oncall()).action
        == "new"
    )


def test_an_alert_that_resolved_before_anyone_acknowledged_and_fires_again_reopens_its_page() -> (
    None
):
    resolved = page(state="resolved")
    now = T0 + timedelta(minutes=4)
    assert (
        place(own=resolved, open_for_person=None, storm=None, now=now, oncall=oncall()).action
        == "reopen"
    )


# --- the ladder --------------------------------------------------------------------------------


def test_each_persons_steps_follow_their_delays_within_the_level() -> None:
    steps = level_steps(page(), oncall())
    assert [(s.via.split(":")[0], s.at - T0) for s in steps] == [
        ("slack", timedelta(0)),
        ("ntfy", timedelta(minutes=1)),
        ("pover", timedelta(minutes=3)),
    ]


def test_do_not_disturb_moves_the_first_loud_step_to_the_start_keeping_the_gaps() -> None:
    loud = page(targets=[Target(user_id=A, loud_now=True, reason="in Do Not Disturb")])
    steps = level_steps(loud, oncall())
    assert [s.at - T0 for s in steps] == [timedelta(0), timedelta(0), timedelta(minutes=2)]


def test_a_step_later_than_the_ack_timeout_is_not_reached_at_that_level() -> None:
    config = oncall(escalation=[{"notify": "schedule:primary", "ack_timeout": "2m"}])
    assert [s.index for s in level_steps(page(), config)] == [0, 1]


def test_a_person_without_a_people_entry_gets_the_slack_dm_only() -> None:
    steps = level_steps(page(targets=[Target(user_id=C)], level=1), oncall())
    assert [s.via for s in steps] == ["slack"]


def test_plan_sends_what_is_due_and_waits_for_the_next_step() -> None:
    move = plan(page(), oncall(), T0 + timedelta(seconds=30))
    assert [s.index for s in move.steps] == [0]
    assert move.next_at == T0 + timedelta(minutes=1)


def test_a_delivered_or_freshly_claimed_step_is_not_sent_again() -> None:
    now = T0 + timedelta(seconds=70)
    done = page(
        deliveries=[Delivery(step_id="r0.l0.U0ALICE.0", user_id=A, via="Slack DM", at=T0, ok=True)],
        claims=[Claim(step_id="r0.l0.U0ALICE.1", token="t", at=now - timedelta(seconds=5))],
    )
    assert plan(done, oncall(), now).steps == []
    stale = now + timedelta(seconds=30)  # the claimer died mid-push: send it again
    assert [s.index for s in plan(done, oncall(), stale).steps] == [1]


def test_the_ladder_escalates_then_repeats_then_is_exhausted() -> None:
    config = oncall()
    end = T0 + timedelta(minutes=5)
    assert (plan(page(), config, end).kind, plan(page(), config, end).level) == ("escalate", 1)
    assert plan(page(level=1), config, end).round == 1
    assert plan(page(level=1, round=2), config, end).kind == "exhaust"


def test_a_page_held_by_a_pause_waits_and_then_starts() -> None:
    held = page(state="waiting", wait_until=T0 + timedelta(hours=1), level_started_at=None)
    assert plan(held, oncall(), T0).next_at == T0 + timedelta(hours=1)
    assert plan(held, oncall(), T0 + timedelta(hours=1)).kind == "start"


def test_closed_pages_do_nothing() -> None:
    for state in ("acked", "resolved", "exhausted"):
        assert plan(page(state=state), oncall(), T0 + timedelta(hours=1)).kind == "idle"


# --- what people read --------------------------------------------------------------------------


def test_a_storm_is_named_by_its_count_and_its_worst_alert() -> None:
    cards = [
        PagedCard(card_id=f"c{i}", title=f"Disk{i}", severity="warning", rank=3,
                  channel="C0ALERTS", source="alertmanager")
        for i in range(11)
    ] + [PagedCard(card_id="x", title="DBDown", severity="critical", rank=5,
                   channel="C0ALERTS", source="alertmanager")]  # fmt: skip
    assert summary(page(cards=cards)) == "12 alert groups firing, worst: DBDown (critical)"


def test_a_page_about_a_storm_says_the_storm_cards_first_line() -> None:
    line = "⛈️ STORM · 12 groups firing · 240 alerts · worst: critical DBDown"
    stormy = page()
    assert summary(stormy, line) == line
    title, _ = push_text(stormy, oncall(), line)
    assert title == f"🚨 {line}"
    assert notice_for(stormy, oncall(), A, line).summary == line


def test_the_primary_card_shows_the_ladder_and_the_others_only_its_state() -> None:
    second = PagedCard(card_id="am-2", title="Other", rank=3, channel="C0ALERTS",
                       source="alertmanager")  # fmt: skip
    two = page(cards=[*page().cards, second])
    now = T0 + timedelta(seconds=10)
    primary = status_for(two, oncall(), "am-1", now, None)
    joined = status_for(two, oncall(), "am-2", now, None)
    assert primary.next_at == T0 + timedelta(minutes=1)
    assert primary.next_what == f"push to <@{A}>"
    assert joined.next_at is None
    assert joined.paging == []
    later = status_for(two, oncall(), "am-2", now + timedelta(seconds=100), None)
    assert later == joined  # nothing changes for it between steps


def test_paged_card_reads_only_models() -> None:
    entry = paged_card(card(group("page")), "DiskFull")
    assert entry is not None
    assert (entry.severity, entry.rank, entry.resolved) == ("page", 5, False)

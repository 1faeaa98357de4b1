"""When a card's subject is closed, and so how long its card is kept: a pure function of the
subject, one rule per kind of card."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.retention import Retention
from bot.models.alert import Alert, AlertGroup, Status
from bot.models.approval import Approval
from bot.models.card import Subject, TriageCard
from bot.models.heartbeat import HeartbeatAlarm
from bot.models.incident import Incident
from bot.models.lifecycle import is_closed, kept_for
from bot.models.page import PageNotice
from bot.models.prompt import StepPrompt
from bot.models.run import PlaybookRun, RunStatus
from bot.models.sentry import SentryIssue, SentryMetricAlert
from bot.models.slots import SlotReport, SlotWatch

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
RETENTION = Retention(resolved_cards=timedelta(days=30), timelines=timedelta(days=90))


def group(*statuses: Status) -> AlertGroup:
    alerts = {
        f"fp{i}": Alert(fingerprint=f"fp{i}", status=s, labels={}, starts_at=NOW)
        for i, s in enumerate(statuses)
    }
    return AlertGroup(group_key="g", alerts=alerts)


def issue(status: str) -> SentryIssue:
    return SentryIssue(issue_id="1", title="KeyError", status=status)


def metric(status: str) -> SentryMetricAlert:
    return SentryMetricAlert(alert_id="7", title="p95", status=status)  # type: ignore[arg-type]


def run(status: RunStatus) -> PlaybookRun:
    return PlaybookRun(
        run_id="r1",
        playbook="quarantine",
        requested_by="U0A",
        channel="C0X",
        created_at=NOW,
        status=status,
    )


def prompt(state: str) -> StepPrompt:
    return StepPrompt(
        run_id="r1",
        step_index=0,
        operator="U0A",
        playbook="quarantine",
        step_description="drain web-1",
        confirm_available_at=NOW,
        state=state,  # type: ignore[arg-type]
    )


def approval(state: str) -> Approval:
    return Approval(
        approval_id="a1",
        description="move topic",
        requested_by="U0A",
        channel="C0X",
        created_at=NOW,
        expires_at=NOW + timedelta(minutes=30),
        state=state,  # type: ignore[arg-type]
    )


def incident(status: str) -> Incident:
    return Incident(
        incident_id="20261123-db",
        title="DB down",
        channel="C0INC",
        declared_by="U0A",
        declared_at=NOW,
        status=status,  # type: ignore[arg-type]
    )


def slot_watch(status: str) -> SlotWatch:
    return SlotWatch(
        database="orders",
        slot="orders_cdc",
        status=status,  # type: ignore[arg-type]
        fired_at=NOW,
        checked_at=NOW,
    )


def notice(state: str) -> PageNotice:
    return PageNotice(page_id="p1", recipient="U0A", state=state, raised_at=NOW)  # type: ignore[arg-type]


def heartbeat(back: bool) -> HeartbeatAlarm:
    return HeartbeatAlarm(
        name="watchdog",
        alertname="Watchdog",
        timeout_s=600,
        last_seen=NOW - timedelta(minutes=10),
        missing_since=NOW,
        back_at=NOW if back else None,
    )


OPEN: list[Subject] = [
    group(Status.FIRING),
    group(Status.FIRING, Status.RESOLVED),
    issue("unresolved"),
    metric("critical"),
    metric("warning"),
    run(RunStatus.RUNNING),
    run(RunStatus.WAITING_APPROVAL),
    run(RunStatus.WAITING_OPERATOR),
    prompt("waiting"),
    prompt("available"),
    approval("pending"),
    approval("approved"),
    incident("open"),
    slot_watch("firing"),
    notice("waiting"),
    notice("open"),
    heartbeat(back=False),
]
CLOSED: list[Subject] = [
    group(Status.RESOLVED, Status.RESOLVED),
    issue("resolved"),
    issue("ignored"),
    metric("resolved"),
    run(RunStatus.SUCCEEDED),
    run(RunStatus.FAILED),
    run(RunStatus.ABORTED),
    prompt("confirmed"),
    prompt("cancelled"),
    prompt("expired"),
    approval("executed"),
    approval("expired"),
    approval("cancelled"),
    incident("resolved"),
    slot_watch("resolved"),
    SlotReport(database="orders", taken_at=NOW),  # a look's snapshot
    notice("acked"),
    notice("resolved"),
    notice("exhausted"),
    heartbeat(back=True),
]


def card(subject: Subject) -> TriageCard:
    return TriageCard(card_id="c", channel="C0X", subject=subject, created_at=NOW, updated_at=NOW)


@pytest.mark.parametrize("subject", OPEN, ids=lambda s: f"{s.kind}")
def test_an_open_subject_keeps_its_card_for_good(subject: Subject) -> None:
    assert not is_closed(subject)
    assert kept_for(card(subject), RETENTION) is None


@pytest.mark.parametrize("subject", CLOSED, ids=lambda s: f"{s.kind}")
def test_a_closed_subject_keeps_its_card_for_the_resolved_card_retention(subject: Subject) -> None:
    assert is_closed(subject)
    expected = timedelta(days=90) if isinstance(subject, Incident) else timedelta(days=30)
    assert kept_for(card(subject), RETENTION) == expected


def test_a_resolved_incident_s_card_lives_as_long_as_its_timeline() -> None:
    # The postmortem reads both: the card for the facts, the timeline for what happened.
    short = Retention(resolved_cards=timedelta(days=7), timelines=timedelta(days=60))
    assert kept_for(card(incident("resolved")), short) == timedelta(days=60)

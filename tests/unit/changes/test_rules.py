"""Which changes an alert may be about: same service and environment, in the two hours
before it started; an alert that names no service gets the latest few instead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.changes.rules import relevant
from bot.models.change import Change

STARTED = datetime(2026, 11, 30, 3, 12, tzinfo=UTC)


def change(n: int, minutes_before: float, service: str | None = None, env: str | None = None):
    return Change(
        change_id=f"c{n}",
        summary=f"change {n}",
        at=STARTED - timedelta(minutes=minutes_before),
        source="webhook",
        service=service,
        environment=env,
    )


def test_the_same_service_s_changes_in_the_window_newest_first() -> None:
    changes = [change(1, 90, "checkout"), change(2, 10, "checkout"), change(3, 5, "payments")]
    shown, matched = relevant(changes, {"service": "checkout"}, STARTED)
    assert [c.change_id for c in shown] == ["c2", "c1"]
    assert matched


def test_job_namespace_and_app_labels_name_the_service_too() -> None:
    changes = [change(1, 10, "checkout")]
    for label in ("job", "namespace", "app"):
        assert relevant(changes, {label: "Checkout"}, STARTED)[0] == changes


def test_another_service_s_deploy_is_not_shown() -> None:
    assert relevant([change(1, 10, "checkout")], {"service": "payments"}, STARTED) == ([], True)


def test_an_environment_on_both_sides_must_agree() -> None:
    changes = [change(1, 10, "checkout", "staging"), change(2, 20, "checkout", "prod")]
    shown, _ = relevant(changes, {"service": "checkout", "env": "prod"}, STARTED)
    assert [c.change_id for c in shown] == ["c2"]


def test_changes_outside_the_two_hours_before_or_after_the_start_do_not_count() -> None:
    changes = [change(1, 130, "checkout"), change(2, -5, "checkout"), change(3, 119, "checkout")]
    assert [c.change_id for c in relevant(changes, {"job": "checkout"}, STARTED)[0]] == ["c3"]


def test_an_alert_without_a_service_gets_the_latest_few_anywhere() -> None:
    changes = [change(n, n, f"svc{n}") for n in range(1, 6)]
    shown, matched = relevant(changes, {"alertname": "HighLatency"}, STARTED)
    assert [c.change_id for c in shown] == ["c1", "c2", "c3"]
    assert not matched


def test_a_change_that_names_no_service_shows_on_any_alert_of_the_window() -> None:
    approved = change(1, 30)  # an approved infrastructure change: no service
    shown, _ = relevant([approved, change(2, 10, "payments")], {"service": "checkout"}, STARTED)
    assert shown == [approved]

"""Alert groups stop growing: resolved alerts leave the group after a retention, or beyond a
count, never within Alertmanager's retry window, and the group keeps counting them."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.alerts.payload import AlertmanagerWebhook
from bot.alerts.rules import apply_notification
from bot.core.retention import Retention
from bot.models.alert import AlertGroup, Status
from bot.models.card import CARD_SCHEMA_VERSION, TriageCard

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
STORED_V1 = Path(__file__).parents[2] / "fixtures" / "stored" / "alert_group_v1.json"
KEEP_AN_HOUR_OR_50 = Retention(resolved_alerts=timedelta(hours=1), resolved_alerts_kept=50)


def fingerprint(pod: int) -> str:
    return hashlib.sha256(f"pod-{pod}".encode()).hexdigest()[:16]


def pod_alert(pod: int, status: str, starts_at: datetime) -> dict[str, object]:
    ended = status == "resolved"
    return {
        "status": status,
        "labels": {"alertname": "PodCrash", "pod": f"pod-{pod}"},
        "annotations": {"summary": f"pod-{pod} restarts"},
        "startsAt": starts_at.isoformat(),
        "endsAt": (starts_at + timedelta(minutes=1)).isoformat()
        if ended
        else "0001-01-01T00:00:00Z",
        "fingerprint": fingerprint(pod),
    }


def notification(*alerts: dict[str, object]) -> AlertmanagerWebhook:
    firing = any(a["status"] == "firing" for a in alerts)
    payload = {
        "version": "4",
        "groupKey": '{}:{alertname="PodCrash"}',
        "status": "firing" if firing else "resolved",
        "receiver": "seawall",
        "groupLabels": {"alertname": "PodCrash"},
        "commonLabels": {"alertname": "PodCrash"},
        "alerts": list(alerts),
    }
    return AlertmanagerWebhook.model_validate_json(json.dumps(payload))


def resolve_pods(
    group: AlertGroup | None, pods: range, at: datetime, retention: Retention
) -> AlertGroup:
    """One notification resolving each of `pods` (each started a minute before `at`)."""
    started = at - timedelta(minutes=1)
    hook = notification(*(pod_alert(p, "resolved", started) for p in pods))
    return apply_notification(group, hook, at, retention).group


def test_resolved_alerts_older_than_the_retention_leave_the_group_and_are_counted() -> None:
    group = resolve_pods(None, range(10), START, KEEP_AN_HOUR_OR_50)
    assert group.count(Status.RESOLVED) == 10
    later = START + timedelta(hours=1, seconds=1)
    hook = notification(pod_alert(99, "firing", later))
    group = apply_notification(group, hook, later, KEEP_AN_HOUR_OR_50).group
    assert set(group.alerts) == {fingerprint(99)}
    assert group.resolved_dropped == 10
    assert group.resolved_total == 10


def test_beyond_the_count_the_oldest_resolved_alerts_leave_first() -> None:
    group = None
    for batch in range(4):  # 4 x 20 resolved, 20 minutes apart: all out of the retry window
        at = START + timedelta(minutes=20 * batch)
        group = resolve_pods(group, range(20 * batch, 20 * batch + 20), at, KEEP_AN_HOUR_OR_50)
    assert group is not None
    kept = {int(a.labels["pod"].removeprefix("pod-")) for a in group.alerts.values()}
    assert len(kept) == 50
    assert set(range(40, 80)) <= kept  # the two latest batches stay whole
    assert len(kept & set(range(20, 40))) == 10  # the one before is cut to the count
    assert not kept & set(range(20))  # the oldest is past the retention too
    assert group.resolved_dropped == 30


def test_resolved_alerts_stay_through_the_retry_window_so_a_late_firing_retry_is_still_stale() -> (
    None
):
    group = resolve_pods(None, range(200), START, KEEP_AN_HOUR_OR_50)  # 4x the count at once
    # Nine minutes later Alertmanager retries an older "firing" notification of pod-7.
    late = START + timedelta(minutes=9)
    retry = notification(pod_alert(7, "firing", START - timedelta(minutes=1)))
    group = apply_notification(group, retry, late, KEEP_AN_HOUR_OR_50).group
    assert group.count(Status.RESOLVED) == 200
    assert group.alerts[fingerprint(7)].status is Status.RESOLVED
    assert group.status is Status.RESOLVED


def test_firing_alerts_never_leave_the_group() -> None:
    firing = notification(*(pod_alert(p, "firing", START) for p in range(80)))
    group = apply_notification(None, firing, START, KEEP_AN_HOUR_OR_50).group
    much_later = START + timedelta(days=3)
    group = resolve_pods(group, range(100, 160), much_later, KEEP_AN_HOUR_OR_50)
    group = resolve_pods(
        group, range(200, 201), much_later + timedelta(hours=2), KEEP_AN_HOUR_OR_50
    )
    assert group.count(Status.FIRING) == 80
    assert group.count(Status.RESOLVED) == 1


def test_a_churning_group_keeps_a_bounded_number_of_alerts() -> None:
    # Every 30 s a new pod alert fires and the previous one resolves, for a day.
    group, kept = None, []
    for tick in range(2_880):
        at = START + timedelta(seconds=30 * tick)
        alerts = [pod_alert(tick, "firing", at)]
        if tick:
            alerts.append(pod_alert(tick - 1, "resolved", at - timedelta(seconds=30)))
        group = apply_notification(group, notification(*alerts), at, KEEP_AN_HOUR_OR_50).group
        kept.append(len(group.alerts))
    assert group is not None
    assert max(kept) <= 1 + 50
    assert group.resolved_total == 2_879
    assert group.first_starts_at == START


def test_the_earliest_start_survives_the_alerts_that_leave() -> None:
    group = resolve_pods(None, range(3), START, KEEP_AN_HOUR_OR_50)
    later = START + timedelta(hours=2)
    group = apply_notification(
        group, notification(pod_alert(9, "firing", later)), later, KEEP_AN_HOUR_OR_50
    ).group
    assert group.first_starts_at == START - timedelta(minutes=1)


def test_a_group_stored_by_the_previous_release_loads_and_its_resolved_alerts_leave_later() -> None:
    card = TriageCard.model_validate_json(STORED_V1.read_text(encoding="utf-8"))
    assert card.schema_version == 1
    group = card.subject
    assert isinstance(group, AlertGroup)
    assert group.count(Status.RESOLVED) == 3
    assert group.resolved_dropped == 0
    keep_one = Retention(resolved_alerts_kept=1)
    upgraded_at = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    # Stored before resolution times were kept: counted from the first delivery after the
    # upgrade, so none leaves inside the retry window.
    still_firing = notification(pod_alert(0, "firing", START))
    group = apply_notification(group, still_firing, upgraded_at, keep_one).group
    assert group.count(Status.RESOLVED) == 3
    later = upgraded_at + timedelta(minutes=16)
    group = apply_notification(group, still_firing, later, keep_one).group
    assert group.count(Status.RESOLVED) == 1
    assert group.resolved_dropped == 2
    assert CARD_SCHEMA_VERSION == 2

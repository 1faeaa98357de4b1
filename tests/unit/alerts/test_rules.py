"""Folding Alertmanager notifications into groups: retries, reordering, missing fields."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bot.alerts.payload import AlertmanagerWebhook
from bot.alerts.rules import (
    apply_notification,
    card_id_for_group,
    delivery_digest,
    filter_matcher,
    silence_matchers,
    silence_scope,
)
from bot.models.alert import Status, matchers_digest
from tests.fixtures.alertmanager_payloads import QUIRKS, group_payload

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def hook(payload: dict[str, object] | bytes) -> AlertmanagerWebhook:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return AlertmanagerWebhook.model_validate_json(raw)


def test_first_notification_creates_a_firing_group() -> None:
    update = apply_notification(None, hook(group_payload("HighLatency", alerts=2)), NOW)
    assert update.group.status is Status.FIRING
    assert update.group.count(Status.FIRING) == 2
    assert update.previous_status is None
    assert not update.status_changed


def test_resolve_flips_the_group_and_records_the_time() -> None:
    first = apply_notification(None, hook(group_payload("Disk")), NOW).group
    update = apply_notification(
        first, hook(group_payload("Disk", status="resolved", alerts=0, resolved=1)), NOW
    )
    assert update.group.status is Status.RESOLVED
    assert update.status_changed
    assert update.group.resolved_at == NOW


def test_the_group_handed_in_is_left_as_it_was() -> None:
    first = apply_notification(None, hook(group_payload("Disk", alerts=2)), NOW).group
    before = first.model_dump_json()
    apply_notification(first, hook(group_payload("Disk", status="resolved", resolved=2)), NOW)
    assert first.model_dump_json() == before


def test_the_same_notification_twice_changes_no_alert() -> None:
    payload = hook(group_payload("Disk", alerts=3))
    once = apply_notification(None, payload, NOW).group
    twice = apply_notification(once, payload, NOW)
    assert twice.changed_alerts == []
    assert twice.group.alerts == once.alerts


def test_a_late_firing_retry_does_not_undo_a_resolve() -> None:
    resolved = hook(group_payload("Disk", status="resolved", alerts=0, resolved=1))
    late_firing = hook(group_payload("Disk", alerts=1))
    group = apply_notification(None, resolved, NOW).group
    update = apply_notification(group, late_firing, NOW)
    assert update.group.status is Status.RESOLVED


def test_a_new_occurrence_after_a_resolve_fires_again() -> None:
    resolved = hook(group_payload("Disk", status="resolved", alerts=0, resolved=1))
    refire = hook(group_payload("Disk", alerts=1, starts_at="2026-11-23T11:00:00Z"))
    group = apply_notification(None, resolved, NOW).group
    update = apply_notification(group, refire, NOW)
    assert update.group.status is Status.FIRING
    assert update.status_changed
    assert update.group.resolved_at is None


def test_missing_fingerprints_get_stable_stand_ins() -> None:
    payload = hook(QUIRKS["no_fingerprint_cjk_regex_group_key"])
    first = apply_notification(None, payload, NOW).group
    again = apply_notification(None, payload, NOW).group
    assert len(first.alerts) == 2
    assert set(first.alerts) == set(again.alerts)


def test_alerts_without_status_follow_the_group_status() -> None:
    group = apply_notification(None, hook(QUIRKS["many_alerts_without_status"]), NOW).group
    assert group.count(Status.FIRING) == 19


def test_a_label_named_status_does_not_confuse_alert_status() -> None:
    group = apply_notification(None, hook(QUIRKS["mixed_with_status_label"]), NOW).group
    assert group.count(Status.FIRING) == 1
    assert group.count(Status.RESOLVED) == 1


def test_legacy_integer_group_key_becomes_text() -> None:
    payload = hook(QUIRKS["legacy_v3_integer_group_key"])
    assert payload.group_key == "43434343434343434343"
    assert card_id_for_group(payload.group_key).startswith("am-")


def test_silence_matchers_are_the_labels_all_stored_alerts_share() -> None:
    group = apply_notification(None, hook(QUIRKS["empty_group_labels"]), NOW).group
    assert silence_matchers(group) == {"alertname": "nodeDown", "status": "High"}


def test_silence_matchers_keep_the_environment_the_alerts_share() -> None:
    payload = group_payload("TargetDown", alerts=2, extra_labels={"env": "prod", "cluster": "eu"})
    group = apply_notification(None, hook(payload), NOW).group
    assert silence_matchers(group) == {
        "alertname": "TargetDown",
        "severity": "critical",
        "env": "prod",
        "cluster": "eu",
    }


def test_silence_matchers_come_from_every_stored_alert_not_the_last_delivery() -> None:
    first = apply_notification(None, hook(group_payload("Disk", extra_labels={"env": "a"})), NOW)
    later = group_payload("Disk", extra_labels={"env": "b"})
    later["alerts"][0]["fingerprint"] = "another-alert"  # type: ignore[index]
    group = apply_notification(first.group, hook(later), NOW).group
    assert "env" not in silence_matchers(group)


def test_silence_matchers_leave_out_empty_values() -> None:
    payload = group_payload("Disk", extra_labels={"team": ""})
    group = apply_notification(None, hook(payload), NOW).group
    assert "team" not in silence_matchers(group)


def test_a_filter_matcher_escapes_quotes_backslashes_and_newlines() -> None:
    assert filter_matcher("job", 'a"b\\c\nd') == 'job="a\\"b\\\\c\\nd"'


def test_a_silence_is_too_broad_when_it_reaches_more_alerts_elsewhere_than_on_the_card() -> None:
    group = apply_notification(None, hook(group_payload("Disk", alerts=2)), NOW).group
    own = list(group.alerts)
    matchers = silence_matchers(group)
    assert not silence_scope(group, matchers, [*own, "x1", "x2"]).too_broad
    scope = silence_scope(group, matchers, [*own, "x1", "x2", "x3"])
    assert (scope.on_card, scope.elsewhere, scope.too_broad) == (2, 3, True)


def test_the_confirmation_digest_changes_when_the_matchers_do() -> None:
    one = apply_notification(None, hook(group_payload("Disk")), NOW).group
    two = apply_notification(one, hook(group_payload("Disk", alerts=2)), NOW).group
    assert matchers_digest(silence_matchers(one)) != matchers_digest(silence_matchers(two))
    assert matchers_digest({"a": "1", "b": "2"}) == matchers_digest({"b": "2", "a": "1"})


def test_delivery_digest_ignores_key_order_but_not_state() -> None:
    payload = group_payload("Disk", alerts=2)
    reordered = dict(reversed(list(payload.items())))
    assert delivery_digest(hook(payload)) == delivery_digest(hook(reordered))
    resolved = group_payload("Disk", status="resolved", alerts=0, resolved=2)
    assert delivery_digest(hook(payload)) != delivery_digest(hook(resolved))


@given(st.permutations(["firing-1", "firing-2", "resolved"]))
def test_any_delivery_order_ends_resolved_when_the_resolve_is_newest(order: list[str]) -> None:
    payloads = {
        "firing-1": group_payload("Flap", alerts=1),
        "firing-2": group_payload("Flap", alerts=1, summary="still failing"),
        "resolved": group_payload("Flap", status="resolved", alerts=0, resolved=1),
    }
    group = None
    for name in order:
        group = apply_notification(group, hook(payloads[name]), NOW).group
    assert group is not None
    assert group.status is Status.RESOLVED


def test_a_group_first_heard_of_in_a_resolve_is_marked_so() -> None:
    resolved = group_payload("Disk", status="resolved", alerts=0, resolved=1)
    assert apply_notification(None, hook(resolved), NOW).group.first_heard_resolved


def test_a_group_seen_firing_first_is_not_marked_when_it_resolves() -> None:
    firing = apply_notification(None, hook(group_payload("Disk")), NOW).group
    resolved = group_payload("Disk", status="resolved", alerts=0, resolved=1)
    assert not apply_notification(firing, hook(resolved), NOW).group.first_heard_resolved

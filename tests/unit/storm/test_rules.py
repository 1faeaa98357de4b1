"""Storm decisions: when a storm starts and ends, what a group's row says, what counts as a
change, and the order the groups' own cards follow in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.alerts.payload import AlertmanagerWebhook
from bot.alerts.rules import apply_notification, card_id_for_group
from bot.core.storm_config import THRESHOLD_MAX, StormConfig
from bot.models.alert import Alert, AlertGroup, Status
from bot.models.card import Ack, TriageCard
from bot.models.storm import Storm, StormRow
from bot.poster import PASS_SIZE
from bot.storm import rules
from tests.fixtures.alertmanager_payloads import group_payload

NOW = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)
CONFIG = StormConfig()


def card_for(name: str, **payload: object) -> TriageCard:
    hook = AlertmanagerWebhook.model_validate(group_payload(name, **payload))  # type: ignore[arg-type]
    group = apply_notification(None, hook, NOW).group
    return TriageCard(
        card_id=card_id_for_group(hook.group_key),
        channel="C0ALERTS",
        subject=group,
        created_at=NOW,
        updated_at=NOW,
    )


def row(card_id: str, firing: int = 1, **kw: object) -> StormRow:
    return StormRow(card_id=card_id, revision=1, name=card_id, firing=firing, **kw)  # type: ignore[arg-type]


def storm(rows: list[StormRow], changed_at: datetime = NOW) -> Storm:
    return Storm(
        channel="C0ALERTS",
        started_at=NOW,
        rows=rows,
        changed_at=changed_at,
        refreshed_at=changed_at,
        quiet=timedelta(minutes=10),
    )


def test_alert_cards_are_recognised_by_the_prefix_the_alerts_feature_gives_them() -> None:
    assert rules.is_alert_card(card_id_for_group('{}:{alertname="X"}'))
    assert not rules.is_alert_card("sentry-issue-1")
    assert rules.is_storm_card(rules.storm_card_id("C0ALERTS", NOW))


def test_more_new_alert_cards_than_the_threshold_is_a_storm() -> None:
    assert not rules.is_storm(10, CONFIG)
    assert rules.is_storm(11, CONFIG)
    assert not rules.is_storm(500, StormConfig(enabled=False))


def test_the_largest_threshold_is_one_a_single_pass_can_exceed() -> None:
    # A storm is counted in one poster pass: a higher threshold would never start one.
    assert THRESHOLD_MAX == PASS_SIZE - 1


def test_a_row_says_the_groups_name_labels_severity_counts_and_acknowledgement() -> None:
    card = card_for("DiskFull", alerts=3, resolved=2, severity="info")
    card.ack = Ack(user_id="U0ALICE", at=NOW)
    found = rules.row_for(card, 7, "1772506800.000100", StormConfig(summary_only=["INFO"]))
    assert found is not None
    assert (found.name, found.severity, found.firing, found.resolved) == ("DiskFull", "info", 3, 2)
    assert (found.revision, found.ts, found.acked, found.summary_only) == (
        7,
        "1772506800.000100",
        True,
        True,
    )


def test_a_group_without_a_severity_label_takes_its_worst_alerts() -> None:
    group = AlertGroup(
        group_key="k",
        alerts={
            f: Alert(fingerprint=f, status=Status.FIRING, labels={"severity": s}, starts_at=NOW)
            for f, s in (("a", "warning"), ("b", "critical"), ("c", "info"))
        },
    )
    assert rules.group_severity(group) == "critical"


def test_new_groups_and_counts_are_changes_of_state_links_are_minor() -> None:
    before = storm([row("am-1"), row("am-2")], changed_at=NOW)
    later = NOW + timedelta(minutes=1)
    same, change = rules.merge(before, [row("am-1"), row("am-2")], later)
    assert change == "none"
    assert same is before
    linked, change = rules.merge(before, [row("am-1", ts="1.2"), row("am-2")], later)
    assert change == "minor"
    assert linked.changed_at == NOW
    grown, change = rules.merge(before, [row("am-1", firing=2), row("am-2")], later)
    assert change == "state"
    assert grown.changed_at == later
    joined, change = rules.merge(before, [row("am-1"), row("am-2"), row("am-3")], later)
    assert change == "state"
    assert len(joined.rows) == 3


def test_a_minor_change_waits_for_its_turn_a_change_of_state_does_not() -> None:
    current = storm([row("am-1")])
    assert rules.refresh_wait(current, "state", NOW) == timedelta(0)
    assert rules.refresh_wait(current, "minor", NOW + timedelta(seconds=4)) == timedelta(seconds=6)
    assert rules.refresh_wait(current, "none", NOW) is None


def test_a_storm_is_over_when_everything_resolved_or_after_its_quiet_time() -> None:
    assert rules.ending(storm([row("am-1", firing=0, resolved=3)]), NOW) == "resolved"
    firing = storm([row("am-1")])
    assert rules.ending(firing, NOW + timedelta(minutes=9)) is None
    assert rules.ending(firing, NOW + timedelta(minutes=10)) == "quiet"
    assert rules.quiet_at(firing) == NOW + timedelta(minutes=10)


def test_the_groups_cards_follow_worst_first_then_oldest_and_held_ones_never() -> None:
    rows = [
        row("am-info", severity="info", started_at=NOW),
        row("am-crit-new", severity="critical", started_at=NOW + timedelta(seconds=5)),
        row("am-crit-old", severity="critical", started_at=NOW),
        row("am-warn", severity="warning", started_at=NOW),
        row("am-posted", severity="critical", ts="1.1"),
        row("am-held", severity="debug", summary_only=True),
        row("am-resolved", firing=0, severity="critical"),
    ]
    order = rules.posting_order(rules.merge(storm([]), rows, NOW)[0])
    assert sorted(order, key=order.__getitem__) == [
        "am-crit-old",
        "am-crit-new",
        "am-warn",
        "am-info",
        "am-resolved",
    ]
    assert min(order.values()) > int(NOW.timestamp() * 1000)  # after the channel's other cards


def test_held_groups_still_firing_get_their_own_card_when_the_storm_ends() -> None:
    ended = storm(
        [
            row("am-held-firing", summary_only=True),
            row("am-held-resolved", firing=0, summary_only=True),
            row("am-posted-held", summary_only=True, ts="1.1"),
        ]
    )
    assert rules.released_at_end(ended) == ["am-held-firing"]


def test_a_storms_matchers_are_the_labels_every_firing_alert_shares() -> None:
    one = card_for("DiskFull", alerts=2, extra_labels={"team": "storage", "env": "prod"})
    two = card_for("NodeDown", alerts=1, extra_labels={"team": "storage", "env": ""})
    groups = [c.subject for c in (one, two) if isinstance(c.subject, AlertGroup)]
    assert rules.storm_matchers(groups) == {"severity": "critical", "team": "storage"}
    assert rules.storm_matchers([]) == {}
    assert len(rules.firing_fingerprints(groups)) == 3

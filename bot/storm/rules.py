"""Storm decisions, pure: when a channel is in a storm, what the storm card lists, in what
order the groups' own cards follow, when the card is rebuilt, and when the storm is over.

bot/storm/flow.py does the I/O: it reads the groups' cards and the outbox, and stores what
these rules decide.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from bot.cards.alert_group import alert_name, first_start, severity
from bot.core.storm_config import StormConfig
from bot.models.alert import AlertGroup, Status
from bot.models.card import TriageCard
from bot.models.severity import severity_rank
from bot.models.storm import EndReason, Storm, StormRow, worst_first

# Alert-group cards are "am-<hash of the groupKey>" (bot/alerts/rules.py: card_id_for_group;
# a unit test keeps the two in step). Storms count only them: the storm card lists alert
# groups by severity and alertname.
ALERT_CARD_PREFIX = "am-"
STORM_CARD_PREFIX = "storm-"
# A change that only adds links to the groups' cards (or acknowledgements) is shown at most
# this often: the cards appear at one a second, and chat.update is Tier 3.
MINOR_REFRESH = timedelta(seconds=10)
# Outbox scores (bot/store.py: when a card became dirty, in ms) are ~1.8e12 today; the storm's
# groups sort after every other card of the channel, worst first, and the storm card first.
MEMBER_SCORE_BASE = 10**13
STORM_CARD_SCORE = 0

Change = Literal["none", "minor", "state"]


def is_alert_card(card_id: str) -> bool:
    return card_id.startswith(ALERT_CARD_PREFIX)


def is_storm_card(card_id: str) -> bool:
    return card_id.startswith(STORM_CARD_PREFIX)


def storm_card_id(channel: str, now: datetime) -> str:
    """One card per storm: a later storm in the same channel gets a new message."""
    return f"{STORM_CARD_PREFIX}{channel}-{now:%Y%m%d%H%M%S}"


def is_storm(new_alert_cards: int, config: StormConfig) -> bool:
    """More new alert cards waiting than Slack can post in a few seconds (one a second)."""
    return config.enabled and new_alert_cards > config.threshold


def new_storm(channel: str, now: datetime, config: StormConfig, team_url: str | None) -> Storm:
    return Storm(
        channel=channel,
        started_at=now,
        changed_at=now,
        refreshed_at=now,
        quiet=config.quiet,
        team_url=team_url,
        summary_only=list(config.summary_only),
    )


def group_severity(group: AlertGroup) -> str | None:
    """The group's severity label, else the worst of its alerts'."""
    found = severity(group)
    if found:
        return found
    labels = [a.labels.get("severity") for a in group.alerts.values()]
    return max((s for s in labels if s), key=severity_rank, default=None)


def row_for(
    card: TriageCard, revision: int, ts: str | None, config: StormConfig
) -> StormRow | None:
    """How the storm card lists an alert group's card (None: not an alert group)."""
    group = card.subject
    if not isinstance(group, AlertGroup):
        return None
    sev = group_severity(group)
    labels = " ".join(f"{k}={v}" for k, v in sorted(group.group_labels.items()) if k != "alertname")
    return StormRow(
        card_id=card.card_id,
        revision=revision,
        name=alert_name(group),
        labels=labels,
        severity=sev,
        firing=group.count(Status.FIRING),
        resolved=group.resolved_total,
        started_at=first_start(group),
        ts=ts,
        acked=card.ack is not None,
        summary_only=(sev or "").lower() in config.summary_only,
    )


def merge(storm: Storm, rows: list[StormRow], now: datetime) -> tuple[Storm, Change]:
    """The storm with `rows` (every group's latest row), and what kind of change that is: a
    group's state (new group, counts) restarts the quiet time; a link or an
    acknowledgement alone is minor."""
    before = {r.card_id: r for r in storm.rows}
    after = {r.card_id: r for r in rows}
    state = before.keys() != after.keys() or any(
        before[i].state() != after[i].state() for i in after
    )
    minor = any(before[i] != after[i] for i in after if i in before)
    change: Change = "state" if state else "minor" if minor else "none"
    if change == "none":
        return storm, change
    updated = storm.model_copy(
        update={
            "rows": sorted(rows, key=worst_first),
            "changed_at": now if state else storm.changed_at,
        }
    )
    return updated, change


def refresh_wait(storm: Storm, change: Change, now: datetime) -> timedelta | None:
    """How long before the card may show `change` (zero: now); None when there is nothing
    to show."""
    if change == "none":
        return None
    if change == "state":
        return timedelta(0)
    return max(timedelta(0), storm.refreshed_at + MINOR_REFRESH - now)


def ending(storm: Storm, now: datetime) -> EndReason | None:
    """Why the storm is over now, if it is: every group resolved, or nothing changed for the
    quiet time."""
    if storm.is_over:
        return storm.end_reason
    if storm.rows and not storm.firing_rows():
        return "resolved"
    if now - storm.changed_at >= storm.quiet:
        return "quiet"
    return None


def quiet_at(storm: Storm) -> datetime:
    """When the storm is over if nothing changes before."""
    return storm.changed_at + storm.quiet


def posting_order(storm: Storm) -> dict[str, int]:
    """Outbox scores of the groups whose own card is still to be posted: worst first
    (severity, then age), after the channel's other cards."""
    waiting = [r for r in storm.rows if r.ts is None and not r.summary_only]
    return {r.card_id: MEMBER_SCORE_BASE + i for i, r in enumerate(waiting)}


def held(storm: Storm) -> list[StormRow]:
    """Groups shown on the storm card alone while it lasts (summary-only severities)."""
    return [r for r in storm.rows if r.summary_only and r.ts is None]


def released_at_end(storm: Storm) -> list[str]:
    """Held groups that still fire when the storm is over: they get their own card then,
    since no live storm card shows them any more."""
    return [r.card_id for r in held(storm) if r.is_firing]


def end_reply(storm: Storm) -> str:
    """The thread reply of the storm card when the storm ends."""
    if storm.end_reason == "resolved":
        return f"🌤️ Storm over: all {len(storm.rows):,} groups resolved."
    firing = len(storm.firing_rows())
    return (
        f"🌤️ Storm over: nothing changed for a while; {firing:,} of {len(storm.rows):,} groups "
        "still firing, each on its own card."
    )


def storm_matchers(groups: list[AlertGroup]) -> dict[str, str]:
    """Equality matchers for a whole storm: the labels every firing alert of its groups
    shares (empty values left out: Alertmanager reads `name=""` as "absent", which would
    widen the silence). Empty when they share none: one silence cannot cover the storm."""
    firing = [a for g in groups for a in g.alerts.values() if a.status is Status.FIRING]
    if not firing:
        return {}
    common = dict(firing[0].labels)
    for alert in firing[1:]:
        common = {k: v for k, v in common.items() if alert.labels.get(k) == v}
        if not common:
            break
    return {k: v for k, v in common.items() if v}


def firing_fingerprints(groups: list[AlertGroup]) -> set[str]:
    return {a.fingerprint for g in groups for a in g.alerts.values() if a.status is Status.FIRING}

"""Pure rules for folding Alertmanager notifications into an AlertGroup.

Deliveries can repeat (retries), arrive out of order (a retried "firing" after the
"resolved"), omit fingerprints or per-alert status. Every rule here is a pure function, so
the same notification applied twice yields the same group.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from bot.alerts.payload import AlertmanagerAlert, AlertmanagerWebhook
from bot.core.retention import RESOLVED_ALERTS_MIN, Retention
from bot.models.alert import Alert, AlertGroup, SilenceScope, Status

# Go's zero time, which Alertmanager sends as endsAt when an alert has no known end.
_ZERO_TIME_YEAR = 1


def card_id_for_group(group_key: str) -> str:
    """Short, Slack-safe card id for a groupKey (groupKeys can be kilobytes of regex)."""
    return "am-" + hashlib.sha256(group_key.encode()).hexdigest()[:24]


def fingerprint_for(labels: dict[str, str]) -> str:
    """Stand-in fingerprint from the label set, for senders that omit it."""
    canonical = json.dumps(sorted(labels.items()), separators=(",", ":"))
    return "sw" + hashlib.sha256(canonical.encode()).hexdigest()[:14]


def delivery_digest(hook: AlertmanagerWebhook) -> str:
    """Identity of a delivery for retry de-duplication: group, status and each alert's state."""
    alerts = sorted(
        (
            a.fingerprint or fingerprint_for(a.labels),
            a.status or "",
            a.starts_at.isoformat(),
            a.ends_at.isoformat() if a.ends_at else "",
        )
        for a in hook.alerts
    )
    material = json.dumps([hook.group_key, hook.status, alerts], separators=(",", ":"))
    return hashlib.sha256(material.encode()).hexdigest()


def _ends_at(alert: AlertmanagerAlert) -> datetime | None:
    if alert.ends_at is None or alert.ends_at.year == _ZERO_TIME_YEAR:
        return None
    return alert.ends_at


def to_alert(alert: AlertmanagerAlert, group_status: str, received_at: datetime) -> Alert:
    """Normalise one payload alert; infer a missing status from endsAt, then the group."""
    ends_at = _ends_at(alert)
    if alert.status is not None:
        status = Status(alert.status)
    elif group_status == Status.RESOLVED or (ends_at is not None and ends_at <= received_at):
        status = Status.RESOLVED
    else:
        status = Status.FIRING
    return Alert(
        fingerprint=alert.fingerprint or fingerprint_for(alert.labels),
        status=status,
        labels=alert.labels,
        annotations=alert.annotations,
        starts_at=alert.starts_at,
        ends_at=ends_at,
        generator_url=alert.generator_url,
    )


def is_stale(stored: Alert, incoming: Alert) -> bool:
    """True when `incoming` reports an older state of the alert than we already hold."""
    if stored.starts_at != incoming.starts_at:
        return stored.starts_at > incoming.starts_at
    # Same occurrence: resolution is final for it; a firing report after it is a late retry.
    return stored.status is Status.RESOLVED and incoming.status is Status.FIRING


@dataclass
class GroupUpdate:
    group: AlertGroup
    previous_status: Status | None
    changed_alerts: list[Alert] = field(default_factory=list)

    @property
    def status_changed(self) -> bool:
        return self.previous_status is not None and self.previous_status is not self.group.status


def with_resolution_seen(incoming: Alert, stored: Alert | None, received_at: datetime) -> Alert:
    """`incoming` stamped with when Seawall first saw its occurrence resolved (kept across
    repeats of the same resolution, so a repeat is still equal to what is stored)."""
    if incoming.status is not Status.RESOLVED:
        return incoming
    same_resolution = (
        stored is not None
        and stored.status is Status.RESOLVED
        and stored.starts_at == incoming.starts_at
        and stored.resolved_seen_at is not None
    )
    seen = stored.resolved_seen_at if same_resolution and stored is not None else received_at
    return incoming.model_copy(update={"resolved_seen_at": seen})


def drop_old_resolved(group: AlertGroup, now: datetime, retention: Retention) -> None:
    """Take resolved alerts out of the group once older than `retention.resolved_alerts`, or
    beyond the `resolved_alerts_kept` most recent ones, and count them (the card shows the
    counts). None leaves within RESOLVED_ALERTS_MIN of its resolution: a late "firing" retry
    of it must still meet the resolved alert, or it would bring it back (`is_stale`). So a
    group holds its firing alerts plus at most max(kept, resolutions of the last 15 minutes)."""
    resolved = []
    for fingerprint, alert in group.alerts.items():
        if alert.status is not Status.RESOLVED:
            continue
        if alert.resolved_seen_at is None:
            # Stored before schema 2: its time counts from now, so it cannot leave too early.
            alert = alert.model_copy(update={"resolved_seen_at": now})
            group.alerts[fingerprint] = alert
        resolved.append(alert)
    resolved.sort(key=lambda a: (a.resolved_seen_at or now, a.fingerprint), reverse=True)
    dropped = 0
    for rank, alert in enumerate(resolved):
        age = now - (alert.resolved_seen_at or now)
        if age < RESOLVED_ALERTS_MIN:
            continue
        if age >= retention.resolved_alerts or rank >= retention.resolved_alerts_kept:
            del group.alerts[alert.fingerprint]
            dropped += 1
    group.resolved_dropped += dropped


def apply_notification(
    group: AlertGroup | None,
    hook: AlertmanagerWebhook,
    received_at: datetime,
    retention: Retention | None = None,
) -> GroupUpdate:
    """Fold one notification into the group (None: first notification of the group)."""
    previous_status = group.status if group is not None else None
    # A shallow copy with its own alerts dict is enough: every field below is replaced, not
    # edited, and alerts are frozen.
    merged = (
        group.model_copy(update={"alerts": dict(group.alerts)})
        if group is not None
        else AlertGroup(group_key=hook.group_key)
    )
    changed: list[Alert] = []
    for raw in hook.alerts:
        incoming = to_alert(raw, hook.status, received_at)
        stored = merged.alerts.get(incoming.fingerprint)
        if stored is not None and is_stale(stored, incoming):
            continue
        incoming = with_resolution_seen(incoming, stored, received_at)
        if incoming == stored:
            continue
        merged.alerts[incoming.fingerprint] = incoming
        changed.append(incoming)
        if merged.first_starts_at is None or incoming.starts_at < merged.first_starts_at:
            merged.first_starts_at = incoming.starts_at
    if merged.first_starts_at is None and merged.alerts:  # a group stored before schema 2
        merged.first_starts_at = min(a.starts_at for a in merged.alerts.values())
    drop_old_resolved(merged, received_at, retention or Retention())

    merged.receiver = hook.receiver
    merged.group_labels = hook.group_labels
    merged.common_labels = hook.common_labels
    merged.common_annotations = hook.common_annotations
    merged.external_url = hook.external_url
    merged.truncated_alerts = hook.truncated_alerts
    merged.notifications += 1
    if group is None and merged.status is Status.RESOLVED:
        merged.first_heard_resolved = True
    if merged.status is Status.RESOLVED:
        merged.resolved_at = merged.resolved_at or received_at
    else:
        merged.resolved_at = None
    return GroupUpdate(group=merged, previous_status=previous_status, changed_alerts=changed)


def routing_labels(group: AlertGroup) -> dict[str, str]:
    """Labels used to choose a channel: common labels, else the group's own labels."""
    return {**group.group_labels, **group.common_labels}


def silence_matchers(group: AlertGroup) -> dict[str, str]:
    """Equality matchers for the alerts of this card: the group labels plus every label that
    all its stored alerts share (env, cluster, namespace... when present).

    From the stored alerts, not Alertmanager's commonLabels, which describe one delivery (and
    are absent from some senders). The group labels alone silenced `alertname="TargetDown"` in
    every environment routed elsewhere. Empty values are left out: Alertmanager reads
    `name=""` as "label absent", which would widen the silence."""
    alerts = list(group.alerts.values())
    common = dict(alerts[0].labels) if alerts else dict(group.common_labels)
    for alert in alerts[1:]:
        common = {k: v for k, v in common.items() if alert.labels.get(k) == v}
    return {k: v for k, v in {**common, **group.group_labels}.items() if v}


def filter_matcher(name: str, value: str) -> str:
    """One equality matcher in Alertmanager's filter syntax: name="value", with `\\`, `"`
    and newlines escaped as its parser expects."""
    quoted = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'{name}="{quoted}"'


def silence_scope(
    group: AlertGroup, matchers: dict[str, str], matched_fingerprints: list[str]
) -> SilenceScope:
    """Count what Alertmanager says `matchers` select (active, not yet silenced or inhibited)
    against the card's own firing alerts."""
    elsewhere = sum(1 for f in set(matched_fingerprints) if f not in group.alerts)
    return SilenceScope(matchers=matchers, on_card=group.count(Status.FIRING), elsewhere=elsewhere)

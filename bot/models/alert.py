"""An Alertmanager alert group as Seawall knows it, merged over deliveries (bot/alerts/rules.py)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Status(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class Alert(BaseModel):
    """One alert (identity: fingerprint) as last reported."""

    # Replaced, never edited: a group update can then share unchanged alerts with the old
    # group instead of deep-copying them (most of a delivery's CPU, bench/ingest).
    model_config = ConfigDict(frozen=True)

    fingerprint: str
    status: Status
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime
    ends_at: datetime | None = None
    generator_url: str = ""
    # When Seawall first stored this occurrence as resolved (its own clock, not the sender's):
    # how long it stays listed counts from here (bot/alerts/rules.py: drop_old_resolved).
    # Absent on cards stored before schema 2.
    resolved_seen_at: datetime | None = None


class AlertGroup(BaseModel):
    """An Alertmanager notification group (identity: groupKey), merged over deliveries."""

    kind: Literal["alertmanager"] = "alertmanager"
    group_key: str
    receiver: str = ""
    group_labels: dict[str, str] = Field(default_factory=dict)
    common_labels: dict[str, str] = Field(default_factory=dict)
    common_annotations: dict[str, str] = Field(default_factory=dict)
    external_url: str = ""
    truncated_alerts: int = 0
    alerts: dict[str, Alert] = Field(default_factory=dict)
    notifications: int = 0
    resolved_at: datetime | None = None
    # The first delivery Seawall stored for this group was already entirely resolved: Seawall
    # never saw it fire, so its earlier state was lost (e.g. Redis restarted without
    # persistence) or it fired before Seawall was set up. The card says so.
    first_heard_resolved: bool = False
    # Resolved alerts that left `alerts` (too old, or beyond the most recent few): still counted
    # on the card, so a group that churns stays small without forgetting what it saw.
    resolved_dropped: int = 0
    first_starts_at: datetime | None = None  # the earliest alert ever seen, dropped ones too

    @property
    def status(self) -> Status:
        firing = any(a.status is Status.FIRING for a in self.alerts.values())
        return Status.FIRING if firing else Status.RESOLVED

    def count(self, status: Status) -> int:
        """Alerts listed in the group with this status (not those that left it)."""
        return sum(1 for a in self.alerts.values() if a.status is status)

    @property
    def resolved_total(self) -> int:
        """Resolved alerts the group has seen: listed ones and those that left it."""
        return self.count(Status.RESOLVED) + self.resolved_dropped


def matchers_digest(matchers: dict[str, str]) -> str:
    """What a "Silence anyway" button confirms: exactly these matchers, nothing else."""
    canonical = json.dumps(sorted(matchers.items()), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class SilenceScope:
    """What a silence with `matchers` would cover, counted among firing alerts."""

    matchers: dict[str, str]
    on_card: int  # firing alerts of this card
    elsewhere: int  # firing alerts the matchers select that are not on this card

    @property
    def too_broad(self) -> bool:
        """More of other cards' alerts than of this card's: ask before silencing them."""
        return self.elsewhere > self.on_card

    @property
    def digest(self) -> str:
        return matchers_digest(self.matchers)

"""Incidents: a channel, a pinned summary card, and a timeline.

The incident lives in its summary card (`incident-{incident_id}`): every change is one atomic
card mutation, and the pinned Slack message follows by itself. This module holds the models
and the pure naming rules; bot/incident_flow.py does the work.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Severity = Literal["sev1", "sev2", "sev3", "sev4"]
SEVERITIES: tuple[Severity, ...] = ("sev1", "sev2", "sev3", "sev4")
DEFAULT_SEVERITY: Severity = "sev2"

# Slack: channel names are lowercase letters, digits, hyphens and underscores, <= 80 chars.
CHANNEL_NAME_MAX = 80
CHANNEL_PREFIX = "inc-"
# "inc-" + "YYYYMMDD-" + slug + "-NN": the slug leaves room for a suffix on name_taken.
SLUG_MAX = CHANNEL_NAME_MAX - len(CHANNEL_PREFIX) - len("YYYYMMDD-") - len("-999")
VALID_CHANNEL_NAME = re.compile(r"^[a-z0-9_-]{1,80}$")


class LinkedAlert(BaseModel):
    """A triage card linked to the incident, as the summary card shows it."""

    card_id: str
    title: str  # untrusted (alert names, Sentry titles): escaped when shown
    url: str | None = None  # permalink of the triage card's Slack message


class Incident(BaseModel):
    """Subject of the pinned summary card `incident-{incident_id}` in the incident channel."""

    kind: Literal["incident"] = "incident"
    incident_id: str  # e.g. "20261123-db-down" (also the channel name after "inc-")
    title: str
    severity: Severity = DEFAULT_SEVERITY
    status: Literal["open", "resolved"] = "open"
    channel: str  # the incident channel's id
    declared_by: str
    declared_at: datetime
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    alert_card_ids: list[str] = Field(default_factory=list)  # triage cards linked to it
    run_ids: list[str] = Field(default_factory=list)
    channel_name: str = ""  # "inc-…", for texts outside Slack (the postmortem)
    declared_in: str | None = None  # channel where /incident declare was typed
    linked_alerts: list[LinkedAlert] = Field(default_factory=list)

    def link_alert(self, alert: LinkedAlert) -> bool:
        """Add a triage card once; False when it was already linked."""
        if alert.card_id in self.alert_card_ids:
            return False
        self.alert_card_ids.append(alert.card_id)
        self.linked_alerts.append(alert)
        return True


class IncidentLink(BaseModel):
    """Stored on a triage card that belongs to an incident: its card shows the link, and its
    later state changes and actions go into that incident's timeline."""

    incident_id: str
    channel: str
    declared_by: str
    declared_at: datetime


def incident_card_id(incident_id: str) -> str:
    return f"incident-{incident_id}"


def slugify(title: str) -> str:
    """A channel-name-safe slug of `title`: ascii lowercase words joined by hyphens."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    slug = slug[:SLUG_MAX].rstrip("-")
    return slug or "incident"


def incident_id_for(title: str, declared_at: datetime, attempt: int = 1) -> str:
    """`YYYYMMDD-slug`, then `-2`, `-3`… for later attempts (the name was taken)."""
    base = f"{declared_at:%Y%m%d}-{slugify(title)}"
    return base if attempt <= 1 else f"{base}-{attempt}"


def channel_name_for(incident_id: str) -> str:
    return f"{CHANNEL_PREFIX}{incident_id}"


def duration_text(start: datetime, end: datetime) -> str:
    """How long an incident lasted, for people: "2 h 05 min", "12 min", "40 s"."""
    seconds = max(0, int((end - start).total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"

"""Incidents: a channel, a pinned summary card, and a timeline.

The incident lives in its summary card (`incident-{incident_id}`): every change is one atomic
card mutation. The naming rules are in bot/incidents/rules.py; bot/incidents/flow.py does
the work.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Severity = Literal["sev1", "sev2", "sev3", "sev4"]
SEVERITIES: tuple[Severity, ...] = ("sev1", "sev2", "sev3", "sev4")
DEFAULT_SEVERITY: Severity = "sev2"


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

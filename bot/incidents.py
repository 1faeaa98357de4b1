"""Incidents: a channel, a pinned summary card, and a timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class Incident(BaseModel):
    """Subject of the pinned summary card `incident-{incident_id}` in the incident channel."""

    kind: Literal["incident"] = "incident"
    incident_id: str  # e.g. "20261123-db-down" (also the channel name after "inc-")
    title: str
    severity: Literal["sev1", "sev2", "sev3", "sev4"] = "sev2"
    status: Literal["open", "resolved"] = "open"
    channel: str  # the incident channel's id
    declared_by: str
    declared_at: datetime
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    alert_card_ids: list[str] = Field(default_factory=list)  # triage cards linked to it
    run_ids: list[str] = Field(default_factory=list)


def incident_card_id(incident_id: str) -> str:
    return f"incident-{incident_id}"

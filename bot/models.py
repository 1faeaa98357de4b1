"""Domain models: what Seawall knows about an alert group or Sentry issue, and its card."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.approvals import Approval
from bot.incidents import Incident, IncidentLink
from bot.prompts import StepPrompt
from bot.runs import PlaybookRun

CARD_SCHEMA_VERSION = 1


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

    @property
    def status(self) -> Status:
        firing = any(a.status is Status.FIRING for a in self.alerts.values())
        return Status.FIRING if firing else Status.RESOLVED

    def count(self, status: Status) -> int:
        return sum(1 for a in self.alerts.values() if a.status is status)


class SentryIssue(BaseModel):
    """A Sentry issue (identity: issue id), from `issue` and `event_alert` webhooks."""

    kind: Literal["sentry_issue"] = "sentry_issue"
    issue_id: str
    short_id: str | None = None
    title: str
    culprit: str | None = None
    level: str | None = None
    status: str = "unresolved"
    substatus: str | None = None
    project_slug: str | None = None
    project_name: str | None = None
    environment: str | None = None
    release: str | None = None
    event_count: int | None = None
    user_count: int | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    web_url: str | None = None
    assigned_to: str | None = None
    triggered_rule: str | None = None
    last_action: str = "created"
    last_actor: str | None = None  # as Sentry names them: untrusted text
    last_actor_slack_id: str | None = None  # set when a Seawall button made the change


class SentryMetricAlert(BaseModel):
    """A Sentry metric alert incident (identity: metric alert id)."""

    kind: Literal["sentry_metric_alert"] = "sentry_metric_alert"
    alert_id: str
    title: str
    rule_name: str | None = None
    status: Literal["critical", "warning", "resolved", "open"]
    description_title: str | None = None
    description_text: str | None = None
    web_url: str | None = None
    date_started: datetime | None = None
    date_closed: datetime | None = None


# Every live Slack message is a card with one of these subjects (docs/decisions.md).
Subject = Annotated[
    AlertGroup | SentryIssue | SentryMetricAlert | PlaybookRun | StepPrompt | Approval | Incident,
    Field(discriminator="kind"),
]


class Ack(BaseModel):
    user_id: str
    at: datetime


class Silence(BaseModel):
    silence_id: str
    user_id: str
    until: datetime
    created_at: datetime


class Note(BaseModel):
    """A line shown on the card about something that happened to it (e.g. a failed action)."""

    text: str
    at: datetime


class TriageCard(BaseModel):
    """Everything needed to render one Slack message. Stored as JSON, versioned."""

    model_config = ConfigDict(extra="ignore")

    schema_version: int = CARD_SCHEMA_VERSION
    card_id: str
    channel: str
    revision: int = 0
    subject: Subject
    ack: Ack | None = None
    silence: Silence | None = None
    notes: list[Note] = Field(default_factory=list)
    incident: IncidentLink | None = None  # the incident this triage card was linked to
    created_at: datetime
    updated_at: datetime

    MAX_NOTES: ClassVar[int] = 5

    def add_note(self, text: str, at: datetime) -> None:
        # Only the latest few fit on a card; the full history belongs in the timeline.
        self.notes = [*self.notes, Note(text=text, at=at)][-self.MAX_NOTES :]


class ThreadReply(BaseModel):
    """A message to post in the card's thread once (state changes, action results)."""

    reply_id: str
    text: str

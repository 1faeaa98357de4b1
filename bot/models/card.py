"""The card: everything Seawall shows as one live Slack message, around one subject."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from bot.models.alert import AlertGroup
from bot.models.approval import Approval
from bot.models.heartbeat import HeartbeatAlarm
from bot.models.incident import Incident, IncidentLink
from bot.models.page import PageNotice, PagingStatus
from bot.models.prompt import StepPrompt
from bot.models.run import PlaybookRun
from bot.models.sentry import SentryIssue, SentryMetricAlert

CARD_SCHEMA_VERSION = 1


# Every live Slack message is a card with one of these subjects (docs/decisions.md).
Subject = Annotated[
    AlertGroup
    | SentryIssue
    | SentryMetricAlert
    | PlaybookRun
    | StepPrompt
    | Approval
    | Incident
    | PageNotice
    | HeartbeatAlarm,
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
    paging: PagingStatus | None = None  # whether and how it pages (bot/paging)
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

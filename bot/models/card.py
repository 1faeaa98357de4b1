"""The card: everything Seawall shows as one live Slack message, around one subject."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from bot.models.alert import AlertGroup
from bot.models.approval import Approval
from bot.models.change import Change
from bot.models.heartbeat import HeartbeatAlarm
from bot.models.incident import Incident, IncidentLink
from bot.models.page import PageNotice, PagingStatus
from bot.models.prompt import StepPrompt
from bot.models.run import PlaybookRun
from bot.models.sentry import SentryIssue, SentryMetricAlert
from bot.models.slots import SlotReport, SlotWatch
from bot.models.storm import Storm

# 2: alert groups drop old resolved alerts (Alert.resolved_seen_at, AlertGroup.resolved_dropped
# and first_starts_at, all optional so that version 1 cards load unchanged).
CARD_SCHEMA_VERSION = 2


# Every live Slack message is a card with one of these subjects (docs/decisions.md).
Subject = Annotated[
    AlertGroup
    | SentryIssue
    | SentryMetricAlert
    | PlaybookRun
    | StepPrompt
    | Approval
    | Incident
    | SlotReport
    | SlotWatch
    | PageNotice
    | HeartbeatAlarm
    | Storm,
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
    # "Changed recently": changes of the window before the alert started (bot/changes), and
    # whether they match the alert's service or are only the latest ones.
    changes: list[Change] = Field(default_factory=list)
    changes_matched: bool = False
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

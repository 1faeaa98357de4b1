"""When a card's subject is closed, and so how long Redis keeps the card: pure functions.

A closed card is kept for `retention.resolved_cards` after its last change, then expires with
every key about its Slack message (bot/store.py applies it); an open one is kept for good.
A closed card that opens again (an alert group firing again, a Sentry issue unresolved) is
kept for good again.
"""

from __future__ import annotations

from datetime import timedelta

from bot.core.retention import Retention
from bot.models.alert import AlertGroup, Status
from bot.models.approval import OPEN_STATES, Approval
from bot.models.card import Subject, TriageCard
from bot.models.heartbeat import HeartbeatAlarm
from bot.models.incident import Incident
from bot.models.page import OPEN_STATES as OPEN_PAGE_STATES
from bot.models.page import PageNotice
from bot.models.prompt import StepPrompt
from bot.models.run import PlaybookRun
from bot.models.sentry import SentryIssue, SentryMetricAlert
from bot.models.slots import SlotReport, SlotWatch
from bot.models.storm import Storm

SENTRY_CLOSED_STATUSES = frozenset({"resolved", "ignored"})


def is_closed(subject: Subject) -> bool:
    """True once nothing more is expected to happen to the subject on its own."""
    if isinstance(subject, AlertGroup):
        return subject.status is Status.RESOLVED
    if isinstance(subject, SentryIssue):
        return subject.status in SENTRY_CLOSED_STATUSES
    if isinstance(subject, SentryMetricAlert):
        return subject.status == "resolved"
    if isinstance(subject, PlaybookRun):
        return subject.status.finished
    if isinstance(subject, StepPrompt):
        return subject.decided
    if isinstance(subject, Approval):
        return subject.state not in OPEN_STATES
    if isinstance(subject, Incident):
        return subject.status == "resolved"
    if isinstance(subject, SlotReport):
        return True  # one look's snapshot: nothing happens to it after (an "after" look aside)
    if isinstance(subject, SlotWatch):
        return subject.closed  # resolved; a slot crossing again reopens it
    if isinstance(subject, PageNotice):
        return subject.state not in OPEN_PAGE_STATES
    if isinstance(subject, HeartbeatAlarm):
        return subject.resolved  # a heartbeat stopping again reopens the same card
    if isinstance(subject, Storm):
        return subject.is_over  # a storm never reopens: the next one gets a card of its own
    raise TypeError(f"no lifecycle rule for {type(subject).__name__}")  # a new subject kind


def kept_for(card: TriageCard, retention: Retention) -> timedelta | None:
    """How long the card stays in Redis after this write; None: for good (it is open).

    A resolved incident's card lives as long as its timeline: the postmortem reads both."""
    if not is_closed(card.subject):
        return None
    if isinstance(card.subject, Incident):
        return max(retention.resolved_cards, retention.timelines)
    return retention.resolved_cards

"""Render any card by the kind of its subject: the one entry point the poster calls."""

from __future__ import annotations

from datetime import datetime

from bot.cards.alert_group import render_alert_group
from bot.cards.approval import render_approval
from bot.cards.common import CardMessage, RenderContext
from bot.cards.heartbeat import render_heartbeat
from bot.cards.incident import render_incident
from bot.cards.page import render_page_notice
from bot.cards.prompt import render_prompt
from bot.cards.run import render_run
from bot.cards.sentry import render_sentry
from bot.cards.slots import render_slot_report, render_slot_watch
from bot.cards.storm import render_storm
from bot.models.alert import AlertGroup
from bot.models.approval import Approval
from bot.models.card import TriageCard
from bot.models.heartbeat import HeartbeatAlarm
from bot.models.incident import Incident
from bot.models.page import PageNotice
from bot.models.prompt import StepPrompt
from bot.models.run import PlaybookRun
from bot.models.sentry import SentryIssue, SentryMetricAlert
from bot.models.slots import SlotReport, SlotWatch
from bot.models.storm import Storm


def render(card: TriageCard, now: datetime, *, context: RenderContext | None = None) -> CardMessage:
    """The Slack message for `card` as it stands at `now`, in a Seawall set up as `context`
    says (by default, with nothing optional configured)."""
    context = context or RenderContext()
    subject = card.subject
    if isinstance(subject, AlertGroup):
        return render_alert_group(card, subject, now)
    if isinstance(subject, SentryIssue | SentryMetricAlert):
        return render_sentry(card, subject, now, context)
    if isinstance(subject, PlaybookRun):
        return render_run(card, subject, now)
    if isinstance(subject, StepPrompt):
        return render_prompt(card, subject, now)
    if isinstance(subject, Approval):
        return render_approval(card, subject, now)
    if isinstance(subject, Incident):
        return render_incident(card, subject, now)
    if isinstance(subject, SlotReport):
        return render_slot_report(card, subject, now)
    if isinstance(subject, SlotWatch):
        return render_slot_watch(card, subject, now)
    if isinstance(subject, PageNotice):
        return render_page_notice(card, subject, now)
    if isinstance(subject, HeartbeatAlarm):
        return render_heartbeat(card, subject, now)
    if isinstance(subject, Storm):
        return render_storm(card, subject, now)
    raise TypeError(f"no card for subject kind {type(subject).__name__}")

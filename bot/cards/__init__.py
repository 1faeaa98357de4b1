"""Cards are pure functions: a TriageCard in, Block Kit out. No I/O, no clock of their own."""

from __future__ import annotations

from datetime import datetime

from bot.approvals import Approval
from bot.cards.alert_group import render_alert_group
from bot.cards.common import ActionId, CardMessage, CardRef, escape
from bot.incidents import Incident
from bot.models import AlertGroup, SentryIssue, SentryMetricAlert, TriageCard
from bot.prompts import StepPrompt
from bot.runs import PlaybookRun

__all__ = ["ActionId", "CardMessage", "CardRef", "escape", "render"]


def render(card: TriageCard, now: datetime) -> CardMessage:
    """Render any card by the kind of its subject."""
    subject = card.subject
    # Imported here, per kind: each card module is only loaded when such a card exists.
    if isinstance(subject, AlertGroup):
        return render_alert_group(card, subject, now)
    if isinstance(subject, SentryIssue | SentryMetricAlert):
        from bot.cards.sentry import render_sentry

        return render_sentry(card, subject, now)
    if isinstance(subject, PlaybookRun):
        from bot.cards.run import render_run

        return render_run(card, subject, now)
    if isinstance(subject, StepPrompt):
        from bot.cards.prompt import render_prompt

        return render_prompt(card, subject, now)
    if isinstance(subject, Approval):
        from bot.cards.approval import render_approval

        return render_approval(card, subject, now)
    if isinstance(subject, Incident):
        from bot.cards.incident import render_incident

        return render_incident(card, subject, now)
    raise TypeError(f"no card for subject kind {type(subject).__name__}")

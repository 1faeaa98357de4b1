"""Cards are pure functions: a TriageCard in, Block Kit out. No I/O, no clock of their own."""

from __future__ import annotations

from datetime import datetime

from bot.cards.alert_group import render_alert_group
from bot.cards.common import ActionId, CardMessage, CardRef, escape
from bot.models import AlertGroup, TriageCard

__all__ = ["ActionId", "CardMessage", "CardRef", "escape", "render"]


def render(card: TriageCard, now: datetime) -> CardMessage:
    """Render any card by the kind of its subject."""
    subject = card.subject
    if isinstance(subject, AlertGroup):
        return render_alert_group(card, subject, now)
    from bot.cards.sentry import render_sentry

    return render_sentry(card, subject, now)

"""Turn a Sentry webhook into the state of its triage card, in one Redis transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from bot.core import keys
from bot.core.config import FileConfig
from bot.models.card import TriageCard
from bot.models.sentry import SentryIssue, SentryMetricAlert
from bot.sentry.payload import SentryEventAlertWebhook, SentryIssueWebhook, SentryMetricAlertWebhook
from bot.sentry.rules import (
    IssueUpdate,
    MetricAlertUpdate,
    apply_event_alert,
    apply_issue_webhook,
    apply_metric_alert,
    card_id_for_issue,
    card_id_for_metric_alert,
    issue_page_url,
    metric_alert_project,
)
from bot.store import CardMutation, Store
from bot.triage import IntakeResult

S = TypeVar("S", SentryIssue, SentryMetricAlert)


@dataclass(frozen=True)
class SentryRouting:
    """Where new Sentry cards go, and how to link an issue whose payload has no URL."""

    config: FileConfig
    default_channel: str
    org_url: str | None = None  # "{SENTRY_URL}/organizations/{SENTRY_ORG}" when the org is set

    def channel_for(self, project_slug: str | None) -> str:
        return self.config.channel_for_sentry_project(project_slug, self.default_channel)


async def _fold_into_card(
    store: Store,
    card_id: str,
    kind: type[S],
    fold: Callable[[S | None], IssueUpdate | MetricAlertUpdate | None],
    channel_for: Callable[[S], str],
    delivery_ids: tuple[str, ...],
    received_at: datetime,
) -> IntakeResult:
    """Apply `fold` to the card's subject; the delivery's ids are claimed in the same write."""
    outcome = "unchanged"

    def mutate(card: TriageCard | None) -> CardMutation | None:
        nonlocal outcome
        current = card.subject if card is not None else None
        if current is not None and not isinstance(current, kind):
            raise TypeError(f"card {card_id} is not a {kind.__name__}")  # ids are prefixed: never
        update = fold(current)
        if update is None or update.subject == current:
            outcome = "unchanged"
            return None
        subject = update.subject
        assert isinstance(subject, kind)
        if card is None:
            outcome = "created"
            new = TriageCard(
                card_id=card_id,
                channel=channel_for(subject),
                subject=subject,
                created_at=received_at,
                updated_at=received_at,
            )
            return CardMutation(card=new)
        outcome = "updated"
        card.subject = subject
        return CardMutation(card=card, replies=update.replies)

    result = await store.mutate_card(
        card_id,
        mutate,
        dedup_keys=tuple(keys.sentry_delivery(identity) for identity in delivery_ids),
        dedup_ttl_s=keys.SENTRY_DELIVERY_TTL_S,
    )
    return IntakeResult(card_id=card_id, outcome="duplicate" if result.duplicate else outcome)


async def receive_issue(
    store: Store,
    routing: SentryRouting,
    hook: SentryIssueWebhook,
    delivery_ids: tuple[str, ...],
    received_at: datetime,
) -> IntakeResult:
    issue_id = hook.data.issue.id
    fallback_url = issue_page_url(routing.org_url, issue_id)
    return await _fold_into_card(
        store,
        card_id_for_issue(issue_id),
        SentryIssue,
        lambda current: apply_issue_webhook(current, hook, fallback_url),
        lambda issue: routing.channel_for(issue.project_slug),
        delivery_ids,
        received_at,
    )


async def receive_event_alert(
    store: Store,
    routing: SentryRouting,
    hook: SentryEventAlertWebhook,
    issue_id: str,
    delivery_ids: tuple[str, ...],
    received_at: datetime,
) -> IntakeResult:
    """An issue alert rule fired: update (or open) the card of the event's issue."""
    fallback_url = issue_page_url(routing.org_url, issue_id)
    return await _fold_into_card(
        store,
        card_id_for_issue(issue_id),
        SentryIssue,
        lambda current: apply_event_alert(current, hook, issue_id, fallback_url),
        # Only reached for a new card; an existing card keeps its channel.
        lambda issue: routing.channel_for(issue.project_slug),
        delivery_ids,
        received_at,
    )


async def receive_metric_alert(
    store: Store,
    routing: SentryRouting,
    hook: SentryMetricAlertWebhook,
    delivery_ids: tuple[str, ...],
    received_at: datetime,
) -> IntakeResult:
    project = metric_alert_project(hook)
    return await _fold_into_card(
        store,
        card_id_for_metric_alert(hook.data.metric_alert.id),
        SentryMetricAlert,
        lambda current: apply_metric_alert(current, hook, received_at),
        lambda _alert: routing.channel_for(project),
        delivery_ids,
        received_at,
    )

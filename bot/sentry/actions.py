"""What the Sentry buttons on an issue card do. Each returns the sentence for the clicker."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from bot.cards.common import escape
from bot.core import keys
from bot.core.errors import ExternalServiceError, StoreUnavailable
from bot.models.card import TriageCard
from bot.models.sentry import SentryIssue
from bot.sentry.api import update_issue_status
from bot.store import REDIS_ERRORS, CardMutation, Store
from bot.triage import CARD_GONE, add_note


@dataclass(frozen=True)
class SentryAccess:
    """What a call to Sentry's API needs; token and org may be unset (buttons then explain)."""

    sentry_url: str
    org: str | None
    token: str | None


@dataclass(frozen=True)
class StatusChange:
    """One button's effect on a Sentry issue."""

    status: str  # the issue status once done
    guard: str  # name of the double-click guard (keys.card_action_guard)
    verb: str  # "resolve", "ignore": used in sentences
    done: str  # what the card's last action reads once done
    icon: str
    body: dict[str, Any] = field(default_factory=dict)


RESOLVE = StatusChange(
    status="resolved",
    guard="sentry-resolve",
    verb="resolve",
    done="resolved",
    icon="🟢",
    body={"status": "resolved"},
)
IGNORE_1H = StatusChange(
    status="ignored",
    guard="sentry-ignore",
    verb="ignore",
    done="ignored for 1 hour",
    icon="🔕",
    body={"status": "ignored", "statusDetails": {"ignoreDuration": 60}},
)


def _unset_settings(access: SentryAccess) -> str:
    """Which settings the Sentry buttons lack, as a sentence fragment."""
    missing = [
        name
        for name, v in (("SENTRY_API_TOKEN", access.token), ("SENTRY_ORG", access.org))
        if not v
    ]
    return " and ".join(missing) + (" is not set" if len(missing) == 1 else " are not set")


async def change_issue_status(
    store: Store,
    http: httpx.AsyncClient,
    access: SentryAccess,
    change: StatusChange,
    card_id: str,
    user_id: str,
    now: datetime,
) -> str:
    """Ask Sentry to change the issue's status, then show it on the card with one reply.

    A failure leaves a note on the card (so the channel sees the click did nothing) and
    tells the clicker what went wrong; Sentry is never left half-changed by Seawall."""
    try:
        card = await store.get_card(card_id)
    except REDIS_ERRORS as exc:
        raise StoreUnavailable(f"Redis is unreachable: {exc}") from exc
    if card is None:
        return CARD_GONE
    issue = card.subject
    if not isinstance(issue, SentryIssue):
        return f"Only Sentry issue cards can be {change.done} in Sentry; nothing was changed."
    if issue.status == change.status:
        return f"This issue is already {change.status} in Sentry; nothing was changed."
    org, token = access.org, access.token
    if not org or not token:
        unset = _unset_settings(access)
        await add_note(
            card_id,
            f"<@{user_id}> tried to {change.verb} this issue, but {unset}; "
            "nothing was changed in Sentry.",
            store=store,
            now=now,
        )
        return (
            f"Seawall cannot {change.verb} Sentry issues: {unset}. Nothing was changed in "
            f"Sentry; {change.verb} it there, or ask whoever runs Seawall to set it."
        )
    guard = keys.card_action_guard(card_id, change.guard)
    # Double clicks and parallel clicks: one request to Sentry per card at a time.
    if not await store.claim(guard, keys.CARD_ACTION_GUARD_TTL_S):
        return (
            f"Someone is already asking Sentry to {change.verb} this issue; nothing more was done."
        )

    try:
        await update_issue_status(http, access.sentry_url, org, token, issue.issue_id, change.body)
    except ExternalServiceError as exc:
        # Sentry's own words are part of the reason: untrusted, so escaped for mrkdwn.
        reason = escape(str(exc))
        await _release(store, guard)
        await add_note(
            card_id,
            f"<@{user_id}> tried to {change.verb} this issue: {reason}; "
            "nothing was changed in Sentry.",
            store=store,
            now=now,
        )
        return (
            f"Sentry did not {change.verb} the issue: {reason}. Nothing was changed in Sentry; "
            f"try again in a minute, or {change.verb} it in Sentry."
        )

    def mutate(current: TriageCard | None) -> CardMutation | None:
        if current is None or not isinstance(current.subject, SentryIssue):
            return None
        subject = current.subject
        # Sentry's own webhook about this change may have won the race and already added
        # its reply: then the card only learns who clicked, and the thread stays at one.
        echoed = subject.status == change.status
        if not echoed:
            subject.status = change.status
            subject.substatus = None  # Sentry's webhook that follows brings the new one
        subject.last_action = change.done
        subject.last_actor = None
        subject.last_actor_slack_id = user_id
        reply = f"{change.icon} <@{user_id}> {change.done} this issue in Sentry."
        return CardMutation(card=current, replies=[] if echoed else [reply])

    await store.mutate_card(card_id, mutate)
    return f"Done: the issue is {change.done} in Sentry, and the card shows it to everyone."


async def _release(store: Store, key: str) -> None:
    try:
        await store.redis.delete(key)
    except REDIS_ERRORS as exc:
        raise StoreUnavailable(f"Redis is unreachable: {exc}") from exc

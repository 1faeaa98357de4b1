"""The ladder's clockwork: a tick carries a page to `now` (bot/paging/rules.py: plan) and
schedules the next tick as a job; `sync` shows the page on its cards and DMs.

Ticks are jobs (saq: persisted in Redis, re-run if their worker dies), keyed by page and due
time so duplicates collapse. Every effect is guarded on the page itself: a push is claimed
in the page (compare-and-set) before it is sent and recorded after, a level changes only if
it is still the one the tick saw. So a tick that runs twice, late, or on a worker that was
SIGKILLed halfway, sends each step once (or, if it died in the middle of a push, again after
CLAIM_STALE: a lost page is worse than a second buzz).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis.asyncio as aioredis
from slack_sdk.errors import SlackApiError

from bot.core.clock import Clock
from bot.core.jobs import JobQueue
from bot.core.paging_config import Oncall, url_label
from bot.deps import HeadlineSource, no_headline
from bot.models.card import Ack, TriageCard
from bot.models.page import Claim, Delivery, Page, PagingStatus, Target, notice_card_id
from bot.paging import acklink, oncall
from bot.paging.notifier import Notifiers, PageMessage
from bot.paging.rules import (
    CLAIM_STALE,
    PlannedStep,
    notice_for,
    plan,
    push_text,
    status_for,
)
from bot.paging.state import PageStore
from bot.store import CardMutation, Store

log = logging.getLogger("seawall.paging")

PAGE_TICK_JOB = "page_tick"
# saq schedules to the whole second, so a tick may run up to a second early: it waits
# (no longer: a longer wait would chain the next steps inside one job instead of timers).
EARLY_WAIT = timedelta(seconds=1)
MAX_MOVES_PER_TICK = 12


@dataclass
class Paging:
    """What the paging feature works with; built by flow.paging_from(deps)."""

    oncall: Oncall
    redis: aioredis.Redis
    store: Store
    pages: PageStore
    slack: Any  # AsyncWebClient: conversations.open, dnd.info, users.getPresence, usergroups
    clock: Clock
    jobs: JobQueue
    notifiers: Notifiers
    public_url: str | None
    ack_secret: str | None
    default_channel: str
    # The storm card's first line when the page's channels are in a storm (bot/deps.py).
    headline: HeadlineSource = no_headline

    async def headline_of(self, page: Page) -> str | None:
        """What the page is called when it is about a storm: its storm card's first line."""
        try:
            return await self.headline(sorted({c.channel for c in page.cards}))
        except Exception:  # a page must go out even if the storm card cannot be read
            log.exception("page %s: the storm card's first line could not be read", page.page_id)
            return None


async def tick(paging: Paging, page_id: str) -> None:
    """Job: bring the page's ladder to now, then schedule the next tick."""
    for _ in range(MAX_MOVES_PER_TICK):
        page = await paging.pages.get(page_id)
        if page is None:
            return
        now = paging.clock.now()
        move = plan(page, paging.oncall, now)
        if move.kind == "start":
            await _start_level(paging, page, round_=0, level=0, from_state="waiting")
        elif move.kind == "escalate":
            await _start_level(paging, page, round_=move.round, level=move.level)
        elif move.kind == "exhaust":
            await _exhaust(paging, page)
            return
        elif move.steps:
            for step in move.steps:
                await _send(paging, page_id, step)
        elif move.next_at is not None and move.next_at - now <= EARLY_WAIT:
            await paging.clock.sleep((move.next_at - now).total_seconds())
        else:
            if move.next_at is not None:
                await schedule(paging, page_id, move.next_at)
            await sync(paging, page_id)
            return
    await schedule(paging, page_id, paging.clock.now())  # a busy ladder: carry on in a new job


async def schedule(paging: Paging, page_id: str, at: datetime) -> None:
    delay = max(0.0, (at - paging.clock.now()).total_seconds())
    await paging.jobs.enqueue(
        PAGE_TICK_JOB, key=f"{page_id}:{int(at.timestamp())}", delay_s=delay, page_id=page_id
    )


async def _start_level(
    paging: Paging, seen: Page, *, round_: int, level: int, from_state: str = "open"
) -> None:
    """Resolve who the level pages (rota, user groups, DND) and move the page there, unless
    another tick already did."""
    now = paging.clock.now()
    targets, notes = await targets_for(paging, level, now)

    def move(page: Page | None) -> Page | None:
        if page is None or page.state != from_state:
            return None
        if (page.round, page.level, page.level_started_at) != (
            seen.round,
            seen.level,
            seen.level_started_at,
        ):
            return None  # another tick moved it meanwhile
        page.state = "open"
        page.wait_until = None
        page.round, page.level, page.level_started_at = round_, level, now
        page.targets = targets
        page.claims = []
        for note in notes:
            page.add_note(note)
        return page

    await paging.pages.mutate(seen.page_id, move)


async def targets_for(paging: Paging, level: int, now: datetime) -> tuple[list[Target], list[str]]:
    found = await oncall.level_targets(
        paging.oncall.escalation[level],
        oncall=paging.oncall,
        redis=paging.redis,
        slack=paging.slack,
        at=now,
    )
    notes = list(found.problems)
    targets = []
    for user in found.users:
        loud, reason = await loudness(paging, user, now)
        targets.append(Target(user_id=user, loud_now=loud, reason=reason))
        has_push = any(not s.is_slack for s in paging.oncall.person(user).notify)
        if loud and not has_push:
            notes.append(
                f"<@{user}> is {reason or 'unreachable on Slack'} and has no push configured: "
                "Slack will not wake them (add a push under oncall.people)"
            )
    if not targets:
        notes.append(f"Nobody to page at level {level + 1}; the ladder moves on at its timeout")
    return targets, notes


async def loudness(paging: Paging, user: str, now: datetime) -> tuple[bool, str | None]:
    """Whether Slack can be trusted to wake `user` now. Slack sends no push at all in Do Not
    Disturb; a bot can see a DND schedule (dnd.info) and presence, never a manual snooze or
    the phone's Focus mode: hence Slack is only ever step 0."""
    try:
        dnd = await paging.slack.dnd_info(user=user)
        start, end = dnd.get("next_dnd_start_ts"), dnd.get("next_dnd_end_ts")
        in_window = bool(start and end and float(start) <= now.timestamp() < float(end))
        if dnd.get("snooze_enabled") or (dnd.get("dnd_enabled") and in_window):
            return True, "in Do Not Disturb"
        presence = await paging.slack.users_getPresence(user=user)
        if presence.get("presence") == "away":
            return True, "away on Slack"
    except SlackApiError as exc:
        return True, f"not visible to Slack's API ({exc.response.get('error')})"
    except Exception as exc:  # Slack unreachable: go loud at once rather than wait on it
        return True, f"unreachable through Slack ({type(exc).__name__})"
    return False, None


async def _send(paging: Paging, page_id: str, step: PlannedStep) -> None:
    """Claim the step in the page, carry it out, record the outcome in the page."""
    now = paging.clock.now()
    token = secrets.token_hex(6)

    def claim(page: Page | None) -> Page | None:
        if page is None or page.state != "open" or page.delivered(step.step_id):
            return None
        if any(c.step_id == step.step_id and now - c.at < CLAIM_STALE for c in page.claims):
            return None
        page.claims = [c for c in page.claims if c.step_id != step.step_id]
        page.claims.append(Claim(step_id=step.step_id, token=token, at=now))
        return page

    page, claimed = await paging.pages.mutate(page_id, claim)
    if not claimed or page is None:
        return
    message = await _message(paging, page, step, now)
    notifier = paging.notifiers.for_via(step.via)
    sent = await notifier.send(step.via, message)
    if not sent.ok:
        log.warning("page %s step %s failed: %s", page_id, step.step_id, sent.detail)

    def record(page: Page | None) -> Page | None:
        if page is None:
            return None
        page.record(
            Delivery(
                step_id=step.step_id,
                user_id=step.user_id,
                via=url_label(step.via),
                at=now,
                ok=sent.ok,
                detail=sent.detail,
            )
        )
        if step.is_slack and sent.ok and step.user_id not in page.recipients:
            page.recipients.append(step.user_id)
        if not sent.ok:
            _after_failure(page, step)
        return page

    await paging.pages.mutate(page_id, record)


def _after_failure(page: Page, step: PlannedStep) -> None:
    """A failed Slack DM makes the louder steps start at once; a failed push is noted."""
    if step.is_slack:
        for target in page.targets:
            if target.user_id == step.user_id and not target.loud_now:
                target.loud_now = True
                target.reason = "unreachable by Slack DM"
        page.add_note(f"The Slack DM to <@{step.user_id}> failed; louder steps go out at once")
    else:
        page.add_note(
            f"A push to <@{step.user_id}> via {url_label(step.via)} failed (details in "
            "Seawall's logs); the ladder goes on"
        )


async def _message(paging: Paging, page: Page, step: PlannedStep, now: datetime) -> PageMessage:
    line = await paging.headline_of(page)
    title, body = push_text(page, paging.oncall, line)
    ack_url = None
    if not step.is_slack and paging.public_url and paging.ack_secret:
        token, link = acklink.make_token(paging.ack_secret, page.page_id, step.user_id, now)
        await acklink.remember(paging.redis, link, now)
        ack_url = f"{paging.public_url}/pages/ack/{token}"
    notice = notice_for(page, paging.oncall, step.user_id, line) if step.is_slack else None
    return PageMessage(step.user_id, title, body, ack_url, notice)


async def _exhaust(paging: Paging, seen: Page) -> None:
    """Nobody acknowledged after every round: one message to the channel, with <!here>."""
    now = paging.clock.now()

    def close(page: Page | None) -> Page | None:
        if page is None or page.state != "open" or page.level != seen.level:
            return None
        page.state, page.closed_at, page.claims = "exhausted", now, []
        return page

    page, changed = await paging.pages.mutate(seen.page_id, close)
    if page is None or not changed:
        return
    worst = page.worst()
    channel = worst.channel if worst else paging.default_channel
    card_id = notice_card_id(page.page_id, None)
    notice = notice_for(page, paging.oncall, None, await paging.headline_of(page))

    def post(card: TriageCard | None) -> CardMutation | None:
        if card is not None:
            return None
        return CardMutation(
            card=TriageCard(
                card_id=card_id, channel=channel, subject=notice, created_at=now, updated_at=now
            )
        )

    await paging.store.mutate_card(card_id, post)
    await paging.pages.mutate(page.page_id, _mark_alarm_posted)
    await sync(paging, page.page_id)


def _mark_alarm_posted(page: Page | None) -> Page | None:
    if page is None or page.alarm_posted:
        return None
    page.alarm_posted = True
    return page


async def sync(paging: Paging, page_id: str, replies: list[str] | None = None) -> None:
    """Show the page as it stands on every card it concerns; idempotent (a card whose line
    is already right is not written). `replies` go in each DM's thread (e.g. "resolved")."""
    page = await paging.pages.get(page_id)
    if page is None:
        return
    now = paging.clock.now()
    pause = await pause_status(paging)
    for card in page.cards:
        status = status_for(page, paging.oncall, card.card_id, now, pause)
        mark_ack = not card.joined_after_ack
        await paging.store.mutate_card(card.card_id, _show_status(page, status, now, mark_ack))
    recipients: list[str | None] = [*page.recipients]
    if page.alarm_posted:
        recipients.append(None)
    line = await paging.headline_of(page) if recipients else None
    for recipient in recipients:
        notice = notice_for(page, paging.oncall, recipient, line)
        dm_replies = replies if recipient is not None else None
        await paging.store.mutate_card(
            notice_card_id(page.page_id, recipient), _show_notice(notice, dm_replies or [])
        )


def _show_status(page: Page, status: PagingStatus, now: datetime, mark_ack: bool) -> Any:
    def mutate(card: TriageCard | None) -> CardMutation | None:
        if card is None:
            return None
        changed = False
        # A card that moved to another page (it flapped after this one closed) keeps that one.
        mine = card.paging is None or card.paging.page_id in (None, page.page_id)
        if mine and card.paging != status:
            card.paging, changed = status, True
        if mark_ack and page.state == "acked" and page.acked_by and card.ack is None:
            card.ack, changed = Ack(user_id=page.acked_by, at=page.acked_at or now), True
        return CardMutation(card=card) if changed else None

    return mutate


def _show_notice(notice: Any, replies: list[str]) -> Any:
    def mutate(card: TriageCard | None) -> CardMutation | None:
        if card is None:
            return None
        if card.subject == notice and not replies:
            return None
        card.subject = notice
        return CardMutation(card=card, replies=replies)

    return mutate


async def pause_status(paging: Paging) -> PagingStatus | None:
    pause = await oncall.pause_state(paging.redis, paging.clock.now())
    if pause is None:
        return None
    return PagingStatus(paused_by=pause.by, paused_until=pause.until)

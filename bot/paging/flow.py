"""How cards become pages and pages end: raise or join on a firing alert, stop on an
acknowledgement (from anywhere) or when everything resolved, hold during maintenance.

Paging learns of cards through a job the composition root enqueues after an intake wrote one
(handlers/wiring.py: card_changed), and reads only models: it never imports alerts/ or
sentry/. The ladder itself is bot/paging/ladder.py; the decisions bot/paging/rules.py.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.cards.common import escape, slack_time
from bot.core.errors import SeawallError
from bot.deps import Deps
from bot.models.card import TriageCard
from bot.models.heartbeat import HeartbeatAlarm
from bot.models.page import Page, PagedCard, PageNotice, PagingStatus
from bot.paging import ladder, oncall
from bot.paging.ladder import Paging
from bot.paging.notifier import AppriseNotifier, Notifiers, SlackDM
from bot.paging.rules import paged_card, place, should_page, summary
from bot.paging.state import PageMutator, PageStore
from bot.store import CardMutation
from bot.triage import card_title

log = logging.getLogger("seawall.paging")

PAGE_CARD_JOB = "page_card"
PAUSE_END_JOB = "paging_pause_end"
RESOLVED_NOTE = "🟢 Resolved before anyone acknowledged: no action needed. Paging stopped."
PLACE_ATTEMPTS = 3


def paging_from(deps: Deps, *, notifiers: Notifiers | None = None) -> Paging | None:
    """The paging feature's services, or None when SEAWALL_CONFIG has no `oncall:`."""
    if deps.config.oncall is None:
        return None
    return Paging(
        oncall=deps.config.oncall,
        redis=deps.redis,
        store=deps.store,
        pages=PageStore(deps.redis),
        slack=deps.slack,
        clock=deps.clock,
        jobs=deps.jobs,
        notifiers=notifiers or default_notifiers(deps),
        public_url=deps.settings.seawall_public_url,
        ack_secret=deps.settings.seawall_ack_secret,
        default_channel=deps.settings.seawall_channel,
        headline=deps.storm_headline,
    )


def default_notifiers(deps: Deps) -> Notifiers:
    return Notifiers(
        slack=SlackDM(store=deps.store, slack=deps.slack, clock=deps.clock),
        push=AppriseNotifier(),
    )


def new_page_id(now: datetime) -> str:
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def title_of(card: TriageCard) -> str:
    if isinstance(card.subject, HeartbeatAlarm):
        return f"heartbeat {card.subject.name} missing"
    return card_title(card)


# --- a card changed --------------------------------------------------------------------------


async def card_changed(paging: Paging, card_id: str) -> str:
    """Job: an intake or a button changed `card_id`; page, join, stop or show the pause."""
    card = await paging.store.get_card(card_id)
    if card is None:
        return "gone"
    entry = paged_card(card, title_of(card))
    if entry is None:
        return "not pageable"
    now = paging.clock.now()
    page = await paging.pages.page_of_card(card_id)
    if page is not None and page.is_open:
        acker = _acknowledger(card, page)
        if acker is not None:
            await acknowledge(paging, page.page_id, acker[0], acker[1])
            return "acknowledged"
    if page is not None:
        await _update_entry(paging, page.page_id, entry)
    recently_acked = card.ack is not None and now - card.ack.at < paging.oncall.flap_window
    if entry.resolved or recently_acked or not should_page(card, paging.oncall.page_on):
        await _show_pause(paging, card_id)
        return "no page"
    return await _place(paging, entry, page, now)


def _acknowledger(card: TriageCard, page: Page) -> tuple[str, str] | None:
    """Who acknowledged the page through its card: the Acknowledge button, or declaring an
    incident from it (someone is on it), after the page was raised."""
    since = page.reopened_at or page.raised_at
    if card.ack is not None and card.ack.at >= since:
        return card.ack.user_id, "card"
    if card.incident is not None and card.incident.declared_at >= since:
        return card.incident.declared_by, "incident declared"
    return None


async def _place(paging: Paging, entry: PagedCard, own: Page | None, now: datetime) -> str:
    for _ in range(PLACE_ATTEMPTS):
        person = await oncall.first_person(paging.oncall, redis=paging.redis, at=now)
        storm = await paging.pages.storm_for(person)
        placement = place(
            own=own,
            open_for_person=await paging.pages.open_for(person),
            storm=storm,
            now=now,
            oncall=paging.oncall,
        )
        if placement.action == "ignore":
            log.info("card %s not paged: %s", entry.card_id, placement.reason)
            return "flapping"
        pause = await oncall.pause_state(paging.redis, now)
        if placement.action in ("join", "reopen") and placement.page_id is not None:
            reopen = placement.action == "reopen"
            page, _ = await paging.pages.mutate(
                placement.page_id, _join(entry, now=now, reopen=reopen, pause=pause)
            )
            if page is None:
                continue
            await ladder.tick(paging, page.page_id)  # also heals a lost tick: keys collapse
            return placement.action
        page = Page(
            page_id=new_page_id(now),
            person=person,
            state="waiting",  # the first tick starts it, at once unless a pause holds it
            raised_at=now,
            cards=[entry],
            wait_until=pause.until if pause else None,
        )
        if await paging.pages.create(
            page, paging.oncall.storm_window, storm.page_id if storm else None
        ):
            log.info("page %s raised for %s by card %s", page.page_id, person, entry.card_id)
            await ladder.tick(paging, page.page_id)
            return "raised"
    raise SeawallError(f"card {entry.card_id}: pages kept changing while placing it; retrying")


def _join(
    entry: PagedCard, *, now: datetime, reopen: bool, pause: oncall.Pause | None
) -> PageMutator:
    def mutate(page: Page | None) -> Page | None:
        if page is None:
            return None
        joining = entry.model_copy(update={"joined_after_ack": page.state == "acked"})
        changed = _put_card(page, joining)
        if reopen and page.state == "resolved":
            page.state = "waiting" if pause else "open"
            page.wait_until = pause.until if pause else None
            page.reopened_at, page.closed_at, page.claims = now, None, []
            # The level starts over with the same people; steps they already had are skipped.
            page.level_started_at = now
            changed = True
        return page if changed else None

    return mutate


def _put_card(page: Page, entry: PagedCard) -> bool:
    for i, card in enumerate(page.cards):
        if card.card_id == entry.card_id:
            entry = entry.model_copy(update={"joined_after_ack": card.joined_after_ack})
            if card == entry:
                return False
            page.cards[i] = entry
            return True
    page.cards.append(entry)
    return True


async def _update_entry(paging: Paging, page_id: str, entry: PagedCard) -> None:
    """Keep the page's copy of the card current; everything resolved ends an open page."""
    now = paging.clock.now()
    ended = False

    def mutate(page: Page | None) -> Page | None:
        nonlocal ended
        if page is None or not _put_card(page, entry):
            return None
        if page.state in ("waiting", "open", "exhausted") and not page.firing():
            page.state, page.closed_at, page.claims = "resolved", now, []
            ended = True
        return page

    _, changed = await paging.pages.mutate(page_id, mutate)
    if changed:
        await ladder.sync(paging, page_id, replies=[RESOLVED_NOTE] if ended else None)


# --- acknowledging ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AckOutcome:
    page: Page | None
    changed: bool

    def answer(self, *, plain: bool = False) -> str:
        """The sentence for whoever acknowledged: Slack mrkdwn, or `plain` text for a phone's
        browser or push app."""
        page = self.page
        if page is None:
            return "This page is no longer in Seawall's store; nothing was acknowledged."
        what = summary(page) if plain else escape(summary(page))
        if self.changed:
            return f"Acknowledged: paging stopped for {what}. Slack shows it to everyone."
        if page.state == "acked":
            if plain:
                when = f" at {page.acked_at:%H:%M} UTC" if page.acked_at else ""
                return f"Already acknowledged{when} ({page.ack_via}); nothing more was done."
            when = f" at {slack_time(page.acked_at)}" if page.acked_at else ""
            return f"Already acknowledged by <@{page.acked_by}>{when}; nothing more was done."
        if page.state == "resolved":
            return "It resolved before anyone acknowledged; there is nothing to acknowledge."
        return "Nothing was acknowledged."


async def acknowledge(paging: Paging, page_id: str, user_id: str, via: str) -> AckOutcome:
    """Stop the ladder (once: later acknowledgements change nothing) and show who did it."""
    now = paging.clock.now()

    def ack(page: Page | None) -> Page | None:
        if page is None or page.state in ("acked", "resolved"):
            return None
        page.state, page.acked_by, page.acked_at, page.ack_via = "acked", user_id, now, via
        page.closed_at, page.claims = now, []
        return page

    page, changed = await paging.pages.mutate(page_id, ack)
    if changed:
        log.info("page %s acknowledged by %s (%s)", page_id, user_id, via)
        await ladder.sync(paging, page_id)
    return AckOutcome(page, changed)


async def acknowledge_notice(paging: Paging, card_id: str, user_id: str) -> str:
    """Acknowledge on a DM (only its recipient) or on the channel's "nobody acknowledged"."""
    card = await paging.store.get_card(card_id)
    if card is None or not isinstance(card.subject, PageNotice):
        return "That button is not on a page; nothing was acknowledged."
    notice = card.subject
    if notice.recipient is not None and notice.recipient != user_id:
        return (
            f"This page was sent to <@{notice.recipient}>; nothing was acknowledged. "
            "Acknowledge on the alert's card instead."
        )
    via = "Slack DM" if notice.recipient else "channel message"
    return (await acknowledge(paging, notice.page_id, user_id, via)).answer()


async def acknowledge_mine(paging: Paging, user_id: str) -> tuple[list[AckOutcome], list[Page]]:
    """/oncall ack: every unacknowledged page (paging, or exhausted) that paged `user_id`;
    and the others, which they may acknowledge from their cards."""
    mine, others = [], []
    for page in await paging.pages.unacknowledged():
        paged = {t.user_id for t in page.targets} | {d.user_id for d in page.deliveries}
        if user_id in paged:
            mine.append(await acknowledge(paging, page.page_id, user_id, "/oncall ack"))
        else:
            others.append(page)
    return mine, others


# --- maintenance pause ---------------------------------------------------------------------


async def pause(paging: Paging, by: str, duration: timedelta) -> oncall.Pause:
    """Hold new pages until the pause ends; cards still post and say so."""
    now = paging.clock.now()
    held = oncall.Pause(by=by, until=now + duration, started_at=now)
    await oncall.set_pause(paging.redis, held, now)
    await paging.jobs.enqueue(
        PAUSE_END_JOB,
        key=str(int(held.until.timestamp())),
        delay_s=duration.total_seconds(),
    )
    return held


async def resume(paging: Paging) -> oncall.Pause | None:
    """End the pause now; held pages start paging at once if their alerts still fire."""
    ended = await oncall.clear_pause(paging.redis)
    await pause_ended(paging)
    return ended


async def pause_ended(paging: Paging) -> None:
    """Job (at the pause's end, or after /oncall resume): start held pages, clear the line."""
    now = paging.clock.now()
    if await oncall.pause_state(paging.redis, now) is not None:
        return  # a later /oncall pause is in force; its own job comes at its end
    for card_id in await oncall.take_paused_cards(paging.redis):
        await paging.store.mutate_card(card_id, _clear_pause_line)
    for page in await paging.pages.unacknowledged():
        if page.state != "waiting":
            continue

        def release(current: Page | None) -> Page | None:
            if current is None or current.state != "waiting":
                return None
            current.wait_until = now
            return current

        await paging.pages.mutate(page.page_id, release)
        await ladder.tick(paging, page.page_id)


async def _show_pause(paging: Paging, card_id: str) -> None:
    """A card that does not page shows the maintenance pause while one is in force."""
    held = await oncall.pause_state(paging.redis, paging.clock.now())
    status = PagingStatus(paused_by=held.by, paused_until=held.until) if held else None

    def mutate(card: TriageCard | None) -> CardMutation | None:
        if card is None or (card.paging is not None and card.paging.page_id is not None):
            return None
        if card.paging == status:
            return None
        card.paging = status
        return CardMutation(card=card)

    result = await paging.store.mutate_card(card_id, mutate)
    if result.changed and held is not None:
        await oncall.mark_paused_card(paging.redis, card_id)


def _clear_pause_line(card: TriageCard | None) -> CardMutation | None:
    if card is None or card.paging is None or card.paging.page_id is not None:
        return None
    card.paging = None
    return CardMutation(card=card)

"""Storms with I/O: the poster's pass planner that notices a storm in a channel, keeps one
storm card current, orders the groups' own cards worst first, and ends the storm.

It runs inside the poster's pass of a channel (bot/outbox_plan.py), so one process at a time
decides a channel's storm: the one holding the channel's lease. The storm card is an ordinary
card: the poster posts it and updates it, paced by the workspace's chat.update budget, from
its latest state (latest wins, no backlog of updates). Rebuilding it is paced too: once every
keys.STORM_REFRESH_MS for a change of state, every rules.MINOR_REFRESH for new links only.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.cards.storm import headline
from bot.core import keys
from bot.core.clock import Clock
from bot.core.jobs import JobQueue
from bot.core.retention import Retention
from bot.core.storm_config import StormConfig
from bot.deps import Deps
from bot.models.card import TriageCard
from bot.models.storm import Storm, StormRow
from bot.outbox_plan import PassPlan
from bot.poster import PASS_SIZE
from bot.store import REDIS_ERRORS, CardMutation, OutboxEntry, Store
from bot.storm import rules
from bot.storm.state import StormState

log = logging.getLogger("seawall.storm")

QUIET_JOB = "storm_quiet"
QUIET_EARLY = timedelta(seconds=2)  # saq runs delayed jobs to the whole second, maybe early


class StormPlanner:
    """Plans each poster pass of a channel: calm (oldest first, as always) or in a storm."""

    def __init__(
        self,
        *,
        store: Store,
        slack: Any,  # AsyncWebClient: auth.test, once, for links to the groups' cards
        clock: Clock,
        jobs: JobQueue,
        config: StormConfig,
        retention: Retention,
    ) -> None:
        self.store = store
        self.state = StormState(store.redis)
        self.slack = slack
        self.clock = clock
        self.jobs = jobs
        self.config = config
        self.retention = retention
        self._team_url: str | None = None

    async def plan(self, channel: str, entries: list[OutboxEntry]) -> PassPlan:
        if not self.config.enabled:
            return PassPlan(entries)
        if not any(
            rules.is_alert_card(e.card_id) or rules.is_storm_card(e.card_id) for e in entries
        ):
            return PassPlan(entries)  # nothing a storm is about: no Redis call at all
        storm_id = await self.state.active(channel)
        now = self.clock.now()
        if storm_id is None:
            return await self._calm(channel, entries, now)
        return await self._stormy(channel, storm_id, entries, now)

    async def _calm(self, channel: str, entries: list[OutboxEntry], now: datetime) -> PassPlan:
        new = [e.card_id for e in entries if e.ts is None and rules.is_alert_card(e.card_id)]
        if not new:
            return PassPlan(entries)
        now_ms = int(now.timestamp() * 1000)
        await self.state.note_recent(channel, new, now_ms)
        if not rules.is_storm(len(new), self.config):
            return PassPlan(entries)
        card_id = rules.storm_card_id(channel, now)
        members = {*new, *await self.state.recent(channel, now_ms)}
        if not await self.state.begin(channel, card_id, members):
            return PassPlan(entries)  # begun meanwhile: the next pass sees it
        log.info(
            "storm in %s: %d new alert cards waiting; storm card %s", channel, len(new), card_id
        )
        initial = rules.new_storm(channel, now, self.config, await self._team())
        await _check_quiet_at(self.jobs, channel, rules.quiet_at(initial), now)
        wait = await self.refresh(channel, card_id, now, initial=initial)
        return await self._pass(channel, card_id, wait)

    async def _stormy(
        self, channel: str, storm_id: str, entries: list[OutboxEntry], now: datetime
    ) -> PassPlan:
        new = [e.card_id for e in entries if e.ts is None and rules.is_alert_card(e.card_id)]
        await self.state.join(storm_id, new)
        wait = await self.store.pause_remaining_ms(keys.storm_refresh_pause(channel))
        if not wait:
            wait = await self.refresh(channel, storm_id, now)
        if wait:
            # Keeps the channel in the poster's work until the storm card may be rebuilt.
            await self.state.bring_back(channel, [storm_id], rules.STORM_CARD_SCORE)
        return await self._pass(channel, storm_id, wait)

    async def _pass(self, channel: str, storm_id: str, wait_ms: int) -> PassPlan:
        """The channel's outbox as the storm left it: the storm card first (unless it waits to
        be rebuilt), the groups worst first; a group not yet placed by a rebuild waits for it
        (else it would jump the queue, or be posted though its severity is summary-only)."""
        entries = await self.store.outbox_entries(
            await self.store.oldest_dirty(channel, limit=PASS_SIZE)
        )
        unplaced = [e.card_id for e in entries if e.ts is None and rules.is_alert_card(e.card_id)]
        scores = dict(zip(unplaced, await self._scores(channel, unplaced), strict=True))
        kept = [
            e
            for e in entries
            if not (wait_ms and e.card_id == storm_id and _marker(e))
            and _placed(scores.get(e.card_id))
        ]
        if not wait_ms and len(kept) < len(entries):
            wait_ms = await self.store.pause_remaining_ms(keys.storm_refresh_pause(channel))
        return PassPlan(kept, wait_ms)

    async def _scores(self, channel: str, card_ids: list[str]) -> list[float | None]:
        if not card_ids:
            return []
        result: list[float | None] = await self.store.redis.zmscore(keys.outbox(channel), card_ids)
        return result

    async def refresh(
        self, channel: str, storm_id: str, now: datetime, initial: Storm | None = None
    ) -> int:
        """Rebuild the storm card from its groups' cards if it shows something old, and end
        the storm when its time has come. Returns the ms until a deferred change may be shown
        (0: nothing deferred)."""
        card = await self.store.get_card(storm_id)
        storm = card.subject if card is not None and isinstance(card.subject, Storm) else initial
        if storm is None or storm.is_over:
            # Gone (expired, deleted) or ended by another pass: the channel is calm again.
            await self.state.end(channel, storm_id, self._keep_ms())
            return 0
        await self._join_waiting(channel, storm_id)
        rows = await self._rows(storm, await self.state.members(storm_id))
        merged, change = rules.merge(storm, rows, now)
        reason = rules.ending(merged, now)
        wait = rules.refresh_wait(storm, change, now)
        if reason is None and card is not None and wait != timedelta(0):
            # Nothing new, or a minor change not due yet: look again no sooner than a rebuild
            # may happen (reading every group's revision is not free either).
            await self.store.pause(keys.storm_refresh_pause(channel), keys.STORM_REFRESH_MS)
            return 0 if wait is None else max(1, int(wait.total_seconds() * 1000))
        shown = merged.model_copy(update={"refreshed_at": now})
        if reason is not None:
            shown = shown.model_copy(update={"ended_at": now, "end_reason": reason})
        await self.store.mutate_card(storm_id, _show(storm_id, shown, now))
        await self.store.pause(keys.storm_refresh_pause(channel), keys.STORM_REFRESH_MS)
        await self.state.order(
            channel, {**rules.posting_order(shown), storm_id: rules.STORM_CARD_SCORE}
        )
        if reason is None:
            for row in rules.held(shown):
                await self.state.withdraw(channel, row.card_id, row.revision)
            return 0
        await self._finish(channel, storm_id, shown, now)
        return 0

    async def _join_waiting(self, channel: str, storm_id: str) -> None:
        """Every new alert card waiting in the channel's outbox joins the storm, not only the
        ones a pass saw (a pass reads PASS_SIZE cards: 500 groups would join 100 a rebuild)."""
        waiting = [
            i
            for i in await self.state.unordered(channel, rules.MEMBER_SCORE_BASE)
            if rules.is_alert_card(i)
        ]
        entries = await self.store.outbox_entries(waiting)
        await self.state.join(storm_id, [e.card_id for e in entries if e.ts is None])

    async def _rows(self, storm: Storm, members: list[str]) -> list[StormRow]:
        """Every member's row: re-read only the cards whose revision moved since the card was
        last rebuilt (one MGET tells which); a newly posted card brings its link."""
        known = {r.card_id: r for r in storm.rows}
        entries = [e for e in await self.store.outbox_entries(members) if e.revision is not None]
        stale = [
            e.card_id
            for e in entries
            if e.card_id not in known or known[e.card_id].revision != e.revision
        ]
        read = dict(zip(stale, await self.state.cards(stale), strict=True))
        rows = []
        for entry in entries:
            row: StormRow | None
            if entry.card_id in read:
                card = read[entry.card_id]  # None: it went between the two reads
                row = None
                if card is not None:
                    row = rules.row_for(card, entry.revision or 0, entry.ts, self.config)
            else:
                row = known[entry.card_id]
                if row.ts != entry.ts:
                    row = row.model_copy(update={"ts": entry.ts})
            if row is not None:
                rows.append(row)
        return rows

    def _keep_ms(self) -> int:
        """How long an ended storm's member list stays: as long as its card."""
        return int(self.retention.resolved_cards.total_seconds() * 1000)

    async def _finish(self, channel: str, storm_id: str, storm: Storm, now: datetime) -> None:
        await self.state.end(channel, storm_id, self._keep_ms())
        released = rules.released_at_end(storm)
        now_ms = int(now.timestamp() * 1000)
        await self.state.bring_back(channel, released, now_ms, keep_score=True)
        log.info(
            "storm %s in %s over (%s): %d groups, %d released for their own cards",
            storm_id,
            channel,
            storm.end_reason,
            len(storm.rows),
            len(released),
        )

    async def _team(self) -> str | None:
        """The workspace's URL for permalinks to the groups' cards (auth.test, once per
        process); None when Slack does not say: the storm card then has no links."""
        if self._team_url is None:
            try:
                response = await self.slack.auth_test()
                self._team_url = str(response.get("url") or "") or None
            except (SlackApiError, *REDIS_ERRORS, OSError, TimeoutError) as exc:
                log.warning("auth.test failed (%s); the storm card has no links this time", exc)
        return self._team_url


def _marker(entry: OutboxEntry) -> bool:
    """The storm card is in the outbox only to bring the poster back (Slack shows its latest
    revision): held back until it may be rebuilt. With a change of its own (an
    acknowledgement, a silence) it goes now, the deferred rebuild later."""
    return entry.ts is not None and not entry.needs_update


def _placed(score: float | None) -> bool:
    """A new group's card has its place once a rebuild gave it a member score (None: it is
    not a new group's card, or it left the outbox meanwhile)."""
    return score is None or score >= rules.MEMBER_SCORE_BASE


def _show(storm_id: str, storm: Storm, now: datetime) -> Any:
    """The storm card's mutation: its rows, and once over, the end (with one thread reply)."""

    def mutate(card: TriageCard | None) -> CardMutation | None:
        if card is None:
            new = TriageCard(
                card_id=storm_id,
                channel=storm.channel,
                subject=storm,
                created_at=now,
                updated_at=now,
            )
            return CardMutation(card=new)
        if not isinstance(card.subject, Storm) or card.subject.is_over:
            return None
        card.subject = storm
        return CardMutation(card=card, replies=[rules.end_reply(storm)] if storm.is_over else [])

    return mutate


# --- the quiet check, and what paging reads -----------------------------------------------


def planner_from(deps: Deps) -> StormPlanner:
    return StormPlanner(
        store=deps.store,
        slack=deps.slack,
        clock=deps.clock,
        jobs=deps.jobs,
        config=deps.config.storm,
        retention=deps.config.retention,
    )


async def quiet_check(deps: Deps, *, channel: str) -> str:
    """Job, due when a storm would be over by quiet: bring the storm card back to the poster,
    whose pass ends it (one code path ends storms); early, schedule the next check."""
    state = StormState(deps.redis)
    storm_id = await state.active(channel)
    card = await deps.store.get_card(storm_id) if storm_id else None
    if storm_id is None or card is None or not isinstance(card.subject, Storm):
        return "no storm"
    due, now = rules.quiet_at(card.subject), deps.clock.now()
    if due - now > QUIET_EARLY:
        await _check_quiet_at(deps.jobs, channel, due, now)
        return "later"
    await deps.clock.sleep(max(0.0, (due - now).total_seconds()))
    await state.bring_back(channel, [storm_id], rules.STORM_CARD_SCORE)
    # If a change came meanwhile, the pass does not end the storm: the next check is due a
    # quiet time after now at the latest (and finds no storm if this one ends).
    now = deps.clock.now()
    await _check_quiet_at(deps.jobs, channel, now + card.subject.quiet, now)
    return "due"


async def _check_quiet_at(jobs: JobQueue, channel: str, due: datetime, now: datetime) -> None:
    await jobs.enqueue(
        QUIET_JOB,
        key=f"{channel}:{int(due.timestamp())}",
        delay_s=max(0.0, (due - now).total_seconds()),
        channel=channel,
    )


async def headline_for(deps: Deps, channels: list[str]) -> str | None:
    """The first line of the storm card of the first of `channels` in a storm (a page about a
    storm says it), or None."""
    state = StormState(deps.redis)
    for channel in channels:
        storm_id = await state.active(channel)
        card = await deps.store.get_card(storm_id) if storm_id else None
        if card is not None and isinstance(card.subject, Storm):
            return headline(card.subject)
    return None

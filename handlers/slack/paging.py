"""`/oncall now|take|handover|pause|resume|ack`, the Acknowledge button of a page, and the
paging jobs (card changes, ladder ticks, the pause's end, heartbeats).

Commands touch only Redis, so their answer rides in the ack. Taking, handing over and
pausing change who is woken: they need the access actions oncall.take / oncall.handover /
oncall.pause (checked by the command router's guard before anything here runs).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from bot.cards.common import ActionId, escape, slack_time
from bot.core.paging_config import SCHEDULE_PREFIX, Oncall
from bot.core.times import duration_words, parse_duration
from bot.deps import Deps
from bot.models.card import TriageCard
from bot.models.page import PageNotice
from bot.paging import flow, heartbeat, ladder, oncall, rota
from bot.paging.ladder import Paging
from bot.paging.rules import summary
from handlers.slack.feature import Button, Feature, Invocation, JobFn, Reply, Subcommand

NO_ROTA = (
    "No on-call rota is configured, so nobody is paged: alerts only post cards. Add an "
    "`oncall:` section to SEAWALL_CONFIG (docs/paging.md) to page someone."
)
MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>$|^([UW][A-Z0-9]{2,})$")
TAKE_MAX = timedelta(days=30)
PAUSE_MAX = timedelta(days=7)
PAGES_SHOWN = 10


def _paging(deps: Deps) -> Paging | None:
    return flow.paging_from(deps)


# --- /oncall now ------------------------------------------------------------------------------


async def now(deps: Deps, inv: Invocation) -> Reply:
    paging = _paging(deps)
    if paging is None:
        return Reply(NO_ROTA)
    at = deps.clock.now()
    lines = ["*On call now*"]
    for name, schedule in paging.oncall.schedules.items():
        overrides = await oncall.overrides(deps.redis, name)
        shift = rota.on_call(name, schedule, overrides, at)
        following = rota.next_shift(name, schedule, overrides, at)
        how = f"{schedule.rotation}, hands over {schedule.handoff} {schedule.timezone}"
        line = (
            f"• *{name}* ({how}): <@{shift.user_id}> until {slack_time(shift.end)}"
            f" · next: <@{following.user_id}>"
        )
        if shift.override is not None:
            verb = "took it" if shift.override.kind == "take" else "handed it over"
            line += f" (override: <@{shift.override.by}> {verb})"
        lines.append(line)
    lines.append(_ladder_text(paging.oncall))
    held = await oncall.pause_state(deps.redis, at)
    if held is not None:
        lines.append(
            f"🔧 Paging is paused by <@{held.by}> until {slack_time(held.until)}: alerts post "
            "cards but wake nobody. `/oncall resume` ends it."
        )
    lines += await _pages_text(paging)
    return Reply("\n".join(lines))


def _ladder_text(config: Oncall) -> str:
    steps = []
    for i, level in enumerate(config.escalation, start=1):
        who = ", ".join(
            f"schedule {t.removeprefix(SCHEDULE_PREFIX)}"
            if t.startswith(SCHEDULE_PREFIX)
            else (f"<!subteam^{t}>" if t.startswith("S") else f"<@{t}>")
            for t in level.notify
        )
        steps.append(f"{i}. {who} ({duration_words(level.ack_timeout)} to acknowledge)")
    again = f", repeated {config.repeat}×" if config.repeat else ""
    return f"*Escalation*: {' → '.join(steps)}{again}; then the channel is told."


async def _pages_text(paging: Paging) -> list[str]:
    pages = await paging.pages.unacknowledged()
    if not pages:
        return ["No page is waiting for an acknowledgement."]
    lines = [f"*Pages waiting for an acknowledgement ({len(pages)})*"]
    for page in pages[:PAGES_SHOWN]:
        who = ", ".join(f"<@{t.user_id}>" for t in page.targets) or "nobody yet"
        state = {"waiting": "held by the pause", "exhausted": "nobody acknowledged"}.get(
            page.state, f"paging {who}, level {page.level + 1}"
        )
        lines.append(f"• {escape(summary(page))}: {state} (since {slack_time(page.raised_at)})")
    if len(pages) > PAGES_SHOWN:
        lines.append(f"…and {len(pages) - PAGES_SHOWN} more")
    return lines


# --- /oncall take, handover --------------------------------------------------------------------


def _schedule_for(config: Oncall, user_id: str, named: str | None) -> str | None:
    """The schedule a take/handover is about: the one named, else the only one, else the one
    the person is a member of, else the first the escalation pages."""
    if named is not None:
        return named if named in config.schedules else None
    if len(config.schedules) == 1:
        return next(iter(config.schedules))
    member = [n for n, s in config.schedules.items() if user_id in s.members]
    if len(member) == 1:
        return member[0]
    for level in config.escalation:
        for target in level.notify:
            if target.startswith(SCHEDULE_PREFIX):
                return target.removeprefix(SCHEDULE_PREFIX)
    return next(iter(config.schedules), None)


def _split(words: list[str], config: Oncall) -> tuple[timedelta | None, str | None, list[str]]:
    """(a duration, a schedule name, the other words) from a command's words."""
    duration, schedule, rest = None, None, []
    for word in words:
        if word in config.schedules:
            schedule = word
            continue
        try:
            duration = parse_duration(word)
        except ValueError:
            rest.append(word)
    return duration, schedule, rest


async def take(deps: Deps, inv: Invocation) -> Reply:
    paging = _paging(deps)
    if paging is None or not paging.oncall.schedules:
        return Reply(NO_ROTA if paging is None else "There is no schedule to take; nothing done.")
    duration, named, rest = _split(inv.text.split(), paging.oncall)
    if rest:
        return Reply(
            f"I did not understand `{escape(' '.join(rest)[:60])}`; nothing was changed. "
            "Usage: `/oncall take [duration] [schedule]`, e.g. `/oncall take 2h`."
        )
    if duration is not None and not timedelta(minutes=1) <= duration <= TAKE_MAX:
        return Reply("Take the pager for between 1 minute and 30 days; nothing was changed.")
    name = _schedule_for(paging.oncall, inv.user_id, named)
    assert name is not None
    return await _override(deps, name, inv.user_id, inv.user_id, duration, "take")


async def handover(deps: Deps, inv: Invocation) -> Reply:
    paging = _paging(deps)
    if paging is None or not paging.oncall.schedules:
        return Reply(NO_ROTA if paging is None else "There is no schedule to hand over.")
    words = inv.text.split()
    target = next((m.group(1) or m.group(2) for w in words if (m := MENTION.match(w))), None)
    others = [w for w in words if not MENTION.match(w)]
    duration, named, rest = _split(others, paging.oncall)
    if target is None or rest:
        return Reply(
            "Say who takes the pager: `/oncall handover @person [schedule]` (pick them from "
            "the @ list, so Slack sends who they are). Nothing was changed."
        )
    name = _schedule_for(paging.oncall, inv.user_id, named)
    assert name is not None
    return await _override(deps, name, target, inv.user_id, duration, "handover")


async def _override(
    deps: Deps,
    name: str,
    user_id: str,
    by: str,
    duration: timedelta | None,
    kind: rota.OverrideKind,
) -> Reply:
    config = deps.config.oncall
    assert config is not None
    at = deps.clock.now()
    current = await oncall.overrides(deps.redis, name)
    override = rota.take(
        name,
        config.schedules[name],
        current,
        user_id=user_id,
        by=by,
        now=at,
        duration=duration,
        kind=kind,
    )
    await oncall.add_override(deps.redis, name, override, at)
    who = "took the pager" if kind == "take" else f"handed the pager to <@{user_id}>"
    return Reply(
        f"📟 <@{by}> {who} ({name}) until {slack_time(override.end)}. New pages go to "
        f"<@{user_id}>; pages already running keep their people.",
        in_channel=True,
    )


# --- /oncall pause, resume, ack ------------------------------------------------------------------


async def pause(deps: Deps, inv: Invocation) -> Reply:
    paging = _paging(deps)
    if paging is None:
        return Reply(NO_ROTA)
    words = inv.text.split()
    if words in (["off"], ["end"]):
        return await resume(deps, inv)
    try:
        duration = parse_duration(words[0]) if len(words) == 1 else None
    except ValueError:
        duration = None
    if duration is None or not timedelta(minutes=1) <= duration <= PAUSE_MAX:
        return Reply(
            "Say how long: `/oncall pause 2h` (1 minute to 7 days). Nothing was paused. "
            "Cards keep posting during a pause; pages wait until it ends."
        )
    held = await flow.pause(paging, inv.user_id, duration)
    running = len([p for p in await paging.pages.unacknowledged() if p.state == "open"])
    tail = (
        f" {running} page(s) already running go on: acknowledge them to stop them."
        if running
        else ""
    )
    return Reply(
        f"🔧 <@{inv.user_id}> paused paging for {duration_words(duration)} (until "
        f"{slack_time(held.until)}) for maintenance: alerts still post cards here but wake "
        f"nobody; anything still firing then pages at that moment. `/oncall resume` ends it "
        f"early.{tail}",
        in_channel=True,
    )


async def resume(deps: Deps, inv: Invocation) -> Reply:
    paging = _paging(deps)
    if paging is None:
        return Reply(NO_ROTA)
    ended = await flow.resume(paging)
    if ended is None:
        return Reply("Paging was not paused; nothing was changed.")
    return Reply(
        f"🔔 <@{inv.user_id}> resumed paging (the pause by <@{ended.by}> was to last until "
        f"{slack_time(ended.until)}). Alerts still firing page now.",
        in_channel=True,
    )


async def ack(deps: Deps, inv: Invocation) -> Reply:
    paging = _paging(deps)
    if paging is None:
        return Reply(NO_ROTA)
    mine, others = await flow.acknowledge_mine(paging, inv.user_id)
    if mine:
        return Reply("\n".join(outcome.answer() for outcome in mine))
    if others:
        listed = "; ".join(escape(summary(p)) for p in others[:5])
        return Reply(
            f"No page is waiting for you, so nothing was acknowledged. Pages paging others: "
            f"{listed}. Acknowledge those on their cards if you take them."
        )
    return Reply("No page is waiting for an acknowledgement; nothing was done.")


SUBCOMMANDS = [
    Subcommand("/oncall", "now", "now", "who is on call, until when, who is next; open pages", now),
    Subcommand(
        "/oncall", "take", "take [duration] [schedule]",
        "take the pager yourself (until the next handoff unless you say how long)", take,
        action="oncall.take",
    ),
    Subcommand(
        "/oncall", "handover", "handover @person [schedule]",
        "give the pager to someone until the next handoff", handover, action="oncall.handover",
    ),
    Subcommand(
        "/oncall", "pause", "pause <duration>",
        "maintenance: cards still post, pages wait until the pause ends", pause,
        action="oncall.pause",
    ),
    Subcommand("/oncall", "resume", "resume", "end a pause now", resume, action="oncall.pause"),
    Subcommand("/oncall", "ack", "ack", "acknowledge the pages that are paging you", ack),
]  # fmt: skip


# --- the page's Acknowledge button, and the jobs ----------------------------------------------


def _ack_action(card: TriageCard) -> str | None:
    """A DM's button is its recipient's own (checked in the work); the channel's "nobody
    acknowledged" message takes whoever may acknowledge alerts."""
    subject = card.subject
    if isinstance(subject, PageNotice) and subject.recipient is None:
        return "alert.ack"
    return None


def buttons(deps: Deps) -> Mapping[ActionId, Button]:
    async def acknowledge(card_id: str, user: dict[str, Any]) -> str:
        paging = _paging(deps)
        if paging is None:
            return NO_ROTA
        return await flow.acknowledge_notice(paging, card_id, str(user.get("id")))

    return {ActionId.PAGE_ACK: Button(acknowledge, _ack_action)}


async def page_card(deps: Deps, *, card_id: str) -> str:
    paging = _paging(deps)
    return await flow.card_changed(paging, card_id) if paging else "no rota"


async def page_tick(deps: Deps, *, page_id: str) -> None:
    paging = _paging(deps)
    if paging is not None:
        await ladder.tick(paging, page_id)


async def pause_end(deps: Deps) -> None:
    paging = _paging(deps)
    if paging is not None:
        await flow.pause_ended(paging)


async def heartbeat_check(deps: Deps, *, name: str) -> None:
    config = deps.config.oncall
    beat = next((h for h in config.heartbeats if h.name == name), None) if config else None
    if beat is None:
        return  # removed from the config since
    card_id = await heartbeat.check(
        beat,
        redis=deps.redis,
        store=deps.store,
        clock=deps.clock,
        config=deps.config,
        default_channel=deps.settings.seawall_channel,
    )
    paging = _paging(deps)
    if card_id is not None and paging is not None:
        await flow.card_changed(paging, card_id)


async def heartbeat_ping(deps: Deps) -> bool:
    url = deps.settings.seawall_heartbeat_url
    return await heartbeat.ping(deps.http, url) if url else False


JOBS: dict[str, JobFn] = {
    flow.PAGE_CARD_JOB: page_card,
    ladder.PAGE_TICK_JOB: page_tick,
    flow.PAUSE_END_JOB: pause_end,
    heartbeat.HEARTBEAT_CHECK_JOB: heartbeat_check,
    heartbeat.HEARTBEAT_PING_JOB: heartbeat_ping,
}

FEATURE = Feature(name="paging", subcommands=SUBCOMMANDS, buttons=buttons, jobs=JOBS)

"""What one feature needs from another, joined here by the composition root.

Features never import each other (DESIGN.md "Layout"): incidents ask "who is on call?",
access asks "is this person on call?", and paging must hear of every card an intake or a
button changed. Each question is answered here, with the feature that knows, and handed to
the one that asks as an argument or a job.
"""

from __future__ import annotations

import logging

from bot.access.rules import granting_roles
from bot.alerts.payload import AlertmanagerWebhook
from bot.core.paging_config import SCHEDULE_PREFIX
from bot.deps import Deps
from bot.paging import heartbeat, oncall
from bot.paging.flow import PAGE_CARD_JOB
from bot.store import REDIS_ERRORS
from bot.storm import flow as storm

log = logging.getLogger("seawall.wiring")

RESPONDERS = "responders"


async def card_changed(deps: Deps, card_id: str) -> None:
    """Tell paging that `card_id` changed (a cheap job; nothing when `oncall:` is absent).
    No job key: saq keeps a finished job's key for a while, and every change must be seen."""
    if deps.config.oncall is None:
        return
    await deps.jobs.enqueue(PAGE_CARD_JOB, card_id=card_id)


async def oncall_user(deps: Deps) -> str | None:
    """The person level 1 pages now (a schedule's holder or a named user), to invite into a
    new incident channel; None without a rota, or if Redis cannot say (declaring goes on)."""
    config = deps.config.oncall
    if config is None:
        return None
    first = config.escalation[0].notify[0]
    if first.startswith(SCHEDULE_PREFIX):
        try:
            name = first.removeprefix(SCHEDULE_PREFIX)
            return (await oncall.shift_now(deps.redis, config, name, deps.clock.now())).user_id
        except REDIS_ERRORS as exc:
            log.warning("on-call person unknown (Redis: %s); not invited", exc)
            return None
    return first if first.startswith(("U", "W")) else None


def install(deps: Deps) -> None:
    """Give `deps` the answers only the composition root can join; called wherever a web
    process or a worker is built, so the web's check and the worker's re-check agree."""

    async def extra_roles(user_id: str, action: str | None) -> set[str]:
        if action is None or deps.config.access is None:
            return set()
        return await responder_roles(deps, user_id, granting_roles(deps.config.access, action))

    async def storm_headline(channels: list[str]) -> str | None:
        return await storm.headline_for(deps, channels)

    deps.extra_roles = extra_roles
    deps.storm_headline = storm_headline  # a page about a storm says the storm card's first line


async def responder_roles(deps: Deps, user_id: str, granting: tuple[str, ...] | None) -> set[str]:
    """{"responders"} while `user_id` is on call and that role would grant the action: the
    on-call person counts as a responder (DESIGN.md "Access")."""
    access = deps.config.access
    if access is None or RESPONDERS not in access.roles:
        return set()
    if granting is None or RESPONDERS not in granting:
        return set()
    users = await oncall.on_call_users(deps.redis, deps.config.oncall, deps.clock.now())
    return {RESPONDERS} if user_id in users else set()


async def heartbeats_only(deps: Deps, hook: AlertmanagerWebhook) -> bool:
    """Record the heartbeats in an Alertmanager delivery; True when it holds nothing else
    (then no card is written: a Watchdog that fires for ever would only be noise)."""
    config = deps.config.oncall
    if config is None or not config.heartbeats:
        return False
    others = False
    for alert in hook.alerts:
        beat = config.heartbeat_for(alert.labels.get("alertname", ""))
        if beat is None:
            others = True
            continue
        if (alert.status or hook.status) != "firing":
            continue
        was_missing = await heartbeat.beat(beat, redis=deps.redis, jobs=deps.jobs, clock=deps.clock)
        if was_missing:
            card_id = await heartbeat.back(
                beat, redis=deps.redis, store=deps.store, clock=deps.clock
            )
            await card_changed(deps, card_id)
    return not others

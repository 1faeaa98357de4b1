"""The rota's state in Redis: overrides (/oncall take, /oncall handover) and the maintenance
pause (/oncall pause); and who a level of the ladder pages right now.

Several web and worker processes read these, so nothing is cached in a process; the pure
maths is bot/paging/rota.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis.asyncio as aioredis
from pydantic import BaseModel, TypeAdapter
from redis.exceptions import WatchError

from bot.core import keys
from bot.core.paging_config import SCHEDULE_PREFIX, Level, Oncall
from bot.core.redis_primitives import retry_after_watch
from bot.core.slack import UsergroupLister
from bot.paging.rota import Override, Shift, on_call, prune

log = logging.getLogger("seawall.paging.oncall")

_OVERRIDES = TypeAdapter(list[Override])


async def overrides(redis: aioredis.Redis, schedule: str) -> list[Override]:
    raw = await redis.get(keys.oncall_overrides(schedule))
    return _OVERRIDES.validate_json(raw) if raw else []


async def add_override(
    redis: aioredis.Redis, schedule: str, override: Override, now: datetime
) -> list[Override]:
    """Store `override` beside the ones still in force (compare-and-set: two /oncall take at
    once both land); the key lives until the last one ends."""
    key = keys.oncall_overrides(schedule)
    async with redis.pipeline(transaction=True) as pipe:
        while True:
            try:
                await pipe.watch(key)
                raw = await pipe.get(key)
                kept = [*prune(_OVERRIDES.validate_json(raw) if raw else [], now), override]
                ttl = max(1, int(max(o.end for o in kept).timestamp() - now.timestamp()) + 60)
                pipe.multi()
                pipe.set(key, _OVERRIDES.dump_json(kept), ex=ttl)
                await pipe.execute()
                return kept
            except WatchError as exc:
                retry_after_watch(exc)
                continue


async def shift_now(redis: aioredis.Redis, oncall: Oncall, schedule: str, at: datetime) -> Shift:
    return on_call(schedule, oncall.schedules[schedule], await overrides(redis, schedule), at)


async def on_call_users(redis: aioredis.Redis, oncall: Oncall | None, at: datetime) -> set[str]:
    """Everyone holding a schedule's pager at `at` (for "on call counts as a responder")."""
    if oncall is None:
        return set()
    return {(await shift_now(redis, oncall, name, at)).user_id for name in oncall.schedules}


@dataclass(frozen=True)
class LevelTargets:
    users: list[str]
    problems: list[str]  # e.g. a user group Slack would not list


async def level_targets(
    level: Level,
    *,
    oncall: Oncall,
    redis: aioredis.Redis,
    slack: UsergroupLister,
    at: datetime,
) -> LevelTargets:
    """The people a level pages at `at`: a schedule's on-call person, users, user groups'
    members (asked of Slack each time: membership changes)."""
    users: list[str] = []
    problems: list[str] = []
    for target in level.notify:
        if target.startswith(SCHEDULE_PREFIX):
            shift = await shift_now(redis, oncall, target.removeprefix(SCHEDULE_PREFIX), at)
            users.append(shift.user_id)
        elif target.startswith("S"):
            members, problem = await _usergroup_members(slack, target)
            users += members
            if problem:
                problems.append(problem)
        else:
            users.append(target)
    return LevelTargets(list(dict.fromkeys(users)), problems)


async def _usergroup_members(slack: UsergroupLister, group: str) -> tuple[list[str], str | None]:
    try:
        response = await slack.usergroups_users_list(usergroup=group)
        return [str(u) for u in response.get("users") or []], None
    except Exception as exc:  # Slack down or refusing: page the others, say who was missed
        log.warning("usergroups.users.list %s failed: %s", group, exc)
        return [], f"Slack would not list the members of <!subteam^{group}>; they were not paged"


async def first_person(oncall: Oncall, *, redis: aioredis.Redis, at: datetime) -> str:
    """Who level 1 pages first: the storm key (pages for the same person become one). A user
    group stands for itself, so no Slack call is needed to place an alert."""
    first = oncall.escalation[0].notify[0]
    if first.startswith(SCHEDULE_PREFIX):
        return (await shift_now(redis, oncall, first.removeprefix(SCHEDULE_PREFIX), at)).user_id
    return first


class Pause(BaseModel):
    by: str
    until: datetime
    started_at: datetime


async def pause_state(redis: aioredis.Redis, now: datetime) -> Pause | None:
    """The pause in force at `now` (the key's TTL ends it too; the clock decides first)."""
    raw = await redis.get(keys.ONCALL_PAUSE)
    pause = Pause.model_validate_json(raw) if raw else None
    return pause if pause is not None and pause.until > now else None


async def set_pause(redis: aioredis.Redis, pause: Pause, now: datetime) -> None:
    ttl = max(1, int((pause.until - now).total_seconds()))
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(keys.ONCALL_PAUSE, pause.model_dump_json(), ex=ttl)
        pipe.expire(keys.PAUSE_CARDS, ttl + int(timedelta(days=1).total_seconds()))
        await pipe.execute()


async def clear_pause(redis: aioredis.Redis) -> Pause | None:
    """End the pause now; the pause that was in force, if any."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.get(keys.ONCALL_PAUSE)
        pipe.delete(keys.ONCALL_PAUSE)
        raw, _ = await pipe.execute()
    return Pause.model_validate_json(raw) if raw else None


async def mark_paused_card(redis: aioredis.Redis, card_id: str) -> None:
    await redis.sadd(keys.PAUSE_CARDS, card_id)
    if await redis.ttl(keys.PAUSE_CARDS) < 0:
        await redis.expire(keys.PAUSE_CARDS, int(timedelta(days=1).total_seconds()))


async def take_paused_cards(redis: aioredis.Redis) -> list[str]:
    """The cards showing the maintenance line, forgotten as they are handed back."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.smembers(keys.PAUSE_CARDS)
        pipe.delete(keys.PAUSE_CARDS)
        members, _ = await pipe.execute()
    return sorted(members)

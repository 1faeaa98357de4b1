"""The incident timeline: an append-only Redis Stream per incident, read by the postmortem."""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Literal

import redis.asyncio as aioredis
from pydantic import BaseModel

from bot import keys
from bot.clock import Clock
from bot.deps import Deps

EntryKind = Literal["incident", "alert", "action", "step", "prompt", "approval", "message", "note"]

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


class TimelineEntry(BaseModel):
    at: datetime
    kind: EntryKind
    text: str  # plain text as a person would say it; escaped only when shown in Slack
    actor: str | None = None  # Slack user id, or "seawall"
    ref: str | None = None  # card id, run id, approval id… for cross-reference
    entry_id: str | None = None  # the stream id, filled when read

    @property
    def by_person(self) -> bool:
        """True when a Slack user (not Seawall or an integration) did this."""
        return self.actor is not None and USER_ID.match(self.actor) is not None


async def record(
    deps: Deps,
    incident_id: str | None,
    kind: EntryKind,
    text: str,
    *,
    actor: str | None = None,
    ref: str | None = None,
) -> str | None:
    """Append one entry; a no-op when the event belongs to no incident."""
    return await append(deps.redis, deps.clock, incident_id, kind, text, actor=actor, ref=ref)


async def append(
    redis: aioredis.Redis,
    clock: Clock,
    incident_id: str | None,
    kind: EntryKind,
    text: str,
    *,
    actor: str | None = None,
    ref: str | None = None,
) -> str | None:
    """`record` for code that holds a Redis client and a clock rather than Deps (intake)."""
    if incident_id is None:
        return None
    entry = TimelineEntry(at=clock.now(), kind=kind, text=text, actor=actor, ref=ref)
    fields = {"json": entry.model_dump_json(exclude={"entry_id"})}
    entry_id: str = await redis.xadd(keys.timeline(incident_id), fields)
    return entry_id


async def read(deps: Deps, incident_id: str, *, limit: int | None = None) -> list[TimelineEntry]:
    """Entries oldest first (the last `limit` ones when given)."""
    return await read_stream(deps.redis, incident_id, limit=limit)


async def read_stream(
    redis: aioredis.Redis, incident_id: str, *, limit: int | None = None
) -> list[TimelineEntry]:
    """`read` for code without Deps (the postmortem command). Stream ids order the entries:
    Redis assigns them increasing, so this is append order even if clocks disagree."""
    key = keys.timeline(incident_id)
    if limit is None:
        raw = await redis.xrange(key)
    else:
        raw = list(reversed(await redis.xrevrange(key, count=limit)))
    entries = []
    for entry_id, fields in raw:
        entry = TimelineEntry.model_validate_json(fields["json"])
        entry.entry_id = entry_id
        entries.append(entry)
    return entries


_SLACK_MARKUP = re.compile(r"<([^<>]*)>")


def _markup_to_plain(match: re.Match[str]) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith(("@U", "@W")):
        return "@" + (label or target[1:])
    if target.startswith("#C"):
        return "#" + (label or target[1:])
    if target.startswith("!subteam^"):
        return label or "@group"
    if target.startswith("!"):
        return "@" + (label or target[1:].split("^", 1)[0])
    return f"{label} ({target})" if label and label != target else target


def plain_text(slack_text: str) -> str:
    """A Slack message's text as a person reads it: mentions, channels and links as plain
    words, entities decoded. Stored this way, the text is never a live mention again."""
    return html.unescape(_SLACK_MARKUP.sub(_markup_to_plain, slack_text))

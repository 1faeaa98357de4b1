"""The incident timeline: an append-only Redis Stream per incident, read by the postmortem."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from bot import keys
from bot.deps import Deps

EntryKind = Literal["incident", "alert", "action", "step", "prompt", "approval", "message", "note"]


class TimelineEntry(BaseModel):
    at: datetime
    kind: EntryKind
    text: str  # plain text as a person would say it; escaped only when shown in Slack
    actor: str | None = None  # Slack user id, or "seawall"
    ref: str | None = None  # card id, run id, approval id… for cross-reference
    entry_id: str | None = None  # the stream id, filled when read


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
    if incident_id is None:
        return None
    entry = TimelineEntry(at=deps.clock.now(), kind=kind, text=text, actor=actor, ref=ref)
    fields = {"json": entry.model_dump_json(exclude={"entry_id"})}
    entry_id: str = await deps.redis.xadd(keys.timeline(incident_id), fields)
    return entry_id


async def read(deps: Deps, incident_id: str, *, limit: int | None = None) -> list[TimelineEntry]:
    """Entries oldest first (the last `limit` ones when given)."""
    key = keys.timeline(incident_id)
    if limit is None:
        raw = await deps.redis.xrange(key)
    else:
        raw = list(reversed(await deps.redis.xrevrange(key, count=limit)))
    entries = []
    for entry_id, fields in raw:
        entry = TimelineEntry.model_validate_json(fields["json"])
        entry.entry_id = entry_id
        entries.append(entry)
    return entries

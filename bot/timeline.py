"""The incident timeline: an append-only Redis Stream per incident, read by the postmortem."""

from __future__ import annotations

import html
import re

import redis.asyncio as aioredis

from bot.core import keys
from bot.core.clock import Clock
from bot.models.timeline import EntryKind, TimelineEntry


class Timeline:
    """Appends to and reads incidents' timelines; built once with the Redis client and clock
    it writes with (Deps.timeline), so every caller uses it the same way."""

    def __init__(self, *, redis: aioredis.Redis, clock: Clock) -> None:
        self.redis = redis
        self.clock = clock

    async def append(
        self,
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
        entry = TimelineEntry(at=self.clock.now(), kind=kind, text=text, actor=actor, ref=ref)
        fields = {"json": entry.model_dump_json(exclude={"entry_id"})}
        entry_id: str = await self.redis.xadd(keys.timeline(incident_id), fields)
        return entry_id

    async def read(self, incident_id: str, *, limit: int | None = None) -> list[TimelineEntry]:
        """Entries oldest first (the last `limit` ones when given). Stream ids order the
        entries: Redis assigns them increasing, so this is append order even if clocks
        disagree."""
        key = keys.timeline(incident_id)
        if limit is None:
            raw = await self.redis.xrange(key)
        else:
            raw = list(reversed(await self.redis.xrevrange(key, count=limit)))
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

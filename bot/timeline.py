"""The incident timeline: an append-only Redis Stream per incident, read by the postmortem."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import redis.asyncio as aioredis

from bot.core import keys
from bot.core.clock import Clock
from bot.core.retention import TIMELINE_MAX_ENTRIES, TIMELINES_RETENTION
from bot.models.timeline import EntryKind, TimelineEntry

# An entry for an incident whose timeline does not exist (it expired after its postmortem
# window, or the declaration never got that far) starts one that expires after that window
# (ARGV[3] ms): only the declaration starts a timeline kept for good.
_APPEND = """
local existed = redis.call('EXISTS', KEYS[1])
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'json', ARGV[2])
if existed == 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return id
"""


class Timeline:
    """Appends to and reads incidents' timelines; built once with the Redis client and clock
    it writes with (Deps.timeline), so every caller uses it the same way."""

    def __init__(
        self,
        *,
        redis: aioredis.Redis,
        clock: Clock,
        max_entries: int = TIMELINE_MAX_ENTRIES,
        orphan_ttl: timedelta = TIMELINES_RETENTION,
    ) -> None:
        self.redis = redis
        self.clock = clock
        self.max_entries = max_entries
        self._orphan_ttl_ms = int(orphan_ttl.total_seconds() * 1000)
        self._append = redis.register_script(_APPEND)

    async def begin(
        self,
        incident_id: str,
        kind: EntryKind,
        text: str,
        *,
        actor: str | None = None,
        ref: str | None = None,
    ) -> str:
        """The declaration's entry: it starts the timeline, kept for good while the incident is
        open (the incident's resolve gives it its TTL)."""
        fields = {"json": self._entry(kind, text, actor, ref)}
        # MAXLEN ~ trims whole stream nodes, so it costs nothing on most appends.
        entry_id: str = await self.redis.xadd(
            keys.timeline(incident_id), fields, maxlen=self.max_entries, approximate=True
        )
        return entry_id

    async def append(
        self,
        incident_id: str | None,
        kind: EntryKind,
        text: str,
        *,
        actor: str | None = None,
        ref: str | None = None,
    ) -> str | None:
        """Append one entry (trimming the oldest beyond `max_entries`); a no-op when the event
        belongs to no incident."""
        if incident_id is None:
            return None
        entry_id: str = await self._append(
            keys=[keys.timeline(incident_id)],
            args=[self.max_entries, self._entry(kind, text, actor, ref), self._orphan_ttl_ms],
        )
        return entry_id

    def _entry(self, kind: EntryKind, text: str, actor: str | None, ref: str | None) -> str:
        entry = TimelineEntry(at=self.clock.now(), kind=kind, text=text, actor=actor, ref=ref)
        return entry.model_dump_json(exclude={"entry_id"})

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

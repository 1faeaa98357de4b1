"""How a poster pass is planned: which of a channel's outbox cards it sends, in what order.

The poster (bot/poster.py) asks a planner before every pass of a channel. The composition
root gives it one that knows about storms (bot/storm); the poster knows nothing of what it
decides, only that it may hold cards back and ask for another pass later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.store import OutboxEntry


@dataclass(frozen=True)
class PassPlan:
    """What one pass of a channel sends: these outbox entries, in this order. `wait_ms` > 0:
    the planner holds something back until then (e.g. a storm card that may not be rebuilt
    yet), so the channel needs a pass again then even if nothing else waits."""

    entries: list[OutboxEntry]
    wait_ms: int = 0


class PassPlanner(Protocol):
    """Decides each pass of a channel from its outbox entries (oldest first); may change the
    outbox itself and read it again. The composition root gives the poster one (a storm
    summary, bot/storm); the poster knows nothing of what it decides."""

    async def plan(self, channel: str, entries: list[OutboxEntry]) -> PassPlan: ...


class KeepOrder:
    """The planner that changes nothing: oldest first, everything."""

    async def plan(self, channel: str, entries: list[OutboxEntry]) -> PassPlan:
        return PassPlan(entries)

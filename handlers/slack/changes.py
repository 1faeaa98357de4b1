"""What changed: `/incident changes [service] [--since 6h]`, and the job that gives a new card
its "Changed recently" list (queued by the webhooks and incidents when a card is created)."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.cards.changes import change_lines
from bot.cards.common import SECTION_TEXT_MAX, escape, truncate
from bot.changes import flow
from bot.core.durations import parse_duration
from bot.deps import Deps
from handlers.slack.feature import Feature, Invocation, Reply, Subcommand

DEFAULT_SINCE = timedelta(hours=6)
LONGEST = timedelta(days=30)
SINCE = re.compile(r"(?:^|\s)--since(?:=|\s+)(\S+)")
USAGE = "`/incident changes [service] [--since 6h]`"


async def changes(deps: Deps, inv: Invocation) -> Reply:
    text = inv.text
    since = DEFAULT_SINCE
    found = SINCE.search(text)
    if found:
        try:
            since = parse_duration(found.group(1))
        except ValueError:
            return Reply(f"`--since` takes a duration like 30m, 6h or 2d. Usage: {USAGE}")
        text = SINCE.sub(" ", text)
    since = min(since, LONGEST)
    service = text.strip() or None
    listed = await flow.recent(redis=deps.redis, now=deps.clock.now(), since=since, service=service)
    scope = f" to *{escape(service)}*" if service else ""
    hours = since.total_seconds() / 3600
    window = f"{hours:g} h" if hours >= 1 else f"{since.total_seconds() / 60:g} min"
    if not listed:
        return Reply(f"No changes{scope} recorded in the last {window}.")
    head = f"*Changes{scope} in the last {window}* (newest first, {len(listed)}):"
    body = "\n".join(change_lines(listed[:30]))
    more = f"\n…and {len(listed) - 30} more" if len(listed) > 30 else ""
    return Reply(truncate(f"{head}\n{body}{more}", SECTION_TEXT_MAX))


async def attach_changes(deps: Deps, *, card_id: str) -> None:
    """Job: the card's "Changed recently" list (see bot/changes/flow.py)."""
    await flow.attach(card_id, store=deps.store, timeline=deps.timeline)


SUBCOMMANDS = [
    Subcommand(
        "/incident",
        "changes",
        "changes [service] [--since 6h]",
        "recent deploys, approved changes and playbook runs",
        changes,
    )
]

FEATURE = Feature(name="changes", subcommands=SUBCOMMANDS, jobs={flow.ATTACH_JOB: attach_changes})

"""Work a webhook leaves to the worker once its card is stored, so the sender's answer never
waits for it."""

from __future__ import annotations

import logging

from bot.changes.flow import ATTACH_JOB
from bot.deps import Deps
from bot.store import REDIS_ERRORS

log = logging.getLogger("seawall.webhooks")


async def attach_changes_later(deps: Deps, card_id: str) -> None:
    """Queue the new card's "Changed recently" list. The card is stored already: a queue that
    is down costs the list, never the alert, so the answer stays 200."""
    try:
        await deps.jobs.enqueue(ATTACH_JOB, key=card_id, card_id=card_id)
    except REDIS_ERRORS as exc:
        log.warning("card %s stored; its recent changes were not looked up (%s)", card_id, exc)

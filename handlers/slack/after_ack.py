"""Work that runs after Slack has had its HTTP response.

Bolt runs each listener to completion before it answers Slack (process_before_response), so
an ack costs no polling and a slash command's answer travels in the ack itself. Anything that
talks to Slack again (an ephemeral, a modal, a late answer through response_url) would hold
that response, which Slack abandons after 3 s: it is started here instead.

Not Bolt's lazy listeners: those cannot see what the ack function found out (the answer to
send, the error to report), and Bolt keeps no reference to their tasks, which asyncio may
then garbage-collect mid-flight.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

import sentry_sdk

log = logging.getLogger("seawall.after_ack")

T = TypeVar("T")

# Slack waits 3 s for the ack; what is left covers the network between Slack and Seawall.
ACK_BUDGET_S = 2.0

# Strong references until each task ends (asyncio keeps only weak ones).
_running: set[asyncio.Task[object]] = set()


def after_ack(work: Coroutine[Any, Any, object], what: str) -> None:
    """Start `work` now without waiting for it; a failure is logged and reported, never lost."""
    task = asyncio.get_running_loop().create_task(work, name=f"after-ack: {what}")
    _running.add(task)
    task.add_done_callback(_finished)


def _finished(task: asyncio.Task[object]) -> None:
    _running.discard(task)
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        log.error("%s failed", task.get_name(), exc_info=error)
        sentry_sdk.capture_exception(error)


async def finish_pending(timeout_s: float) -> int:
    """On shutdown: let started answers reach Slack (they share the clients about to close).
    Returns how many were still running after `timeout_s` and were given up."""
    if not _running:
        return 0
    _, still_running = await asyncio.wait(set(_running), timeout=timeout_s)
    for task in still_running:
        task.cancel()
    if still_running:
        log.warning("shutdown: %d answer(s) to Slack given up", len(still_running))
    return len(still_running)


async def within_ack_budget(
    work: Coroutine[Any, Any, T], budget_s: float = ACK_BUDGET_S
) -> asyncio.Future[T]:
    """Give `work` up to `budget_s`; the returned future is done, or still running when
    Redis is slow (the caller then acks without its result and finishes after the ack)."""
    future = asyncio.ensure_future(work)
    await asyncio.wait({future}, timeout=budget_s)
    return future

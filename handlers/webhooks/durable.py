"""A webhook is answered 200 only once its delivery is stored where a failover keeps it.

Senders retry what is not answered 2xx (Alertmanager retries 5xx only, and never sends a
notification again once it got a 200), so the 200 is the one promise that must hold. With a
replica, "stored" means on the replica too: the intake runs on one pinned connection and is
confirmed with WAIT (bot/core/replication.py); no replica confirmed it within
SEAWALL_REPLICA_WAIT_MS, and the sender gets 503 and retries, which every intake absorbs
(each delivery is deduplicated by key).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.deps import Deps

T = TypeVar("T")


async def stored(deps: Deps, intake: Callable[[Deps], Awaitable[T]]) -> T:
    """Run `intake` (every Redis write of one delivery) so that its result may be
    acknowledged. Raises NotReplicated, StoreUnavailable or a Redis error: answer 503."""
    if not deps.replicas.enabled:
        return await intake(deps)
    async with deps.replicas.pinned(deps.redis) as pinned:
        result = await intake(deps.on(pinned.client))
        await pinned.confirm()  # last: it covers the job queue's writes made just before
    return result

"""Pages in Redis: one JSON document per page, changed only by compare-and-set, and the
indexes that find them (by card, by person, the open ones). Key layout: bot/core/keys.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import redis.asyncio as aioredis
from redis.exceptions import WatchError

from bot.core import keys
from bot.core.errors import StoreUnavailable
from bot.core.redis_primitives import retry_after_watch
from bot.models.page import Page
from bot.store import REDIS_ERRORS

# Removes person -> page from the index only if it still names this page.
_FORGET_PERSON = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
"""

UNACKNOWLEDGED = ("waiting", "open", "exhausted")

# Gets the stored page (None: none) and returns the page to write, or None to write nothing.
PageMutator = Callable[[Page | None], Page | None]


class PageStore:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self._forget_person = redis.register_script(_FORGET_PERSON)

    async def get(self, page_id: str) -> Page | None:
        raw = await self.redis.get(keys.page(page_id))
        return Page.model_validate_json(raw) if raw else None

    async def get_many(self, page_ids: list[str]) -> list[Page]:
        if not page_ids:
            return []
        raws = await self.redis.mget([keys.page(p) for p in page_ids])
        return [Page.model_validate_json(r) for r in raws if r]

    async def mutate(self, page_id: str, mutate: PageMutator) -> tuple[Page | None, bool]:
        """Read-modify-write one page atomically; (the page as stored after, changed?)."""
        key = keys.page(page_id)
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                while True:
                    try:
                        await pipe.watch(key)
                        raw = await pipe.get(key)
                        current = Page.model_validate_json(raw) if raw else None
                        page = mutate(current)
                        if page is None:
                            await pipe.unwatch()
                            stored = Page.model_validate_json(raw) if raw else None
                            return stored, False
                        pipe.multi()
                        self._queue_write(pipe, page)
                        await pipe.execute()
                        break
                    except WatchError as exc:
                        retry_after_watch(exc)
                        continue
            if not page.is_open:
                await self._forget_person(
                    keys=[keys.PAGES_BY_PERSON], args=[page.person, page.page_id]
                )
            return page, True
        except REDIS_ERRORS as exc:
            raise StoreUnavailable(f"Redis is unreachable: {exc}") from exc

    def _queue_write(self, pipe: aioredis.client.Pipeline, page: Page) -> None:
        key = keys.page(page.page_id)
        pipe.set(key, page.model_dump_json())  # a plain SET also drops a closed page's TTL
        if page.is_open:
            pipe.hset(keys.PAGES_BY_PERSON, page.person, page.page_id)
        else:
            pipe.expire(key, keys.CLOSED_PAGE_TTL_S)
        if page.state in UNACKNOWLEDGED:
            pipe.zadd(keys.OPEN_PAGES, {page.page_id: page.raised_at.timestamp()})
        else:
            pipe.zrem(keys.OPEN_PAGES, page.page_id)
        for card in page.cards:
            pipe.set(keys.card_page(card.card_id), page.page_id, ex=keys.CLOSED_PAGE_TTL_S)

    async def create(self, page: Page, storm_window: timedelta, seen_storm: str | None) -> bool:
        """Store a new page for its person, unless another appeared since the card was placed
        (False: place it again). `seen_storm` is the storm page placing saw. The person's
        index and storm key are watched, so alerts raised at the same moment for the same
        person make one page."""
        person, storm = keys.PAGES_BY_PERSON, keys.page_storm(page.person)
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(person, storm)
                    existing = await pipe.hget(person, page.person)
                    raw = await pipe.get(keys.page(existing)) if existing else None
                    still_open = raw is not None and Page.model_validate_json(raw).is_open
                    if still_open or await pipe.get(storm) != seen_storm:
                        await pipe.unwatch()
                        return False
                    pipe.multi()
                    self._queue_write(pipe, page)
                    pipe.set(storm, page.page_id, ex=max(1, int(storm_window.total_seconds())))
                    await pipe.execute()
                    return True
                except WatchError as exc:
                    retry_after_watch(exc)
                    return False
        except REDIS_ERRORS as exc:
            raise StoreUnavailable(f"Redis is unreachable: {exc}") from exc

    async def page_of_card(self, card_id: str) -> Page | None:
        page_id = await self.redis.get(keys.card_page(card_id))
        return await self.get(page_id) if page_id else None

    async def open_for(self, person: str) -> Page | None:
        page_id = await self.redis.hget(keys.PAGES_BY_PERSON, person)
        page = await self.get(page_id) if page_id else None
        return page if page is not None and page.is_open else None

    async def storm_for(self, person: str) -> Page | None:
        page_id = await self.redis.get(keys.page_storm(person))
        return await self.get(page_id) if page_id else None

    async def unacknowledged(self) -> list[Page]:
        """Every page waiting, paging, or exhausted with nobody acknowledging, oldest first."""
        ids: list[str] = await self.redis.zrange(keys.OPEN_PAGES, 0, -1)
        pages = await self.get_many(ids)
        gone = set(ids) - {p.page_id for p in pages}
        if gone:  # an exhausted page's document expired: forget it here too
            await self.redis.zrem(keys.OPEN_PAGES, *gone)
        return [p for p in pages if p.state in UNACKNOWLEDGED]

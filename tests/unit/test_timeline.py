"""The timeline stream: append order is the order, whatever the clocks said; Slack markup
in people's messages is stored as plain words."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import fakeredis

from bot.core.clock import FrozenClock
from bot.timeline import Timeline, plain_text

START = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


async def _append_and_read(limit: int | None) -> list[tuple[str, datetime]]:
    # fakeredis stands in for Redis here only because this is a unit test of ordering;
    # the integration tests run the same code against a real redis-server.
    redis = fakeredis.FakeAsyncRedis(decode_responses=True)
    clock = FrozenClock(START)
    timeline = Timeline(redis=redis, clock=clock)
    for text, step in (("first", 0), ("second", 120), ("third", -300), ("fourth", 10)):
        clock.advance(step)  # a worker with a slow clock may write an earlier time later
        await timeline.append("inc-1", "note", text, actor="U0ALICE")
    await timeline.append(None, "note", "belongs to no incident")
    await timeline.append("inc-2", "note", "another incident")
    entries = await timeline.read("inc-1", limit=limit)
    await redis.aclose()
    return [(e.text, e.at) for e in entries]


def test_entries_come_back_in_append_order_even_when_clocks_disagree() -> None:
    texts = [text for text, _ in asyncio.run(_append_and_read(None))]
    assert texts == ["first", "second", "third", "fourth"]


def test_a_limit_returns_the_latest_entries_oldest_first() -> None:
    texts = [text for text, _ in asyncio.run(_append_and_read(2))]
    assert texts == ["third", "fourth"]


def test_slack_markup_becomes_plain_words() -> None:
    assert plain_text("ping <@U0BOB> in <#C0DB|database>") == "ping @U0BOB in #database"
    assert plain_text("<!here> see <https://x.example/a?b=1&amp;c=2|the graph>") == (
        "@here see the graph (https://x.example/a?b=1&c=2)"
    )
    assert plain_text("<https://x.example>") == "https://x.example"
    assert plain_text("a &lt;b&gt; &amp;amp; c") == "a <b> &amp; c"
    assert plain_text("<!subteam^S0DBA|@dba> help") == "@dba help"

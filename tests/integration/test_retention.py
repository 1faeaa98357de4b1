"""Nothing grows forever: closed cards, their Slack message keys and index, and resolved
incidents' timelines expire; open ones never do; and after a storm and its resolution the only
keys left without a TTL are the documented long-lived ones (real redis, the real app)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis

from bot.alerts.rules import card_id_for_group
from bot.core import keys
from bot.core.clock import FrozenClock
from bot.incidents import flow as incidents_flow
from bot.models.incident import incident_card_id
from bot.store import Store, connect
from bot.timeline import Timeline
from tests.conftest import emulator_config
from tests.fixtures.alertmanager_payloads import group_payload
from tests.fixtures.sentry_payloads import encode, issue_body, sentry_headers
from tests.support.stack import CHANNEL, SENTRY_SECRET, SeawallStack
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

DAY_MS = 24 * 3600 * 1000
CARDS_MS = 30 * DAY_MS  # the defaults: retention.resolved_cards
TIMELINES_MS = 90 * DAY_MS  # retention.timelines
SAQ_PREFIX = "saq:"  # the job queue's own keys: saq gives finished jobs a TTL itself


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    c = redis.Redis.from_url(redis_url, decode_responses=True)
    yield c
    c.close()


def settled(stack: SeawallStack, client: redis.Redis) -> bool:
    """Every card's latest revision and replies are in Slack (the outbox is empty)."""
    del stack
    return not client.exists(keys.OUTBOX_CHANNELS)


def message_keys(client: redis.Redis, card_id: str) -> dict[str, int]:
    """PTTL of the card and every key about its Slack message (-2: absent, -1: no TTL)."""
    names = [
        keys.card(card_id),
        keys.card_revision(card_id),
        keys.card_message(card_id),
        keys.card_posted_revision(card_id),
    ]
    where = client.get(keys.card_message(card_id))
    if where:
        channel, ts = where.split(" ", 1)
        names.append(keys.message_card(channel, ts))
    return {name: int(client.pttl(name)) for name in names}


def about(ms: int) -> Any:
    """A PTTL set `ms` ago at most a minute ago."""
    return pytest.approx(ms, abs=60_000)


def wait_for_header(stack: SeawallStack, text: str, channel: str = CHANNEL) -> None:
    wait_until(
        lambda: any(
            text in json.dumps(m.blocks, ensure_ascii=False) for m in stack.messages(channel)
        ),
        what=f"a card showing {text!r}",
    )


def resolve_group(stack: SeawallStack, name: str) -> None:
    response = stack.post_alertmanager(group_payload(name, status="resolved", alerts=0, resolved=1))
    assert response.status_code == 200, response.text


def test_a_resolved_card_and_every_key_of_its_message_expire_after_the_retention(
    stack: SeawallStack, client: redis.Redis
) -> None:
    assert stack.post_alertmanager(group_payload("Disk")).status_code == 200
    wait_for_header(stack, "FIRING")
    resolve_group(stack, "Disk")
    wait_for_header(stack, "RESOLVED")
    wait_until(lambda: settled(stack, client), what="the outbox to empty")
    ttls = message_keys(client, card_id_for_group(group_payload("Disk")["groupKey"]))  # type: ignore[arg-type]
    assert len(ttls) == 5
    assert ttls == {name: about(CARDS_MS) for name in ttls}


def test_a_card_first_posted_after_it_closed_gives_its_message_keys_its_ttl(
    make_stack: Any, client: redis.Redis
) -> None:
    stack = make_stack(poster=False)
    assert stack.post_alertmanager(group_payload("Disk")).status_code == 200
    resolve_group(stack, "Disk")
    stack.start_poster()  # the poster writes the message keys after the card closed
    wait_for_header(stack, "RESOLVED")
    wait_until(lambda: settled(stack, client), what="the outbox to empty")
    ttls = message_keys(client, card_id_for_group(group_payload("Disk")["groupKey"]))  # type: ignore[arg-type]
    assert len(ttls) == 5
    assert ttls == {name: about(CARDS_MS) for name in ttls}


def test_a_resolved_card_that_fires_again_is_kept_for_good_again(
    stack: SeawallStack, client: redis.Redis
) -> None:
    later = group_payload("Disk", starts_at="2026-11-23T11:00:00Z")
    assert stack.post_alertmanager(group_payload("Disk")).status_code == 200
    resolve_group(stack, "Disk")
    wait_for_header(stack, "RESOLVED")
    assert stack.post_alertmanager(later).status_code == 200
    wait_until(
        lambda: "FIRING" in json.dumps(stack.messages()[0].blocks, ensure_ascii=False),
        what="the card firing again",
    )
    wait_until(lambda: settled(stack, client), what="the outbox to empty")
    ttls = message_keys(client, card_id_for_group(later["groupKey"]))  # type: ignore[arg-type]
    assert len(ttls) == 5
    assert ttls == {name: -1 for name in ttls}


def declare(stack: SeawallStack, title: str) -> str:
    """Declare an incident from #alerts; its channel's id."""
    assert stack.sender.slash_command("/incident", f"declare {title}").status_code == 200
    channel = wait_until(
        lambda: [
            c.response["channel"]["id"]
            for c in stack.emulator.calls_to("conversations.create")
            if c.response.get("ok")
            and title.lower().replace(" ", "-") in c.response["channel"]["name"]
        ],
        what=f"the channel of {title}",
    )[0]
    return str(channel)


def resolve_incident(stack: SeawallStack, channel: str) -> None:
    response = stack.sender.slash_command("/incident", "resolve", channel_id=channel)
    assert response.status_code == 200


def test_a_resolved_incident_s_timeline_and_card_expire_after_the_postmortem_window(
    stack: SeawallStack, client: redis.Redis
) -> None:
    channel = declare(stack, "DB down")
    incident_id = client.get(keys.incident_channel(channel))
    assert incident_id is not None
    resolve_incident(stack, channel)
    wait_until(lambda: client.pttl(keys.timeline(incident_id)) > 0, what="the timeline's TTL")
    assert client.pttl(keys.timeline(incident_id)) == about(TIMELINES_MS)
    assert client.pttl(keys.incident_channel(channel)) == about(TIMELINES_MS)
    assert client.pttl(keys.card(incident_card_id(incident_id))) == about(TIMELINES_MS)
    assert client.zscore(keys.OPEN_INCIDENTS, incident_id) is None


def test_after_a_storm_and_its_resolution_only_documented_keys_live_for_good(
    make_stack: Any, client: redis.Redis
) -> None:
    # Slack's pace (1 post/s per channel) is not the question here: a storm's worth of posts
    # and thread replies would take a minute.
    stack = make_stack(emulator=emulator_config(rate_limits_enabled=False))
    groups = [f"Storm{i:02d}" for i in range(20)]
    for name in groups:
        assert stack.post_alertmanager(group_payload(name, alerts=3)).status_code == 200
    raw = encode(issue_body())
    sentry = stack.http.post(
        f"{stack.url}/webhooks/sentry",
        content=raw,
        headers=sentry_headers(raw, "issue", SENTRY_SECRET),
    )
    assert sentry.status_code == 200
    closed_channel = declare(stack, "Payments down")
    open_channel = declare(stack, "Search slow")
    stack.emulator.post_user_message(open_channel, "U0ALICE", "looking at it")
    for name in groups:
        response = stack.post_alertmanager(
            group_payload(name, status="resolved", alerts=0, resolved=3)
        )
        assert response.status_code == 200
    raw = encode(issue_body(action="resolved", status="resolved"))
    resolved = stack.http.post(
        f"{stack.url}/webhooks/sentry",
        content=raw,
        headers=sentry_headers(raw, "issue", SENTRY_SECRET),
    )
    assert resolved.status_code == 200
    resolve_incident(stack, closed_channel)
    open_id = client.get(keys.incident_channel(open_channel))
    assert open_id is not None
    open_card = incident_card_id(open_id)
    wait_until(lambda: client.exists(keys.card_message(open_card)), what="the open incident's card")
    wait_until(lambda: settled(stack, client), what="the outbox to empty", timeout=30)

    def forever() -> set[str]:
        return {
            name
            for name in client.scan_iter(match="*", count=1000)
            if not name.startswith(SAQ_PREFIX) and client.pttl(name) == -1
        }

    channel, ts = client.get(keys.card_message(open_card)).split(" ", 1)  # type: ignore[union-attr]
    documented = {
        # An open incident is never forgotten: its card and what finds its Slack message...
        keys.card(open_card): "an open incident's summary card",
        keys.card_revision(open_card): "its revision, beside the card",
        keys.card_message(open_card): "where it is in Slack",
        keys.card_posted_revision(open_card): "what Slack shows of it",
        keys.message_card(channel, ts): "its Slack message -> the card, for clicks and reactions",
        # ...its channel and its timeline, until it is resolved (then 90 days).
        keys.incident_channel(open_channel): "the open incident's channel -> incident",
        keys.timeline(open_id): "the open incident's timeline",
        keys.OPEN_INCIDENTS: "the open incidents (it leaves on resolve)",
        # Bounded by construction, not by time.
        keys.OUTBOX_WAKE: "a wake-up list trimmed to 16 entries on every write",
    }
    left = wait_until(
        lambda: (f := forever()) <= set(documented) and f, what="only documented keys without a TTL"
    )
    assert set(documented) - left <= {keys.OUTBOX_WAKE}  # may be drained to nothing


def test_a_timeline_is_trimmed_to_its_maximum_length(redis_url: str) -> None:
    async def scenario() -> int:
        client = connect(redis_url)
        timeline = Timeline(
            redis=client, clock=FrozenClock(datetime(2026, 11, 23, tzinfo=UTC)), max_entries=100
        )
        await timeline.begin("inc-1", "incident", "Incident declared")
        for i in range(1_000):
            await timeline.append("inc-1", "message", f"message {i}")
        length = int(await client.xlen(keys.timeline("inc-1")))
        await client.aclose()
        return length

    # Trimmed with MAXLEN ~: Redis drops whole stream nodes (100 entries each), so a little more
    # than the maximum may stay.
    assert asyncio.run(scenario()) <= 200


def test_an_entry_for_a_timeline_that_expired_starts_one_that_expires_too(
    redis_url: str,
) -> None:
    async def scenario() -> int:
        client = connect(redis_url)
        timeline = Timeline(redis=client, clock=FrozenClock(datetime(2026, 11, 23, tzinfo=UTC)))
        await timeline.append("inc-gone", "alert", "Alert firing again: Disk")
        await timeline.append("inc-gone", "alert", "Alert resolved: Disk")
        ttl = int(await client.pttl(keys.timeline("inc-gone")))
        await client.aclose()
        return ttl

    assert asyncio.run(scenario()) == about(TIMELINES_MS)


def dead_letters_after(redis_url: str, earlier: int, later: int) -> list[str]:
    """The dead-letter set after `earlier` cards set aside, then `later` ones 31 days on."""

    async def scenario() -> list[str]:
        client = connect(redis_url)
        clock = FrozenClock(datetime(2026, 11, 23, tzinfo=UTC))
        store = Store(client, clock)
        for i in range(earlier):
            await store.set_aside(f"old-{i}", "C0X", "missing")
        clock.advance(timedelta(days=31).total_seconds())
        for i in range(later):
            clock.advance(0.001)  # one set aside per millisecond: the order is the time's
            await store.set_aside(f"new-{i}", "C0X", "channel_not_found")
        members: list[str] = await client.zrange(keys.DEAD_LETTER, 0, -1)
        await client.aclose()
        return members

    return asyncio.run(scenario())


def test_dead_letters_older_than_their_retention_are_dropped(redis_url: str) -> None:
    assert dead_letters_after(redis_url, earlier=3, later=1) == ["new-0 channel_not_found"]


def test_the_dead_letter_set_keeps_only_the_newest_entries_up_to_its_bound(
    redis_url: str,
) -> None:
    members = dead_letters_after(redis_url, earlier=0, later=keys.DEAD_LETTER_MAX + 500)
    assert len(members) == keys.DEAD_LETTER_MAX
    assert members[0] == "new-500 channel_not_found"


def test_an_open_incidents_entry_whose_incident_is_gone_is_dropped_when_read(
    stack: SeawallStack, client: redis.Redis
) -> None:
    channel = declare(stack, "Queue stuck")
    incident_id = client.get(keys.incident_channel(channel))
    client.zadd(keys.OPEN_INCIDENTS, {"20250101-expired-long-ago": 1.0})  # its card expired
    found = stack.server.run_coroutine(incidents_flow.open_incidents(stack.deps))
    assert [i.incident_id for i in found] == [incident_id]
    assert client.zrange(keys.OPEN_INCIDENTS, 0, -1) == [incident_id]

"""A burst of alert groups to one channel under Slack's rate limits: no card lost or doubled
(and, being a storm, one storm card besides)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.emulator import EmulatedMessage
from tests.conftest import StackFactory, emulator_config
from tests.fixtures.alertmanager_payloads import group_payload
from tests.support.stack import SeawallStack
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

GROUPS = 200


def group_messages(stack: SeawallStack) -> list[EmulatedMessage]:
    """The groups' own cards: not the storm card such a burst also gets (bot/storm)."""
    return [m for m in stack.messages() if "STORM" not in m.blocks[0]["text"]["text"]]


def latest_state_shown(stack: SeawallStack, expected: dict[str, str]) -> bool:
    shown = {}
    for message in group_messages(stack):
        header = message.blocks[0]["text"]["text"]
        name = header.rsplit("· ", 1)[-1]
        body = json.dumps(message.blocks)
        shown[name] = "resolved" if "RESOLVED" in header else ("2 firing" in body and "firing2")
    return shown == expected


def test_a_burst_of_200_groups_yields_one_message_each_showing_its_latest_state(
    make_stack: StackFactory,
) -> None:
    # The emulator enforces a per-channel post limit and the poster is set to post faster
    # than allowed, so 429s with Retry-After must happen and must not lose anything.
    stack = make_stack(
        emulator=emulator_config(
            post_message_rate_per_channel=40.0,
            post_message_burst=10,
            method_limits_per_minute={"chat.update": 3000},
        ),
        seawall_post_interval=0.005,
    )
    names = [f"Storm{i:03d}" for i in range(GROUPS)]
    expected = {}
    with ThreadPoolExecutor(max_workers=8) as pool:
        firsts = list(pool.map(lambda n: stack.post_alertmanager(group_payload(n)), names))

        # Second wave while the first is still being posted: half resolve, half grow.
        def second(name_index: tuple[int, str]) -> int:
            i, name = name_index
            if i % 2:
                payload = group_payload(name, status="resolved", alerts=0, resolved=1)
                expected[name] = "resolved"
            else:
                payload = group_payload(name, alerts=2)
                expected[name] = "firing2"
            return stack.post_alertmanager(payload).status_code

        seconds = list(pool.map(second, enumerate(names)))
    assert {r.status_code for r in firsts} == {200}
    assert set(seconds) == {200}

    wait_until(
        lambda: latest_state_shown(stack, expected), timeout=90, interval=0.5, what="latest states"
    )
    messages = group_messages(stack)
    assert len(messages) == GROUPS
    assert len(stack.messages()) == GROUPS + 1  # and one storm card
    headers = [m.blocks[0]["text"]["text"] for m in messages]
    assert len(set(headers)) == GROUPS
    rate_limited = [c for c in stack.emulator.calls if c.http_status == 429]
    assert rate_limited, "the test must exercise 429 + Retry-After"

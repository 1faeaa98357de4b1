"""The storm card's buttons under `access:`: Acknowledge all needs what each card's Acknowledge
needs (alert.ack), Silence storm what each card's Silence needs (alert.silence). A refused
click is answered where it arrives and never queued; a job that reaches the worker anyway
(roles changed since the click, or a forged job) is refused there before anything changes."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from bot.cards.common import ActionId
from bot.core import keys
from bot.core.config import FileConfig
from bot.core.storm_config import StormConfig
from bot.emulator import EmulatedMessage
from tests.conftest import StackFactory, emulator_config
from tests.fixtures.alertmanager_payloads import group_payload
from tests.support.stack import CHANNEL, SeawallStack, click
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

ALICE, MALLORY = "U0ALICE", "U0MALLORY"
ACCESS: dict[str, Any] = {
    "roles": {"responders": {"users": [ALICE]}},
    "allow": {"alert.ack": ["responders"], "alert.silence": ["responders"]},
}


def stormy(make_stack: StackFactory) -> tuple[SeawallStack, EmulatedMessage, str]:
    """A stack with the access rules and a 12-group storm: its storm card and card id."""
    config = FileConfig.model_validate({"access": ACCESS}).model_copy(
        update={"storm": StormConfig(threshold=5)}
    )
    stack = make_stack(
        emulator=emulator_config(post_message_rate_per_channel=20.0),
        file_config=config,
        seawall_post_interval=0.05,
    )
    for i in range(12):
        assert stack.post_alertmanager(group_payload(f"Who{i:02d}")).status_code == 200
    [card] = wait_until(
        lambda: [m for m in stack.messages() if m.blocks and "STORM" in header(m)],
        timeout=20,
        what="the storm card",
    )
    found = stack.server.run_coroutine(stack.deps.store.card_for_message(CHANNEL, card.ts))
    assert found is not None
    return stack, card, str(found)


def header(message: EmulatedMessage) -> str:
    return str(message.blocks[0]["text"]["text"])


def answers_to(stack: SeawallStack, user: str, count: int = 1) -> list[str]:
    return wait_until(
        lambda: (
            found
            if len(found := [e.text for e in stack.emulator.ephemerals if e.user == user]) >= count
            else None
        ),
        what=f"{count} answer(s) to {user}",
    )


def queued_clicks(stack: SeawallStack) -> int:
    client = redis.Redis.from_url(stack.deps.settings.redis_url)
    try:
        return len(list(client.scan_iter("saq:job:seawall:card_button:*")))
    finally:
        client.close()


def acknowledged_members(stack: SeawallStack, storm_id: str) -> list[str]:
    async def read() -> list[str]:
        store = stack.deps.store
        members = await store.redis.smembers(keys.storm_members(storm_id))
        cards = [await store.get_card(m) for m in members]
        return [c.card_id for c in cards if c is not None and c.ack is not None]

    return list(stack.server.run_coroutine(read()))


@pytest.mark.parametrize(
    ("action", "what"),
    [(ActionId.STORM_ACK_ALL, "acknowledge alerts"), (ActionId.STORM_SILENCE, "silence alerts")],
)
def test_a_storm_button_is_refused_to_someone_the_access_rules_do_not_allow(
    make_stack: StackFactory, action: ActionId, what: str
) -> None:
    stack, card, storm_id = stormy(make_stack)
    click(stack, card, action, MALLORY)
    [answer] = answers_to(stack, MALLORY)
    assert "*responders*" in answer
    assert what in answer
    assert queued_clicks(stack) == 0  # refused where it arrived: never queued
    storm = stack.server.run_coroutine(stack.deps.store.get_card(storm_id))
    assert storm is not None
    assert storm.ack is None
    assert storm.silence is None
    assert acknowledged_members(stack, storm_id) == []


def test_the_worker_refuses_storm_buttons_again_before_anything_changes(
    make_stack: StackFactory,
) -> None:
    stack, card, storm_id = stormy(make_stack)
    # Jobs the web process never saw (a forged job, or roles changed after the click): the
    # worker's own check is all that stands between them and 12 acknowledged groups.
    for action in (ActionId.STORM_ACK_ALL, ActionId.STORM_SILENCE_CONFIRM):
        stack.server.run_coroutine(
            stack.deps.jobs.enqueue(
                "card_button",
                retries=1,
                action=str(action),
                card_id=storm_id,
                user={"id": MALLORY, "username": "mallory", "name": "mallory"},
                response_url=stack.sender.issue_response_url(CHANNEL, MALLORY, card.ts),
                confirmed="0123456789abcdef",
            )
        )
    answers = answers_to(stack, MALLORY, count=2)
    assert all("*responders*" in a for a in answers), answers
    storm = stack.server.run_coroutine(stack.deps.store.get_card(storm_id))
    assert storm is not None
    assert storm.ack is None
    assert storm.silence is None
    assert acknowledged_members(stack, storm_id) == []

    # The same job for someone allowed goes through: the refusal above was the access check.
    stack.server.run_coroutine(
        stack.deps.jobs.enqueue(
            "card_button",
            retries=1,
            action=str(ActionId.STORM_ACK_ALL),
            card_id=storm_id,
            user={"id": ALICE, "username": "alice", "name": "alice"},
            response_url=stack.sender.issue_response_url(CHANNEL, ALICE, card.ts),
        )
    )
    [answer] = answers_to(stack, ALICE)
    assert answer.startswith("Acknowledged 12 firing groups"), answer
    assert len(acknowledged_members(stack, storm_id)) == 12

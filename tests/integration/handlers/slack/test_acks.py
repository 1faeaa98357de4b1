"""What Slack gets back: a command's answer rides in the ack, and a hung store still gets
Slack its ack in time, with the answer or the click's effect following."""

from __future__ import annotations

import json
import time

import pytest
import redis

from bot.cards.common import ActionId
from bot.core import keys
from bot.models.run import run_card_id
from handlers.slack.after_ack import ACK_BUDGET_S
from handlers.slack.commands import STILL_WORKING
from tests.fixtures.alertmanager_payloads import group_payload
from tests.support.redis_server import RedisServer
from tests.support.stack import CHANNEL, SeawallStack, click
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def test_the_answer_is_the_body_of_the_ack(stack: SeawallStack) -> None:
    response = stack.sender.slash_command("/playbook", "status abc123")
    assert response.status_code == 200
    assert response.json() == {"text": "No run `abc123` is known.", "response_type": "ephemeral"}
    # Seawall itself made no second request to Slack to answer.
    wait_until(lambda: stack.emulator.ephemerals, what="the answer shown")
    assert len(stack.emulator.calls_to("response_url")) == 1  # the sender showing the ack


def test_a_hung_store_still_gets_an_ack_in_time_and_the_answer_follows(
    stack: SeawallStack, redis_server: RedisServer
) -> None:
    with redis_server.frozen():
        frozen_at = time.monotonic()
        response = stack.sender.slash_command("/playbook", "status abc123")
        # Thawed after the ack went out, before the Redis client's own 3 s socket timeout.
        time.sleep(max(0.0, ACK_BUDGET_S + 0.6 - (time.monotonic() - frozen_at)))
    assert response.json()["text"] == STILL_WORKING
    texts = wait_until(
        lambda: [e.text for e in stack.emulator.ephemerals if e.text != STILL_WORKING],
        what="the late answer",
    )
    assert texts == ["No run `abc123` is known."]


def test_a_click_while_the_store_hangs_is_acked_in_time_and_still_takes_effect(
    stack: SeawallStack, redis_server: RedisServer
) -> None:
    stack.post_alertmanager(group_payload("Disk"))
    [card] = wait_until(stack.messages, what="the card")
    with redis_server.frozen():
        frozen_at = time.monotonic()
        response = click(stack, card, ActionId.ACK, "U0ALICE")
        time.sleep(max(0.0, ACK_BUDGET_S + 0.6 - (time.monotonic() - frozen_at)))
    assert response.status_code == 200
    assert response.text == ""
    wait_until(
        lambda: (
            "Acknowledged by <@U0ALICE>"
            in json.dumps(stack.emulator.message(CHANNEL, card.ts).blocks)
        ),
        what="the acknowledgement on the card",
    )


def test_a_failing_command_is_answered_in_the_ack_with_an_error_id(stack: SeawallStack) -> None:
    # State an older or newer release might have written, that this one cannot read.
    client = redis.Redis.from_url(stack.deps.settings.redis_url)
    client.set(keys.card(run_card_id("abc123")), '{"schema_version": 99}')
    client.close()
    response = stack.sender.slash_command("/playbook", "status abc123")
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith("Seawall failed to handle that; nothing was changed.")
    assert "error id" in answer["text"]

"""Four-eyes steps through the real engine: /playbook asks for approval, the step runs once
after someone else approves, never after an expiry."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest
import redis

from bot.approvals import flow as approval_flow
from bot.core.clock import FrozenClock
from bot.core.config import Approvers, FileConfig
from bot.emulator import EmulatedMessage
from bot.models.approval import Approval
from tests.conftest import StackFactory
from tests.fixtures.four_eyes_playbook import ran_key
from tests.support.stack import CHANNEL, SeawallStack
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

OPERATOR, APPROVER = "U0ALICE", "U0BOB"
CONFIG = FileConfig(
    playbook_modules=["tests.fixtures.four_eyes_playbook"],
    approvers=Approvers(users=[APPROVER]),
)


def start(stack: SeawallStack) -> tuple[EmulatedMessage, str]:
    """Start the sample; the approval card and its run id."""
    stack.sender.slash_command("/playbook", "failover-sample db-1.prod", user_id=OPERATOR)
    [card] = wait_until(
        lambda: [m for m in stack.messages(CHANNEL) if "Approval needed" in m.text],
        what="the approval card",
    )
    wait_until(
        lambda: stack.server.run_coroutine(stack.deps.store.card_for_message(CHANNEL, card.ts)),
        what="the card's message recorded",
    )
    approval = approval_of(stack, card)
    assert approval.run_id is not None
    return card, approval.run_id


def approval_of(stack: SeawallStack, card: EmulatedMessage) -> Approval:
    card_id = stack.server.run_coroutine(stack.deps.store.card_for_message(CHANNEL, card.ts))
    assert card_id is not None
    stored = stack.server.run_coroutine(stack.deps.store.get_card(card_id))
    assert stored is not None
    assert isinstance(stored.subject, Approval)
    return stored.subject


def ran(stack: SeawallStack, run_id: str) -> int:
    client = redis.Redis.from_url(stack.deps.settings.redis_url)
    try:
        return int(client.get(ran_key(run_id)) or 0)
    finally:
        client.close()


def run_card_text(stack: SeawallStack) -> str:
    parts = [[m.blocks, [r.text for r in m.replies]] for m in stack.messages(CHANNEL)]
    return json.dumps(parts, ensure_ascii=False)


def test_a_four_eyes_step_runs_once_after_someone_else_approves(
    make_stack: StackFactory,
) -> None:
    stack = make_stack(worker=True, file_config=CONFIG)
    card, run_id = start(stack)
    assert "db-1.prod" in json.dumps(card.blocks)
    stack.sender.reaction_added(OPERATOR, "white_check_mark", CHANNEL, card.ts)
    wait_until(
        lambda: [e for e in stack.emulator.ephemerals if "own approval" in e.text],
        what="the self-approval refusal",
    )
    assert ran(stack, run_id) == 0
    stack.sender.reaction_added(APPROVER, "white_check_mark", CHANNEL, card.ts)
    stack.sender.reaction_added(APPROVER, "white_check_mark", CHANNEL, card.ts)
    wait_until(lambda: ran(stack, run_id) == 1, what="the step to run")
    wait_until(lambda: approval_of(stack, card).state == "executed", what="marked executed")
    stack.sender.reaction_removed(APPROVER, "white_check_mark", CHANNEL, card.ts)
    wait_until(lambda: "succeeded" in run_card_text(stack).lower(), what="the run to finish")
    assert ran(stack, run_id) == 1
    assert approval_of(stack, card).approved_by == APPROVER


def test_an_expired_step_approval_stops_the_run_before_the_step(
    make_stack: StackFactory,
) -> None:
    stack = make_stack(worker=True, file_config=CONFIG)
    card, run_id = start(stack)
    approval = approval_of(stack, card)
    later = dataclasses.replace(
        stack.deps, clock=FrozenClock(approval.expires_at + timedelta(seconds=1))
    )
    stack.server.run_coroutine(approval_flow.expire_approval(later, approval.approval_id))
    wait_until(
        lambda: "The approval for step failover expired" in run_card_text(stack),
        what="the run to stop at the step",
    )
    assert ran(stack, run_id) == 0

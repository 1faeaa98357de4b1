"""Gates that bind at the moment the step runs, through the real engine and worker: an
approval is spent when the step starts (not when the prompt opens), a withdrawn or expired
approval stops a step whose prompt is waiting, an unconfirmed prompt expires, and a run that
stopped offers to roll back what it did (issue 12, points 3-5)."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest
import redis

from bot.approvals import flow as approval_flow
from bot.cards.common import ActionId, CardRef
from bot.core.clock import FrozenClock
from bot.core.config import FileConfig
from bot.emulator import EmulatedMessage
from bot.models.approval import Approval
from bot.models.prompt import prompt_card_id
from tests.conftest import StackFactory
from tests.fixtures.gated_playbooks import count_key
from tests.support.stack import CHANNEL, SeawallStack, button_value
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

OPERATOR, APPROVER, OUTSIDER = "U0ALICE", "U0BOB", "U0MALLORY"
CONFIG = {
    "playbook_modules": ["tests.fixtures.gated_playbooks"],
    "approvers": {"users": [APPROVER]},
    "step_back": {"confirm_delay_seconds": 0},
}


def counted(stack: SeawallStack, run_id: str, what: str) -> int:
    client = redis.Redis.from_url(stack.deps.settings.redis_url)
    try:
        return int(client.get(count_key(run_id, what)) or 0)
    finally:
        client.close()


def run_card(stack: SeawallStack) -> EmulatedMessage:
    found: EmulatedMessage = wait_until(
        lambda: next((m for m in stack.messages() if "Run `" in json.dumps(m.blocks)), None),
        what="the run card",
    )
    return found


def run_id_of(stack: SeawallStack) -> str:
    return json.dumps(run_card(stack).blocks).split("Run `", 1)[1].split("`", 1)[0]


def run_text(stack: SeawallStack) -> str:
    card = run_card(stack)
    return json.dumps([card.blocks, [r.text for r in card.replies]], ensure_ascii=False)


def approval_card(stack: SeawallStack, nth: int = 0) -> EmulatedMessage:
    cards = wait_until(
        lambda: [m for m in stack.messages() if "Approval needed" in m.text][nth:],
        what="the approval card",
    )
    card: EmulatedMessage = cards[0]
    wait_until(
        lambda: stack.server.run_coroutine(stack.deps.store.card_for_message(CHANNEL, card.ts)),
        what="the approval card's message recorded",
    )
    return card


def approval_of(stack: SeawallStack, card: EmulatedMessage) -> Approval:
    card_id = stack.server.run_coroutine(stack.deps.store.card_for_message(CHANNEL, card.ts))
    stored = stack.server.run_coroutine(stack.deps.store.get_card(str(card_id)))
    assert stored is not None
    assert isinstance(stored.subject, Approval)
    return stored.subject


def prompts(stack: SeawallStack) -> list[EmulatedMessage]:
    return stack.emulator.messages(stack.emulator.dm_channel(OPERATOR))


def prompt_with_confirm(stack: SeawallStack, count: int = 1) -> EmulatedMessage:
    def ready() -> EmulatedMessage | None:
        found = prompts(stack)
        if len(found) < count:
            return None
        latest = stack.emulator.message(found[-1].channel, found[-1].ts)
        return latest if latest and button_value(latest, ActionId.PROMPT_CONFIRM) else None

    found: EmulatedMessage = wait_until(ready, timeout=15, what=f"prompt {count} with Confirm")
    return found


def press(stack: SeawallStack, card: EmulatedMessage, action: ActionId, user: str) -> None:
    """Press `action` as Slack would deliver it, even when the card no longer shows it."""
    current = stack.emulator.message(card.channel, card.ts) or card
    value = button_value(current, action) or button_value(card, action)
    assert value is not None
    stack.sender.block_action(
        action_id=action, value=value, user_id=user, channel_id=card.channel, message_ts=card.ts
    )


def ephemerals_to(stack: SeawallStack, user: str) -> list[str]:
    return [e.text for e in stack.emulator.ephemerals if e.user == user]


def start_guarded(stack: SeawallStack) -> tuple[str, EmulatedMessage]:
    stack.sender.slash_command("/playbook", "guarded-sample db-1.prod", user_id=OPERATOR)
    card = approval_card(stack)
    return run_id_of(stack), card


def test_an_approval_is_spent_when_the_step_starts_not_when_the_prompt_opens(
    make_stack: StackFactory,
) -> None:
    stack = make_stack(file_config=FileConfig.model_validate(CONFIG))
    run_id, card = start_guarded(stack)
    stack.sender.reaction_added(APPROVER, "white_check_mark", CHANNEL, card.ts)
    prompt = prompt_with_confirm(stack)
    assert approval_of(stack, card).state == "approved"  # not "executed": nothing ran yet
    assert "carried out" not in json.dumps(stack.emulator.message(CHANNEL, card.ts).blocks)
    press(stack, prompt, ActionId.PROMPT_CONFIRM, OPERATOR)
    wait_until(lambda: counted(stack, run_id, "failover") == 1, what="the step to run")
    wait_until(lambda: approval_of(stack, card).state == "executed", what="spent at the start")


def test_withdrawing_the_approval_while_the_prompt_waits_stops_the_step_until_approved_again(
    make_stack: StackFactory,
) -> None:
    stack = make_stack(file_config=FileConfig.model_validate(CONFIG))
    run_id, card = start_guarded(stack)
    stack.sender.reaction_added(APPROVER, "white_check_mark", CHANNEL, card.ts)
    prompt = prompt_with_confirm(stack)
    stack.sender.reaction_removed(APPROVER, "white_check_mark", CHANNEL, card.ts)

    def prompt_ended() -> bool:
        current = stack.emulator.message(prompt.channel, prompt.ts)
        return current is not None and "approval was withdrawn" in json.dumps(current.blocks)

    wait_until(prompt_ended, what="the prompt to say its approval was withdrawn")
    ended = stack.emulator.message(prompt.channel, prompt.ts)
    assert ended is not None
    assert button_value(ended, ActionId.PROMPT_CONFIRM) is None
    press(stack, prompt, ActionId.PROMPT_CONFIRM, OPERATOR)  # a confirm sent anyway
    wait_until(
        lambda: any("withdrawn" in t for t in ephemerals_to(stack, OPERATOR)),
        what="the refused confirm",
    )
    wait_until(lambda: "waiting for approval" in run_text(stack), what="the run waits again")
    assert counted(stack, run_id, "failover") == 0
    assert approval_of(stack, card).state == "pending"

    stack.sender.reaction_added(APPROVER, "white_check_mark", CHANNEL, card.ts)
    second = prompt_with_confirm(stack, count=2)  # a fresh prompt, not the old one revived
    press(stack, second, ActionId.PROMPT_CONFIRM, OPERATOR)
    wait_until(lambda: counted(stack, run_id, "failover") == 1, what="the step to run once")
    wait_until(lambda: "succeeded" in run_text(stack), what="the run to finish")
    assert counted(stack, run_id, "failover") == 1


def test_an_approval_that_expires_while_the_prompt_waits_blocks_the_run_and_asks_again(
    make_stack: StackFactory,
) -> None:
    stack = make_stack(file_config=FileConfig.model_validate(CONFIG))
    run_id, card = start_guarded(stack)
    stack.sender.reaction_added(APPROVER, "white_check_mark", CHANNEL, card.ts)
    prompt = prompt_with_confirm(stack)
    approval = approval_of(stack, card)
    later = dataclasses.replace(
        stack.deps, clock=FrozenClock(approval.expires_at + timedelta(seconds=15))
    )
    stack.server.run_coroutine(approval_flow.expire_approval(later, approval.approval_id))
    wait_until(lambda: "Ask again" in run_text(stack), what="the run blocked, offering Ask again")
    assert "The approval for step failover expired" in run_text(stack)
    press(stack, prompt, ActionId.PROMPT_CONFIRM, OPERATOR)  # 15 s after the expiry
    wait_until(lambda: ephemerals_to(stack, OPERATOR), what="the refused confirm")
    assert counted(stack, run_id, "failover") == 0

    press(stack, run_card(stack), ActionId.RUN_ASK_AGAIN, OPERATOR)
    fresh = approval_card(stack, nth=1)  # a new request, approvable again
    stack.sender.reaction_added(APPROVER, "white_check_mark", CHANNEL, fresh.ts)
    press(stack, prompt_with_confirm(stack, count=2), ActionId.PROMPT_CONFIRM, OPERATOR)
    wait_until(lambda: counted(stack, run_id, "failover") == 1, what="the step to run once")


def test_a_prompt_nobody_confirms_expires_and_a_late_confirm_is_refused(
    make_stack: StackFactory,
) -> None:
    config = {**CONFIG, "step_back": {"confirm_delay_seconds": 0, "expire_minutes": 0.05}}
    stack = make_stack(file_config=FileConfig.model_validate(config))
    stack.sender.slash_command("/playbook", "undo-sample web-3", user_id=OPERATOR)
    prompt = prompt_with_confirm(stack)
    run_id = run_id_of(stack)
    wait_until(lambda: "Ask again" in run_text(stack), timeout=15, what="the prompt to expire")
    assert "nobody confirmed it in time" in run_text(stack)
    ended = stack.emulator.message(prompt.channel, prompt.ts)
    assert ended is not None
    assert button_value(ended, ActionId.PROMPT_CONFIRM) is None
    stack.sender.block_action(  # a Confirm forged after the expiry
        action_id=ActionId.PROMPT_CONFIRM,
        value=CardRef(c=prompt_card_id(run_id, 1)).model_dump_json(),
        user_id=OPERATOR,
        channel_id=prompt.channel,
        message_ts=prompt.ts,
    )
    wait_until(lambda: ephemerals_to(stack, OPERATOR), what="the refused confirm")
    assert counted(stack, run_id, "drain") == 0

    press(stack, run_card(stack), ActionId.RUN_ASK_AGAIN, OPERATOR)
    press(stack, prompt_with_confirm(stack, count=2), ActionId.PROMPT_CONFIRM, OPERATOR)
    wait_until(lambda: counted(stack, run_id, "drain") == 1, what="the step after asking again")


def test_a_cancelled_run_offers_to_roll_back_what_ran_and_does_it_once(
    make_stack: StackFactory,
) -> None:
    stack = make_stack(file_config=FileConfig.model_validate(CONFIG))
    stack.sender.slash_command("/playbook", "undo-sample web-3", user_id=OPERATOR)
    prompt = prompt_with_confirm(stack)
    run_id = run_id_of(stack)
    assert counted(stack, run_id, "prepare") == 1
    press(stack, prompt, ActionId.PROMPT_CANCEL, OPERATOR)
    wait_until(lambda: "Roll back" in run_text(stack), what="the roll back offer")
    assert "Unprepare web-3" in run_text(stack)  # the rollback of what ran, in words

    press(stack, run_card(stack), ActionId.RUN_ROLLBACK, OUTSIDER)
    wait_until(
        lambda: any("Only <@U0ALICE>" in t for t in ephemerals_to(stack, OUTSIDER)),
        what="the outsider refused",
    )
    card = run_card(stack)
    press(stack, card, ActionId.RUN_ROLLBACK, OPERATOR)
    press(stack, card, ActionId.RUN_ROLLBACK, OPERATOR)  # a double click
    wait_until(lambda: "Rolled back by" in run_text(stack), what="the roll back done")
    assert counted(stack, run_id, "unprepare") == 1
    assert counted(stack, run_id, "drain") == 0

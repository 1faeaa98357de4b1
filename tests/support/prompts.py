"""The step-back prompt as an operator meets it in the emulator: wait for its Confirm, and
confirm a high-risk step by typing its target's name in the modal, as Slack would."""

from __future__ import annotations

from bot.cards.common import ActionId
from bot.cards.prompt import TYPED_ACTION, TYPED_BLOCK, TYPED_CONFIRM_CALLBACK
from bot.emulator import EmulatedMessage
from tests.support.stack import SeawallStack, button_value
from tests.support.waiting import wait_until


def typed_prompt(stack: SeawallStack, operator: str, timeout: float = 20) -> EmulatedMessage:
    """The prompt in the operator's DM, once its (typed) Confirm is offered."""
    dm = stack.emulator.dm_channel(operator)
    found: EmulatedMessage = wait_until(
        lambda: next(
            (
                m
                for m in stack.emulator.messages(dm)
                if button_value(m, ActionId.PROMPT_CONFIRM_TYPED)
            ),
            None,
        ),
        timeout=timeout,
        what="the Confirm button after the pause",
    )
    return found


def confirm_typed(stack: SeawallStack, prompt: EmulatedMessage, operator: str, name: str) -> None:
    """Press the high-risk Confirm and type `name` in the modal."""
    before = len(stack.emulator.views)
    stack.sender.block_action(
        action_id=ActionId.PROMPT_CONFIRM_TYPED,
        value=button_value(prompt, ActionId.PROMPT_CONFIRM_TYPED),
        user_id=operator,
        channel_id=prompt.channel,
        message_ts=prompt.ts,
    )
    views = wait_until(lambda: stack.emulator.views[before:], what="the type-the-name modal")
    values = {TYPED_BLOCK: {TYPED_ACTION: {"type": "plain_text_input", "value": name}}}
    response = stack.sender.view_submission(
        TYPED_CONFIRM_CALLBACK, values, operator, views[0]["private_metadata"]
    )
    assert response.status_code == 200

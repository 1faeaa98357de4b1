"""Driving a playbook run from Slack in tests: its card, its step-back prompt, its buttons,
and the run as stored (for what a card does not show)."""

from __future__ import annotations

import json

from bot.cards.common import ActionId, CardRef
from bot.emulator import EmulatedMessage, EmulatorConfig
from bot.models.run import PlaybookRun
from playbooks.run_state import load_run
from tests.support.stack import CHANNEL, SeawallStack, button_value
from tests.support.waiting import wait_until

OPERATOR = "U0ALICE"


def fast_slack() -> EmulatorConfig:
    """The emulator without Slack's one message a second per channel: these tests are about
    playbooks, and a run posts a reply per choice (pacing is tested in test_poster_pacing)."""
    from tests.conftest import emulator_config

    return emulator_config(post_message_rate_per_channel=50.0)


def run_card(stack: SeawallStack, playbook: str) -> EmulatedMessage:
    """The run card of `playbook`, as it is now (it is updated in place)."""
    found: EmulatedMessage = wait_until(
        lambda: next(
            (
                m
                for m in stack.messages(CHANNEL)
                if m.blocks and f"Playbook {playbook}" in m.blocks[0]["text"]["text"]
            ),
            None,
        ),
        timeout=15,
        what=f"the {playbook} run card",
    )
    return found


def header(stack: SeawallStack, playbook: str) -> str:
    return str(run_card(stack, playbook).blocks[0]["text"]["text"])


def card_text(stack: SeawallStack, playbook: str) -> str:
    """Everything on the card and in its thread, as one string."""
    card = run_card(stack, playbook)
    return json.dumps([card.blocks, [r.text for r in card.replies]], ensure_ascii=False)


def run_of(stack: SeawallStack, playbook: str) -> PlaybookRun:
    text = json.dumps(run_card(stack, playbook).blocks)
    run_id = text.split("Run `", 1)[1].split("`", 1)[0]
    run = stack.server.run_coroutine(load_run(stack.deps, run_id))
    assert run is not None
    return run


def confirm_prompt(stack: SeawallStack, count: int = 1) -> None:
    """Wait for the operator's step-back prompt number `count` to show Confirm; press it."""
    dm = stack.emulator.dm_channel(OPERATOR)

    def ready() -> EmulatedMessage | None:
        found = stack.emulator.messages(dm)
        if len(found) < count:
            return None
        latest = stack.emulator.message(dm, found[count - 1].ts)
        return latest if latest and button_value(latest, ActionId.PROMPT_CONFIRM) else None

    prompt: EmulatedMessage = wait_until(ready, timeout=20, what=f"prompt {count} with Confirm")
    press(stack, prompt, ActionId.PROMPT_CONFIRM)


def press(stack: SeawallStack, card: EmulatedMessage, action: str, user: str = OPERATOR) -> None:
    """Press a button on the card as it is now, as Slack would deliver the click."""
    current = stack.emulator.message(card.channel, card.ts) or card
    value = button_value(current, action)
    assert value is not None, f"no {action} button on the card now"
    stack.sender.block_action(
        action_id=action, value=value, user_id=user, channel_id=card.channel, message_ts=card.ts
    )


def press_choice(stack: SeawallStack, playbook: str, label: str, user: str = OPERATOR) -> None:
    """Press the waiting step's button labelled `label` (Hold, Step back, Continue...), once
    the card in Slack shows the step's current wait (the poster may lag behind the store)."""
    step = run_of(stack, playbook).current
    assert step is not None
    token_end = f"@{step.waits}"

    def current_button() -> tuple[EmulatedMessage, str] | None:
        card = run_card(stack, playbook)
        for block in card.blocks:
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                ref = CardRef.model_validate_json(element.get("value") or '{"c": ""}')
                if element["text"]["text"] == label and (ref.d or "").endswith(token_end):
                    return card, str(element["action_id"])
        return None

    card, action = wait_until(current_button, what=f"{label!r} on the {playbook} card")
    press(stack, card, action, user)

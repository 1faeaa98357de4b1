"""The step-back prompt end to end: the DM card, the breathing pause, who may decide, double
clicks, and the type-the-name modal, through signed requests and the Slack emulator.

Most tests put a run in Redis as the engine would and call `open_prompt` themselves, then
check what the engine will read (`prompt_decision`) and that an `advance_run` job was queued
for it. The last ones start a playbook with a destructive step through the real engine.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import redis

from bot.cards.common import ActionId, CardRef
from bot.cards.prompt import TYPED_ACTION, TYPED_BLOCK, TYPED_CONFIRM_CALLBACK
from bot.core.config import FileConfig, StepBack
from bot.emulator import EmulatedMessage
from bot.models.card import TriageCard
from bot.models.prompt import prompt_card_id
from bot.models.run import PlaybookRun, RunStatus, StepRecord, run_card_id
from bot.step_back import flow as step_back
from bot.store import CardMutation
from tests.conftest import StackFactory
from tests.fixtures.destructive_playbook import ran_key
from tests.support.stack import CHANNEL, SeawallStack, button_value
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

OPERATOR = "U0ALICE"
STEP = 1  # the destructive step of the run below
NO_PAUSE = FileConfig(step_back=StepBack(confirm_delay_seconds=0))
LONG_PAUSE = FileConfig(step_back=StepBack(confirm_delay_seconds=120))


def a_run(run_id: str = "r-test", *, high_risk: bool = False) -> PlaybookRun:
    return PlaybookRun(
        run_id=run_id,
        playbook="quarantine-host",
        params={"host": "web-3.prod"},
        requested_by=OPERATOR,
        channel=CHANNEL,
        incident_id="inc-test",
        status=RunStatus.WAITING_CONFIRM,
        step_index=STEP,
        steps=[
            StepRecord(name="check", description="Check web-3 is reachable"),
            StepRecord(
                name="drain",
                description="Drain web-3 from the HAProxy backend",
                destructive=True,
                high_risk=high_risk,
                target="web-3.prod",
                blast_radius="One of six web servers stops taking traffic",
                rollback="Set web-3.prod back to READY",
            ),
        ],
        created_at=datetime.now(UTC),
    )


def open_prompt(stack: SeawallStack, run: PlaybookRun) -> EmulatedMessage:
    """Store the run as the engine does, open the prompt, and wait for the DM card."""

    async def go() -> None:
        def create(card: TriageCard | None) -> CardMutation | None:
            if card is not None:
                return None
            subject = TriageCard(
                card_id=run_card_id(run.run_id),
                channel=CHANNEL,
                subject=run,
                created_at=run.created_at,
                updated_at=run.created_at,
            )
            return CardMutation(card=subject, render=False)  # the run card is not under test

        await stack.deps.store.mutate_card(run_card_id(run.run_id), create)
        await step_back.open_prompt(stack.deps, run, STEP)

    stack.server.run_coroutine(go())
    [card] = wait_until(lambda: stack.emulator.messages(dm(stack)), what="the prompt in the DM")
    return card


def dm(stack: SeawallStack) -> str:
    return stack.emulator.dm_channel(OPERATOR)


def current(stack: SeawallStack, card: EmulatedMessage) -> EmulatedMessage:
    message = stack.emulator.message(card.channel, card.ts)
    assert message is not None
    return message


def text_of(stack: SeawallStack, card: EmulatedMessage) -> str:
    return json.dumps(current(stack, card).blocks, ensure_ascii=False)


def press(
    stack: SeawallStack, card: EmulatedMessage, action: ActionId, user_id: str = OPERATOR
) -> httpx.Response:
    """Click `action` as Slack would deliver it, even if the card does not show it (forged)."""
    value = button_value(current(stack, card), action)
    if value is None:
        value = CardRef(c=prompt_card_id("r-test", STEP)).model_dump_json()
    return stack.sender.block_action(
        action_id=action,
        value=value,
        user_id=user_id,
        channel_id=card.channel,
        message_ts=card.ts,
    )


def decision(stack: SeawallStack, run_id: str = "r-test") -> step_back.PromptDecision:
    return stack.server.run_coroutine(step_back.prompt_decision(stack.deps, a_run(run_id), STEP))


def answers(stack: SeawallStack, count: int = 1) -> list[str]:
    found = wait_until(
        lambda: len(stack.emulator.ephemerals) >= count and stack.emulator.ephemerals,
        what=f"{count} ephemeral answer(s)",
    )
    return [e.text for e in found]


def advance_jobs(stack: SeawallStack) -> int:
    """`advance_run` jobs queued for the engine (saq keeps each job under its key)."""
    client = redis.Redis.from_url(stack.deps.settings.redis_url)
    try:
        return len(list(client.scan_iter("saq:job:seawall:advance_run:*")))
    finally:
        client.close()


def prompt_entries(stack: SeawallStack) -> list[str]:
    entries = stack.server.run_coroutine(stack.deps.timeline.read("inc-test"))
    return [e.text for e in entries if e.kind == "prompt"]


def has_button(stack: SeawallStack, card: EmulatedMessage, action: ActionId) -> bool:
    return button_value(current(stack, card), action) is not None


def test_the_prompt_reaches_the_operators_dm_with_the_facts_and_no_confirm_yet(
    make_stack: StackFactory,
) -> None:
    stack = make_stack(file_config=LONG_PAUSE)
    card = open_prompt(stack, a_run())
    text = text_of(stack, card)
    assert card.channel.startswith("D")
    assert "`web-3.prod`" in text
    assert "One of six web servers stops taking traffic" in text
    assert "Set web-3.prod back to READY" in text
    assert "(Europe/Paris) for you" in text
    assert not has_button(stack, card, ActionId.PROMPT_CONFIRM)
    assert has_button(stack, card, ActionId.PROMPT_CANCEL)
    assert stack.emulator.messages(CHANNEL) == []
    assert decision(stack)[:3] == ("pending", None, None)
    assert len(prompt_entries(stack)) == 1


def test_opening_the_same_prompt_again_posts_nothing_new(make_stack: StackFactory) -> None:
    stack = make_stack(file_config=LONG_PAUSE)
    run = a_run()
    open_prompt(stack, run)
    stack.server.run_coroutine(step_back.open_prompt(stack.deps, run, STEP))
    assert len(stack.emulator.messages(dm(stack))) == 1
    assert len(stack.emulator.calls_to("conversations.open")) == 1
    assert len(prompt_entries(stack)) == 1


def test_confirm_appears_on_the_card_once_the_pause_is_over(make_stack: StackFactory) -> None:
    stack = make_stack(
        worker=True, file_config=FileConfig(step_back=StepBack(confirm_delay_seconds=1))
    )
    card = open_prompt(stack, a_run())
    assert not has_button(stack, card, ActionId.PROMPT_CONFIRM)
    wait_until(lambda: has_button(stack, card, ActionId.PROMPT_CONFIRM), what="Confirm button")
    assert "You can confirm now" in text_of(stack, card)
    [update] = stack.emulator.calls_to("chat.update")
    posted_at = float(card.ts)
    assert update.at - posted_at >= 0.9  # never before the pause


def test_a_click_before_the_pause_is_over_is_refused_calmly(make_stack: StackFactory) -> None:
    stack = make_stack(file_config=LONG_PAUSE)
    card = open_prompt(stack, a_run())
    press(stack, card, ActionId.PROMPT_CONFIRM)
    [answer] = answers(stack)
    assert answer.startswith("Not yet: take a moment")
    assert decision(stack).state == "pending"
    assert advance_jobs(stack) == 0


def test_someone_elses_confirm_is_refused(make_stack: StackFactory) -> None:
    stack = make_stack(file_config=NO_PAUSE)
    card = open_prompt(stack, a_run())
    press(stack, card, ActionId.PROMPT_CONFIRM, user_id="U0BOB")
    assert answers(stack) == ["Only <@U0ALICE> can confirm this step; nothing was done."]
    assert decision(stack).state == "pending"
    assert advance_jobs(stack) == 0


def test_the_operators_confirm_is_recorded_and_the_run_is_sent_on(
    make_stack: StackFactory,
) -> None:
    stack = make_stack(file_config=NO_PAUSE)
    card = open_prompt(stack, a_run())
    press(stack, card, ActionId.PROMPT_CONFIRM)
    assert answers(stack)[0].startswith("Confirmed.")
    state, user_id, at, _ = decision(stack)
    assert (state, user_id) == ("confirmed", OPERATOR)
    assert at is not None
    assert advance_jobs(stack) == 1
    wait_until(lambda: "Confirmed by <@U0ALICE>" in text_of(stack, card), what="who confirmed")
    assert not any(b["type"] == "actions" for b in current(stack, card).blocks)
    assert any("confirmed by U0ALICE" in t for t in prompt_entries(stack))


def test_a_double_click_confirms_once(make_stack: StackFactory) -> None:
    stack = make_stack(file_config=NO_PAUSE)
    card = open_prompt(stack, a_run())
    press(stack, card, ActionId.PROMPT_CONFIRM)
    press(stack, card, ActionId.PROMPT_CONFIRM)
    texts = sorted(answers(stack, 2))
    assert texts[0].startswith("Already confirmed by <@U0ALICE>")
    assert texts[1].startswith("Confirmed.")
    assert advance_jobs(stack) == 1
    assert len([t for t in prompt_entries(stack) if "confirmed by" in t]) == 1


def test_the_operator_can_cancel_during_the_pause(make_stack: StackFactory) -> None:
    stack = make_stack(file_config=LONG_PAUSE)
    card = open_prompt(stack, a_run())
    press(stack, card, ActionId.PROMPT_CANCEL)
    assert answers(stack)[0].startswith("Cancelled.")
    assert decision(stack)[:2] == ("cancelled", OPERATOR)
    assert advance_jobs(stack) == 1
    wait_until(lambda: "Cancelled by <@U0ALICE>" in text_of(stack, card), what="who cancelled")
    assert not has_button(stack, card, ActionId.PROMPT_CANCEL)


def test_someone_else_cannot_cancel(make_stack: StackFactory) -> None:
    stack = make_stack(file_config=LONG_PAUSE)
    card = open_prompt(stack, a_run())
    press(stack, card, ActionId.PROMPT_CANCEL, user_id="U0BOB")
    assert answers(stack) == ["Only <@U0ALICE> can cancel this step; nothing was changed."]
    assert decision(stack).state == "pending"


def test_a_high_risk_confirm_opens_a_modal_asking_for_the_target(
    make_stack: StackFactory,
) -> None:
    stack = make_stack(file_config=NO_PAUSE)
    card = open_prompt(stack, a_run(high_risk=True))
    assert not has_button(stack, card, ActionId.PROMPT_CONFIRM)
    press(stack, card, ActionId.PROMPT_CONFIRM_TYPED)
    [view] = wait_until(lambda: stack.emulator.views, what="the modal")
    assert view["callback_id"] == TYPED_CONFIRM_CALLBACK
    assert view["private_metadata"] == prompt_card_id("r-test", STEP)
    assert "Type web-3.prod" in json.dumps(view)
    assert decision(stack).state == "pending"


def submit_name(stack: SeawallStack, typed: str) -> httpx.Response:
    values = {TYPED_BLOCK: {TYPED_ACTION: {"type": "plain_text_input", "value": typed}}}
    return stack.sender.view_submission(
        TYPED_CONFIRM_CALLBACK, values, OPERATOR, prompt_card_id("r-test", STEP)
    )


def test_a_wrong_name_keeps_the_modal_open_with_an_error_and_confirms_nothing(
    make_stack: StackFactory,
) -> None:
    stack = make_stack(file_config=NO_PAUSE)
    card = open_prompt(stack, a_run(high_risk=True))
    press(stack, card, ActionId.PROMPT_CONFIRM_TYPED)
    wait_until(lambda: stack.emulator.views, what="the modal")
    response = submit_name(stack, "web-3")
    assert response.json() == {
        "response_action": "errors",
        "errors": {TYPED_BLOCK: "Type web-3.prod exactly to confirm"},
    }
    assert decision(stack).state == "pending"
    assert advance_jobs(stack) == 0


def test_the_right_name_confirms_a_high_risk_step(make_stack: StackFactory) -> None:
    stack = make_stack(file_config=NO_PAUSE)
    card = open_prompt(stack, a_run(high_risk=True))
    press(stack, card, ActionId.PROMPT_CONFIRM_TYPED)
    wait_until(lambda: stack.emulator.views, what="the modal")
    response = submit_name(stack, "web-3.prod")
    assert response.status_code == 200
    assert response.text == ""  # an empty ack closes the modal
    assert decision(stack)[:2] == ("confirmed", OPERATOR)
    assert advance_jobs(stack) == 1


def test_a_plain_confirm_on_a_high_risk_step_is_refused(make_stack: StackFactory) -> None:
    stack = make_stack(file_config=NO_PAUSE)
    card = open_prompt(stack, a_run(high_risk=True))
    press(stack, card, ActionId.PROMPT_CONFIRM)
    assert "needs its target's name typed" in answers(stack)[0]
    assert decision(stack).state == "pending"


def test_someone_else_gets_no_modal_for_a_high_risk_step(make_stack: StackFactory) -> None:
    stack = make_stack(file_config=NO_PAUSE)
    card = open_prompt(stack, a_run(high_risk=True))
    press(stack, card, ActionId.PROMPT_CONFIRM_TYPED, user_id="U0BOB")
    assert answers(stack) == ["Only <@U0ALICE> can confirm this step; nothing was done."]
    assert stack.emulator.views == []


def test_the_card_says_local_time_unknown_when_users_info_fails(
    make_stack: StackFactory,
) -> None:
    stack = make_stack(file_config=LONG_PAUSE)
    stack.emulator.inject_fault("users.info", 500, count=5, error="internal_error")
    card = open_prompt(stack, a_run())
    assert "local time is unknown" in text_of(stack, card)
    assert not has_button(stack, card, ActionId.PROMPT_CONFIRM)


def test_the_pause_is_measured_from_when_the_prompt_opened(make_stack: StackFactory) -> None:
    stack = make_stack(file_config=LONG_PAUSE)
    open_prompt(stack, a_run())
    card = stack.server.run_coroutine(stack.deps.store.get_card(prompt_card_id("r-test", STEP)))
    assert card is not None
    pause = card.subject.confirm_available_at - card.created_at  # type: ignore[union-attr]
    assert pause == timedelta(seconds=120)


def test_a_modal_submitted_after_a_cancel_closes_and_says_so_beside_the_card(
    make_stack: StackFactory,
) -> None:
    stack = make_stack(file_config=NO_PAUSE)
    card = open_prompt(stack, a_run(high_risk=True))
    press(stack, card, ActionId.PROMPT_CONFIRM_TYPED)
    wait_until(lambda: stack.emulator.views, what="the modal")
    press(stack, card, ActionId.PROMPT_CANCEL)
    wait_until(lambda: decision(stack).state == "cancelled", what="the cancel")
    response = submit_name(stack, "web-3.prod")
    assert response.text == ""  # the modal closes: retyping cannot help
    said = wait_until(
        lambda: [e for e in stack.emulator.ephemerals if e.source == "chat.postEphemeral"],
        what="the answer beside the card",
    )
    assert said[0].channel == card.channel
    assert said[0].text.startswith("Already cancelled by <@U0ALICE>")
    assert decision(stack).state == "cancelled"


ENGINE = FileConfig(
    playbook_modules=["tests.fixtures.destructive_playbook"],
    step_back=StepBack(confirm_delay_seconds=0),
)


def engine_prompt(stack: SeawallStack) -> tuple[EmulatedMessage, str]:
    """Start the sample through /playbook; the prompt in the DM and its button value."""
    stack.sender.slash_command("/playbook", "drain-sample web-3.prod", user_id=OPERATOR)
    [card] = wait_until(lambda: stack.emulator.messages(dm(stack)), what="the prompt in the DM")
    value = button_value(card, ActionId.PROMPT_CANCEL)
    assert value is not None
    return card, value


def drained(stack: SeawallStack, value: str) -> int:
    """How often the destructive step of the prompt's run has run."""
    card_id = CardRef.model_validate_json(value).c
    run_id = card_id.removeprefix("prompt-").rsplit("-", 1)[0]
    client = redis.Redis.from_url(stack.deps.settings.redis_url)
    try:
        return int(client.get(ran_key(run_id)) or 0)
    finally:
        client.close()


def click_in_dm(
    stack: SeawallStack, card: EmulatedMessage, action: ActionId, value: str
) -> httpx.Response:
    return stack.sender.block_action(
        action_id=action, value=value, user_id=OPERATOR, channel_id=card.channel, message_ts=card.ts
    )


def run_card_text(stack: SeawallStack) -> str:
    """The run card and its thread, where the engine says what it waits for and why it ended."""
    parts = [[m.blocks, [r.text for r in m.replies]] for m in stack.messages(CHANNEL)]
    return json.dumps(parts, ensure_ascii=False)


def test_through_the_engine_a_destructive_step_runs_only_after_the_confirm(
    make_stack: StackFactory,
) -> None:
    stack = make_stack(worker=True, file_config=ENGINE)
    card, value = engine_prompt(stack)
    assert "web-3.prod stops taking traffic" in text_of(stack, card)
    wait_until(lambda: "to confirm" in run_card_text(stack), what="the run card waiting")
    assert drained(stack, value) == 0
    click_in_dm(stack, card, ActionId.PROMPT_CONFIRM, value)
    wait_until(lambda: drained(stack, value) == 1, what="the step to run")


def test_through_the_engine_a_cancel_stops_the_run_without_the_step(
    make_stack: StackFactory,
) -> None:
    stack = make_stack(worker=True, file_config=ENGINE)
    card, value = engine_prompt(stack)
    click_in_dm(stack, card, ActionId.PROMPT_CANCEL, value)
    wait_until(lambda: "cancelled at step drain" in run_card_text(stack), what="the run aborted")
    assert drained(stack, value) == 0

"""The same Slack scenarios over HTTP and over Socket Mode: a slash command answered in its
ack, a button done by the worker, a modal whose error comes back in the ack, a reaction
event, and (Socket Mode only) a dropped socket that the app reopens. In Socket Mode every
request arrives as an envelope on the emulator's WebSocket, which checks each ack's
envelope_id and payload the way Slack does (`problems` stays empty)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.cards.common import ActionId
from bot.cards.prompt import TYPED_ACTION, TYPED_BLOCK, TYPED_CONFIRM_CALLBACK
from bot.core.config import Approvers, FileConfig, StepBack
from bot.models.card import TriageCard
from bot.models.run import PlaybookRun, RunStatus, StepRecord, run_card_id
from bot.step_back import flow as step_back
from bot.store import CardMutation
from tests.conftest import StackFactory
from tests.fixtures.alertmanager_payloads import group_payload
from tests.support.stack import CHANNEL, SeawallStack, button_value, click
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

OPERATOR, APPROVER = "U0ALICE", "U0BOB"
CONFIG = FileConfig(
    approvers=Approvers(users=[APPROVER]), step_back=StepBack(confirm_delay_seconds=0)
)


@pytest.fixture(params=["http", "socket"])
def stack(request: pytest.FixtureRequest, make_stack: StackFactory) -> Iterator[SeawallStack]:
    stack = make_stack(file_config=CONFIG, socket_mode=request.param == "socket")
    yield stack
    assert stack.emulator.socket.problems == []  # every envelope acked, by id, within 3 s


def ephemerals(stack: SeawallStack, user: str = OPERATOR) -> list[str]:
    return [e.text for e in stack.emulator.ephemerals if e.user == user]


def test_a_slash_command_is_answered_in_its_ack(stack: SeawallStack) -> None:
    response = stack.sender.slash_command("/incident", "declare DB down", user_id=OPERATOR)
    assert response.status_code == 200
    assert "declared a *SEV2* incident: *DB down*" in response.json()["text"]
    assert stack.emulator.calls_to("conversations.create")


def test_help_for_an_unknown_subcommand_comes_back_in_the_ack(stack: SeawallStack) -> None:
    response = stack.sender.slash_command("/incident", "frobnicate", user_id=OPERATOR)
    assert "is not a command I know" in response.json()["text"]
    assert any("is not a command I know" in t for t in ephemerals(stack))


def test_a_button_is_acked_and_done_by_the_worker(stack: SeawallStack) -> None:
    stack.post_alertmanager(group_payload("DiskFull"))
    [card] = wait_until(stack.messages, what="the alert card")
    click(stack, card, ActionId.ACK, user_id=OPERATOR)
    wait_until(
        lambda: "Acknowledged by" in json.dumps(stack.emulator.message(CHANNEL, card.ts).blocks),
        what="the card to show the acknowledgement",
    )
    assert any(t.startswith("Acknowledged") for t in ephemerals(stack))


def test_a_reaction_event_approves_a_change_request(stack: SeawallStack) -> None:
    stack.sender.slash_command("/incident", "change restart pgbouncer", user_id=OPERATOR)
    [card] = wait_until(stack.messages, what="the change-request card")
    wait_until(
        lambda: stack.server.run_coroutine(stack.deps.store.card_for_message(CHANNEL, card.ts)),
        what="the card's message recorded",
    )
    stack.sender.reaction_added(APPROVER, "white_check_mark", CHANNEL, card.ts)
    wait_until(
        lambda: (
            f"<@{APPROVER}> (reaction)"
            in json.dumps(stack.emulator.message(CHANNEL, card.ts).blocks)
        ),
        what="the approval on the card",
    )


def high_risk_prompt(stack: SeawallStack) -> tuple[str, str]:
    """A run waiting at a high-risk step, and its prompt's (channel, ts) once Confirm shows."""
    run = PlaybookRun(
        run_id="r-socket",
        playbook="drain-host",
        params={"host": "web-3"},
        requested_by=OPERATOR,
        channel=CHANNEL,
        status=RunStatus.WAITING_CONFIRM,
        steps=[
            StepRecord(
                name="drain",
                description="Drain web-3",
                destructive=True,
                high_risk=True,
                target="web-3",
            )
        ],
        created_at=datetime.now(UTC),
    )

    async def open_it() -> None:
        card = TriageCard(
            card_id=run_card_id(run.run_id),
            channel=CHANNEL,
            subject=run,
            created_at=run.created_at,
            updated_at=run.created_at,
        )
        await stack.deps.store.mutate_card(card.card_id, lambda _: CardMutation(card, render=False))
        await step_back.open_prompt(stack.deps, run, 0)

    stack.server.run_coroutine(open_it())
    dm = stack.emulator.dm_channel(OPERATOR)
    prompt = wait_until(
        lambda: next(
            (
                m
                for m in stack.emulator.messages(dm)
                if button_value(m, ActionId.PROMPT_CONFIRM_TYPED)
            ),
            None,
        ),
        what="the prompt with Confirm",
    )
    stack.sender.block_action(
        action_id=ActionId.PROMPT_CONFIRM_TYPED,
        value=button_value(prompt, ActionId.PROMPT_CONFIRM_TYPED),
        user_id=OPERATOR,
        channel_id=dm,
        message_ts=prompt.ts,
    )
    [view] = wait_until(lambda: stack.emulator.views, what="the type-the-name modal")
    return str(view["private_metadata"]), dm


def test_a_modal_error_comes_back_in_the_ack_and_the_right_name_confirms(
    stack: SeawallStack,
) -> None:
    metadata, _ = high_risk_prompt(stack)

    def submit(name: str) -> dict[str, object]:
        values = {TYPED_BLOCK: {TYPED_ACTION: {"type": "plain_text_input", "value": name}}}
        response = stack.sender.view_submission(TYPED_CONFIRM_CALLBACK, values, OPERATOR, metadata)
        assert response.status_code == 200
        return response.json() if response.content else {}

    wrong = submit("web-4")
    assert wrong["response_action"] == "errors"
    assert "Type web-3 exactly" in json.dumps(wrong["errors"])
    assert submit("web-3") == {}
    decision = stack.server.run_coroutine(
        step_back.prompt_decision(stack.deps, PlaybookRun.model_validate(_stored_run(stack)), 0)
    )
    assert (decision.state, decision.user_id) == ("confirmed", OPERATOR)


def _stored_run(stack: SeawallStack) -> dict[str, object]:
    card = stack.server.run_coroutine(stack.deps.store.get_card(run_card_id("r-socket")))
    assert card is not None
    return card.subject.model_dump()


def test_a_dropped_socket_is_reopened_and_requests_still_arrive(
    make_stack: StackFactory,
) -> None:
    stack = make_stack(file_config=CONFIG, socket_mode=True)
    stack.emulator.socket.disconnect()  # as Slack does before restarting a server
    stack.emulator.socket.wait_connected(count=2, timeout=20)
    response = stack.sender.slash_command("/incident", "status", user_id=OPERATOR)
    assert "No open incidents" in response.json()["text"]
    assert stack.emulator.socket.problems == []
    opens = stack.emulator.calls_to("apps.connections.open")
    assert len(opens) >= 2  # a fresh URL for each connection; tickets are single-use
    assert all(call.token.startswith("xapp-") for call in opens)

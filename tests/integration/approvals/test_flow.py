"""Four-eyes approvals through the real app: slash command, reactions, buttons, checklist,
expiry, Slack retries and double clicks, and the wake-up of a waiting playbook run."""

from __future__ import annotations

import dataclasses
import json
import secrets
from datetime import timedelta
from typing import Any

import pytest

from bot.approvals import flow as approval_flow
from bot.cards.common import ActionId, CardRef
from bot.core.clock import FrozenClock
from bot.core.config import Approvers, FileConfig
from bot.emulator import EmulatedMessage, EmulatedUser
from bot.models.approval import Approval, approval_card_id
from bot.models.card import TriageCard
from bot.models.run import PlaybookRun, RunStatus, StepRecord, run_card_id
from bot.store import CardMutation
from tests.conftest import StackFactory, emulator_config
from tests.support.stack import CHANNEL, USERS, SeawallStack, click
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

REQUESTER, APPROVER, OUTSIDER, GROUP_MEMBER = "U0ALICE", "U0BOB", "U0MALLORY", "U0CAROL"
GROUP = "S0SRE"
CHECK = "white_check_mark"


def approvals_stack(
    make_stack: StackFactory, *, worker: bool = True, **approvers: Any
) -> SeawallStack:
    users = {uid: EmulatedUser(name=name, tz=tz) for uid, (name, tz) in USERS.items()}
    users |= {OUTSIDER: EmulatedUser(name="mallory"), GROUP_MEMBER: EmulatedUser(name="carol")}
    config = Approvers(users=[APPROVER], usergroups=[GROUP], **approvers)
    return make_stack(
        worker=worker,
        emulator=emulator_config(users=users, usergroups={GROUP: [GROUP_MEMBER]}),
        file_config=FileConfig(approvers=config),
    )


@pytest.fixture
def stack(make_stack: StackFactory) -> SeawallStack:
    return approvals_stack(make_stack)


def request_change(
    stack: SeawallStack, text: str = "move orders consumers to topic v2"
) -> tuple[EmulatedMessage, str]:
    """Run /incident change as the requester; the posted card and its card id."""
    response = stack.sender.slash_command("/incident", f"change {text}", user_id=REQUESTER)
    assert response.status_code == 200
    [card] = wait_until(stack.messages, what="the change-request card")
    card_id = wait_until(
        lambda: stack.server.run_coroutine(stack.deps.store.card_for_message(CHANNEL, card.ts)),
        what="the card's message recorded",
    )
    assert card_id is not None
    return card, card_id


def stored(stack: SeawallStack, card_id: str) -> Approval:
    card = stack.server.run_coroutine(stack.deps.store.get_card(card_id))
    assert card is not None
    assert isinstance(card.subject, Approval)
    return card.subject


def card_text(stack: SeawallStack, card: EmulatedMessage) -> str:
    message = stack.emulator.message(CHANNEL, card.ts)
    assert message is not None
    return json.dumps(message.blocks, ensure_ascii=False)


def current(stack: SeawallStack, card: EmulatedMessage) -> EmulatedMessage:
    message = stack.emulator.message(CHANNEL, card.ts)
    assert message is not None
    return message


def ephemerals_for(stack: SeawallStack, user: str) -> list[str]:
    return [e.text for e in stack.emulator.ephemerals if e.user == user]


def replies(stack: SeawallStack, card: EmulatedMessage) -> list[str]:
    return [r.text for r in current(stack, card).replies]


def press(stack: SeawallStack, card: EmulatedMessage, action: ActionId, user: str) -> None:
    """A button press from a card as the clicker last saw it (the button may be gone now)."""
    value = CardRef(c=approval_card_id_of(stack, card)).model_dump_json()
    response = stack.sender.block_action(
        action_id=action.value, value=value, user_id=user, channel_id=CHANNEL, message_ts=card.ts
    )
    assert response.status_code == 200


def approval_card_id_of(stack: SeawallStack, card: EmulatedMessage) -> str:
    card_id = stack.server.run_coroutine(stack.deps.store.card_for_message(CHANNEL, card.ts))
    assert card_id is not None
    return card_id


def tick(stack: SeawallStack, card: EmulatedMessage, user: str, selected: list[str]) -> None:
    """Click the checklist as Slack delivers it: the checkboxes' whole selection after it."""
    message = current(stack, card)
    block = next(
        b
        for b in message.blocks
        if b["type"] == "actions" and b["elements"][0]["type"] == "checkboxes"
    )
    options = {o["value"]: o for o in block["elements"][0]["options"]}
    action = {
        "type": "checkboxes",
        "action_id": ActionId.APPROVAL_CHECKLIST.value,
        "block_id": block["block_id"],
        "selected_options": [options[v] for v in selected],
        "action_ts": f"{secrets.randbelow(10**9)}.000100",
    }
    response = stack.sender.block_action(
        action_id=ActionId.APPROVAL_CHECKLIST.value,
        value=None,
        user_id=user,
        channel_id=CHANNEL,
        message_ts=card.ts,
        block_id=block["block_id"],
        actions=[action],
    )
    assert response.status_code == 200


# --- who may approve -----------------------------------------------------------------------
def test_the_requesters_own_reaction_is_refused_with_an_explanation(stack: SeawallStack) -> None:
    card, card_id = request_change(stack)
    stack.sender.reaction_added(REQUESTER, CHECK, CHANNEL, card.ts)
    [answer] = wait_until(
        lambda: [t for t in ephemerals_for(stack, REQUESTER) if "own approval" in t],
        what="the self-approval refusal",
    )
    assert f"<@{APPROVER}>" in answer
    assert stored(stack, card_id).state == "pending"


def test_a_non_approvers_button_press_is_refused_naming_who_can_approve(
    stack: SeawallStack,
) -> None:
    card, card_id = request_change(stack)
    click(stack, card, ActionId.APPROVE, OUTSIDER)
    [answer] = wait_until(lambda: ephemerals_for(stack, OUTSIDER), what="the refusal")
    assert "not in the approver group" in answer
    assert f"<@{APPROVER}>" in answer
    assert f"<!subteam^{GROUP}>" in answer
    assert stored(stack, card_id).state == "pending"


def test_an_approver_approves_by_reaction_and_the_card_shows_who_and_when(
    stack: SeawallStack,
) -> None:
    card, card_id = request_change(stack)
    stack.sender.reaction_added(APPROVER, CHECK, CHANNEL, card.ts)
    wait_until(lambda: f"<@{APPROVER}> (reaction) at" in card_text(stack, card), what="approval")
    approval = stored(stack, card_id)
    assert (approval.state, approval.approved_by, approval.approved_via) == (
        "approved",
        APPROVER,
        "reaction",
    )
    assert approval.approved_at is not None
    wait_until(lambda: replies(stack, card), what="the thread reply")
    assert replies(stack, card) == [
        f"✅ <@{APPROVER}> approved this (reaction). It counts now: <@{REQUESTER}> can carry "
        "it out, then press *Mark as done*."
    ]


def test_a_usergroup_member_approves_by_button(stack: SeawallStack) -> None:
    card, card_id = request_change(stack)
    click(stack, card, ActionId.APPROVE, GROUP_MEMBER)
    [answer] = wait_until(lambda: ephemerals_for(stack, GROUP_MEMBER), what="the answer")
    assert answer.startswith("Approved.")
    assert stored(stack, card_id).approved_by == GROUP_MEMBER
    assert stack.emulator.calls_to("usergroups.users.list")[0].params["usergroup"] == GROUP


def test_removing_the_reaction_withdraws_and_the_card_is_pending_again(
    stack: SeawallStack,
) -> None:
    card, card_id = request_change(stack)
    stack.sender.reaction_added(APPROVER, CHECK, CHANNEL, card.ts)
    wait_until(lambda: stored(stack, card_id).state == "approved", what="approved")
    stack.sender.reaction_removed(APPROVER, CHECK, CHANNEL, card.ts)
    wait_until(lambda: "withdrew their approval" in card_text(stack, card), what="withdrawal")
    approval = stored(stack, card_id)
    assert (approval.state, approval.approved_by) == ("pending", None)
    assert "waiting for approval" in current(stack, card).blocks[0]["text"]["text"]
    assert [w.user_id for w in approval.withdrawals] == [APPROVER]


# --- checklist and completion --------------------------------------------------------------
def test_an_incomplete_checklist_blocks_completion_until_every_item_is_ticked(
    make_stack: StackFactory,
) -> None:
    stack = approvals_stack(make_stack, change_checklist=["subscribers moved?", "old drained?"])
    card, card_id = request_change(stack)
    stack.sender.reaction_added(APPROVER, CHECK, CHANNEL, card.ts)
    wait_until(lambda: "checklist incomplete" in card_text(stack, card), what="approved")
    press(stack, card, ActionId.APPROVAL_DONE, REQUESTER)  # from a stale view of the card
    wait_until(
        lambda: [t for t in ephemerals_for(stack, REQUESTER) if "must be ticked" in t],
        what="the refusal",
    )
    assert stored(stack, card_id).state == "approved"

    tick(stack, card, REQUESTER, ["0"])
    wait_until(lambda: "1 of 2 ticked" in card_text(stack, card), what="first tick")
    tick(stack, card, APPROVER, ["0", "1"])
    wait_until(lambda: "Mark as done" in card_text(stack, card), what="complete")
    approval = stored(stack, card_id)
    assert [i.ticked_by for i in approval.checklist] == [REQUESTER, APPROVER]
    click(stack, current(stack, card), ActionId.APPROVAL_DONE, REQUESTER)
    wait_until(lambda: stored(stack, card_id).state == "executed", what="marked as done")
    stack.sender.reaction_removed(APPROVER, CHECK, CHANNEL, card.ts)
    wait_until(lambda: len(replies(stack, card)) >= 2, what="the done reply")
    assert stored(stack, card_id).approved_by == APPROVER  # withdrawing after execution: no-op


def test_someone_outside_the_group_cannot_tick_the_checklist(make_stack: StackFactory) -> None:
    stack = approvals_stack(make_stack, change_checklist=["subscribers moved?"])
    card, card_id = request_change(stack)
    tick(stack, card, OUTSIDER, ["0"])
    [answer] = wait_until(lambda: ephemerals_for(stack, OUTSIDER), what="the refusal")
    assert "Only the requester and the approvers" in answer
    assert stored(stack, card_id).checklist[0].ticked_by is None


# --- expiry --------------------------------------------------------------------------------
def test_expiry_flips_the_request_and_a_later_approval_is_refused(stack: SeawallStack) -> None:
    card, card_id = request_change(stack)
    approval = stored(stack, card_id)
    job = stack.server.run_coroutine(
        stack.deps.jobs.queue.job(f"expire_approval:{approval.approval_id}")  # type: ignore[attr-defined]
    )
    assert job is not None  # scheduled for when it expires
    later = FrozenClock(approval.expires_at + timedelta(seconds=1))
    deps_later = dataclasses.replace(stack.deps, clock=later)
    stack.server.run_coroutine(approval_flow.expire_approval(deps_later, approval.approval_id))
    wait_until(lambda: current(stack, card).blocks[0]["text"]["text"].startswith("⌛"), what="⌛")
    assert stored(stack, card_id).state == "expired"
    stack.sender.reaction_added(APPROVER, CHECK, CHANNEL, card.ts)
    [answer] = wait_until(lambda: ephemerals_for(stack, APPROVER), what="the refusal")
    assert "expired" in answer
    assert stored(stack, card_id).approved_by is None


# --- retries and double clicks -------------------------------------------------------------
def test_a_slack_retry_and_a_duplicate_reaction_count_once(stack: SeawallStack) -> None:
    card, card_id = request_change(stack)
    stack.sender.reaction_added(APPROVER, CHECK, CHANNEL, card.ts, event_id="Ev0APPROVE1")
    stack.sender.reaction_added(
        APPROVER, CHECK, CHANNEL, card.ts, event_id="Ev0APPROVE1", retry_num=1
    )
    stack.sender.reaction_added(APPROVER, CHECK, CHANNEL, card.ts)  # a new event_id
    wait_until(lambda: replies(stack, card), what="the approval reply")
    first = stored(stack, card_id)
    stack.sender.reaction_added(APPROVER, CHECK, CHANNEL, card.ts)
    stack.sender.reaction_added(OUTSIDER, CHECK, CHANNEL, card.ts)  # answered after the others
    wait_until(lambda: ephemerals_for(stack, OUTSIDER), what="the later reaction handled")
    assert stored(stack, card_id).approved_at == first.approved_at
    assert replies(stack, card)[0].startswith(f"✅ <@{APPROVER}> approved this (reaction).")
    assert ephemerals_for(stack, APPROVER) == ["Approved. The card shows it to everyone."]


def test_a_double_click_on_approve_counts_once(stack: SeawallStack) -> None:
    card, _ = request_change(stack)
    click(stack, card, ActionId.APPROVE, APPROVER)
    click(stack, card, ActionId.APPROVE, APPROVER)
    wait_until(lambda: len(ephemerals_for(stack, APPROVER)) == 2, what="both clicks answered")
    answers = sorted(ephemerals_for(stack, APPROVER))
    assert answers[0].startswith("Approved.")
    assert answers[1] == "You already approved this; nothing changed."
    wait_until(lambda: replies(stack, card), what="the approval reply")
    assert len(replies(stack, card)) == 1


# --- the slash command -----------------------------------------------------------------------
def test_change_without_a_description_explains_the_usage(stack: SeawallStack) -> None:
    stack.sender.slash_command("/incident", "change", user_id=REQUESTER)
    [answer] = wait_until(lambda: ephemerals_for(stack, REQUESTER), what="usage")
    assert answer.startswith("Usage: `/incident change")
    assert stack.messages() == []


def test_a_hostile_description_is_shown_as_text(stack: SeawallStack) -> None:
    card, _ = request_change(stack, "<!channel> drop <https://evil.example|prod>")
    assert "&lt;!channel&gt;" in card_text(stack, card)
    assert "<!channel>" not in card_text(stack, card)


# --- playbook steps ---------------------------------------------------------------------------
def waiting_run(stack: SeawallStack, run_id: str) -> PlaybookRun:
    """A run waiting at a four_eyes step, stored the way the engine stores it."""
    now = stack.deps.clock.now()
    run = PlaybookRun(
        run_id=run_id,
        playbook="quarantine",
        requested_by=REQUESTER,
        channel=CHANNEL,
        incident_id="20261123-orders",
        status=RunStatus.WAITING_APPROVAL,
        steps=[StepRecord(name="drain", description="Drain web-3", four_eyes=True)],
        created_at=now,
    )

    def create(card: TriageCard | None) -> CardMutation | None:
        if card is not None:
            return None
        new = TriageCard(
            card_id=run_card_id(run_id),
            channel=CHANNEL,
            subject=run,
            created_at=now,
            updated_at=now,
        )
        return CardMutation(card=new)

    stack.server.run_coroutine(stack.deps.store.mutate_card(run_card_id(run_id), create))
    return run


def queued_advances(stack: SeawallStack) -> list[dict[str, Any]]:
    """advance_run jobs waiting in saq (this stack runs no worker, so they stay queued)."""
    redis = stack.deps.redis
    ids = stack.server.run_coroutine(redis.zrange("saq:seawall:incomplete", 0, -1))
    found = []
    for job_id in ids:
        if ":advance_run:" in job_id:
            raw = stack.server.run_coroutine(redis.get(job_id))
            found.append(json.loads(raw)["kwargs"])
    return found


def test_a_completed_step_approval_wakes_the_run_once(make_stack: StackFactory) -> None:
    stack = approvals_stack(make_stack, worker=False)
    run = waiting_run(stack, "run42")
    approval_id = stack.server.run_coroutine(approval_flow.request_for_step(stack.deps, run, 0))
    again = stack.server.run_coroutine(approval_flow.request_for_step(stack.deps, run, 0))
    assert approval_id == again == "run42-0"
    [card] = wait_until(
        lambda: [m for m in stack.messages() if "Approval needed" in m.text], what="the card"
    )
    wait_until(
        lambda: stack.server.run_coroutine(stack.deps.store.card_for_message(CHANNEL, card.ts)),
        what="the card's message recorded",
    )
    decision = stack.server.run_coroutine(approval_flow.step_decision(stack.deps, approval_id))
    assert decision.state == "pending"
    assert queued_advances(stack) == []

    stack.sender.reaction_added(APPROVER, CHECK, CHANNEL, card.ts)
    stack.sender.reaction_added(APPROVER, CHECK, CHANNEL, card.ts)
    wait_until(lambda: queued_advances(stack), what="advance_run queued")
    assert queued_advances(stack) == [{"run_id": "run42"}]

    decision = stack.server.run_coroutine(approval_flow.step_decision(stack.deps, approval_id))
    assert (decision.state, decision.approved_by) == ("approved", APPROVER)
    assert stack.server.run_coroutine(approval_flow.mark_executed(stack.deps, approval_id))
    stack.sender.reaction_removed(APPROVER, CHECK, CHANNEL, card.ts)
    card_id = approval_card_id(approval_id)
    wait_until(lambda: "Carried out by" in card_text(stack, card), what="executed on the card")
    assert stored(stack, card_id).state == "executed"
    entries = stack.server.run_coroutine(stack.deps.timeline.read("20261123-orders"))
    assert [e.text.split(":")[0] for e in entries] == [
        "Approval requested",
        "Approved (reaction)",
        "Approved change carried out",
    ]
    assert [e.actor for e in entries] == [REQUESTER, APPROVER, "seawall"]


def abort_run(stack: SeawallStack, run_id: str) -> None:
    def abort(card: TriageCard | None) -> CardMutation | None:
        assert card is not None
        assert isinstance(card.subject, PlaybookRun)
        card.subject.status = RunStatus.ABORTED
        return CardMutation(card=card)

    stack.server.run_coroutine(stack.deps.store.mutate_card(run_card_id(run_id), abort))


def test_approving_a_step_of_a_finished_run_cancels_the_request(make_stack: StackFactory) -> None:
    stack = approvals_stack(make_stack, worker=False)
    run = waiting_run(stack, "run43")
    approval_id = stack.server.run_coroutine(approval_flow.request_for_step(stack.deps, run, 0))
    abort_run(stack, "run43")
    card_id = approval_card_id(approval_id)
    answer = stack.server.run_coroutine(
        approval_flow.approve(stack.deps, card_id, APPROVER, "button")
    )
    assert "playbook run ended (aborted)" in answer
    assert stored(stack, card_id).state == "cancelled"
    decision = stack.server.run_coroutine(approval_flow.step_decision(stack.deps, approval_id))
    assert decision.state == "cancelled"


def test_the_expiry_job_cancels_the_request_of_a_finished_run(make_stack: StackFactory) -> None:
    stack = approvals_stack(make_stack, worker=False)
    run = waiting_run(stack, "run44")
    approval_id = stack.server.run_coroutine(approval_flow.request_for_step(stack.deps, run, 0))
    abort_run(stack, "run44")
    card_id = approval_card_id(approval_id)
    later = FrozenClock(stored(stack, card_id).expires_at + timedelta(seconds=1))
    deps_later = dataclasses.replace(stack.deps, clock=later)
    stack.server.run_coroutine(approval_flow.expire_approval(deps_later, approval_id))
    assert stored(stack, card_id).state == "cancelled"
    assert (
        stored(stack, card_id).ended_reason == "cancelled because the playbook run ended (aborted)"
    )

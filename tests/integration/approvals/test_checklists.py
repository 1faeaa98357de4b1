"""Checklists per kind of change through the real app: picked by the description's words or
by `--checklist <name>`, refused when unknown, and the card turns green (with a thread reply)
only once the approval counts."""

from __future__ import annotations

import pytest

from bot.core.config import Checklist
from tests.conftest import StackFactory
from tests.integration.approvals.test_flow import (
    APPROVER,
    CHANNEL,
    CHECK,
    REQUESTER,
    approvals_stack,
    card_text,
    current,
    ephemerals_for,
    replies,
    request_change,
    stored,
    tick,
)
from tests.support.stack import SeawallStack
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

DATABASE = Checklist(
    match=["postgres", "db", "replica"],
    items=["Replica lag under 10 s?", "Backup less than a day old?"],
)
NETWORK = Checklist(match=["haproxy"], items=["Traffic drained?"])


@pytest.fixture
def stack(make_stack: StackFactory) -> SeawallStack:
    return approvals_stack(
        make_stack,
        change_checklist=["Announced in #changes?"],
        checklists={"database": DATABASE, "network": NETWORK},
    )


def test_restarting_pgbouncer_does_not_get_the_database_checklist(stack: SeawallStack) -> None:
    card, card_id = request_change(stack, "Restart pgbouncer")
    assert [i.text for i in stored(stack, card_id).checklist] == ["Announced in #changes?"]
    assert "Replica lag" not in card_text(stack, card)


def test_a_database_change_gets_the_database_checklist_and_says_why(stack: SeawallStack) -> None:
    card, card_id = request_change(stack, "Fail over the postgres primary to db-2")
    assert [i.text for i in stored(stack, card_id).checklist] == DATABASE.items
    assert "*Checklist `database`* (“postgres” is in the description)" in card_text(stack, card)
    [answer] = ephemerals_for(stack, REQUESTER)
    assert "every item of the *database* checklist is ticked" in answer


def test_a_checklist_named_in_the_command_is_the_one_used(stack: SeawallStack) -> None:
    card, card_id = request_change(stack, "--checklist database Restart pgbouncer")
    approval = stored(stack, card_id)
    assert approval.description == "Restart pgbouncer"
    assert [i.text for i in approval.checklist] == DATABASE.items
    assert "(chosen by the requester)" in card_text(stack, card)


def test_an_unknown_checklist_is_refused_with_the_known_ones(stack: SeawallStack) -> None:
    stack.sender.slash_command(
        "/incident", "change --checklist databse Restart pgbouncer", user_id=REQUESTER
    )
    [answer] = wait_until(lambda: ephemerals_for(stack, REQUESTER), what="the refusal")
    assert answer == (
        "There is no checklist called `databse`; nothing was created. Known checklists: "
        "`database`, `network`."
    )
    assert stack.messages() == []


def test_the_card_turns_green_and_the_thread_says_so_only_when_the_approval_counts(
    stack: SeawallStack,
) -> None:
    card, card_id = request_change(stack, "Restart the replica on db-2")
    stack.sender.reaction_added(APPROVER, CHECK, CHANNEL, card.ts)
    wait_until(lambda: stored(stack, card_id).state == "approved", what="approved")
    wait_until(lambda: replies(stack, card), what="the approval reply")
    assert current(stack, card).blocks[0]["text"]["text"].startswith("⏳")
    tick(stack, card, REQUESTER, ["0"])
    wait_until(lambda: "1 of 2 ticked" in card_text(stack, card), what="the first tick")
    assert current(stack, card).blocks[0]["text"]["text"].startswith("⏳")
    tick(stack, card, APPROVER, ["0", "1"])
    wait_until(
        lambda: current(stack, card).blocks[0]["text"]["text"] == "✅ Change request · approved",
        what="the green header",
    )
    wait_until(lambda: len(replies(stack, card)) == 2, what="the reply that it counts")
    assert replies(stack, card)[1] == (
        f"✅ Every checklist item is ticked and <@{APPROVER}> approved. It counts now: "
        f"<@{REQUESTER}> can carry it out, then press *Mark as done*."
    )

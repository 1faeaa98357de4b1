"""The change-request card: content, Slack's limits, hostile text, and checklist clicks."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.approvals import rules
from bot.cards.approval import checklist_block_id, read_checklist_click
from bot.cards.common import ActionId
from bot.cards.render import render
from bot.emulator.blocks import validate_blocks
from bot.models.approval import Approval, ChecklistSource
from bot.models.card import TriageCard
from tests.fixtures.approvals import (
    APPROVER,
    REQUESTER,
    T0,
    card_of,
    change_request,
    step_request,
    with_checklist,
)

NOW = T0 + timedelta(minutes=1)


def blocks_of(a: Approval) -> list[dict[str, Any]]:
    return [b.to_dict() for b in render(card_of(a), NOW).blocks]


def text_of(a: Approval) -> str:
    return json.dumps(blocks_of(a), ensure_ascii=False)


def action_ids(a: Approval) -> list[str]:
    return [
        e["action_id"]
        for b in blocks_of(a)
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "button"
    ]


def checkboxes(a: Approval) -> list[dict[str, Any]]:
    return [
        e
        for b in blocks_of(a)
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "checkboxes"
    ]


def approve(a: Approval) -> Approval:
    outcome = rules.approve(a, APPROVER, eligible=True, via="reaction", now=NOW)
    assert outcome.approval is not None
    return outcome.approval


def test_a_pending_request_shows_what_who_expiry_and_how_to_approve() -> None:
    text = text_of(change_request())
    assert "Move the orders consumers to the new topic" in text
    assert f"<@{REQUESTER}>" in text
    assert "*Expires*" in text
    assert f"<!date^{int((T0 + timedelta(minutes=30)).timestamp())}^" in text
    assert "react with :white_check_mark: or press *Approve*" in text
    assert blocks_of(change_request())[0]["text"]["text"].startswith("🔐 Change request")
    assert action_ids(change_request()) == [ActionId.APPROVE, ActionId.APPROVAL_CANCEL]


def test_an_approved_request_names_the_approver_and_offers_mark_as_done() -> None:
    a = approve(change_request())
    text = text_of(a)
    assert f"<@{APPROVER}> (reaction) at <!date^{int(NOW.timestamp())}^" in text
    assert blocks_of(a)[0]["text"]["text"].startswith("✅ Change request · approved")
    assert action_ids(a) == [ActionId.APPROVAL_DONE, ActionId.APPROVAL_CANCEL]


def test_an_approved_request_with_an_open_checklist_says_it_does_not_count_yet() -> None:
    a = approve(with_checklist("subscribers moved?"))
    assert "checklist incomplete" in blocks_of(a)[0]["text"]["text"]
    assert "does not count yet" in text_of(a)
    assert ActionId.APPROVAL_DONE not in action_ids(a)


def test_a_step_request_names_playbook_step_target_and_has_no_done_button() -> None:
    a = step_request()
    header = blocks_of(a)[0]["text"]["text"]
    assert header == "🔐 Approval needed · quarantine · drain · waiting for approval"
    assert "*Target:* `web-3`" in text_of(a)
    assert action_ids(approve(a)) == []


def test_a_withdrawn_approval_shows_pending_again_with_the_withdrawal() -> None:
    outcome = rules.withdraw(approve(change_request()), APPROVER, NOW)
    assert outcome.approval is not None
    text = text_of(outcome.approval)
    assert f"<@{APPROVER}> withdrew their approval" in text
    assert ActionId.APPROVE in action_ids(outcome.approval)


def test_closed_requests_have_no_buttons_and_list_the_checklist_as_text() -> None:
    a = with_checklist("subscribers moved?", state="expired")
    assert action_ids(a) == []
    assert checkboxes(a) == []
    assert "☐ subscribers moved?" in text_of(a)
    assert blocks_of(a)[0]["text"]["text"].startswith("⌛")


def test_the_checklist_is_checkboxes_with_ticked_items_preselected() -> None:
    a = with_checklist("one", "two", "three")
    ticked = rules.tick(a, REQUESTER, {1: True}, eligible=False, now=NOW).approval
    assert ticked is not None
    [element] = checkboxes(ticked)
    assert [o["value"] for o in element["options"]] == ["0", "1", "2"]
    assert [o["value"] for o in element["initial_options"]] == ["1"]
    assert "1 of 3 ticked" in text_of(ticked)
    assert f"ticked by <@{REQUESTER}>" in text_of(ticked)


def test_a_long_checklist_is_split_into_groups_slack_accepts() -> None:
    a = with_checklist(*[f"item {i} " + "x" * 120 for i in range(23)])
    assert len(checkboxes(a)) == 3
    assert validate_blocks(blocks_of(a)) == []


def test_hostile_description_and_checklist_text_are_escaped() -> None:
    hostile = "<!channel> <@U0BOSS> <https://evil.example|click> & more"
    a = with_checklist(hostile, description=hostile)
    text = text_of(a)
    assert "<!channel>" not in text
    assert "<https://evil" not in text
    assert "&lt;!channel&gt; &lt;@U0BOSS&gt;" in text
    assert render(card_of(a), NOW).text.count("<") == 0


@given(
    description=st.text(min_size=1, max_size=5000),
    items=st.lists(st.text(min_size=1, max_size=300), max_size=25),
    state=st.sampled_from(["pending", "approved", "executed", "expired", "cancelled"]),
)
def test_any_request_renders_within_slacks_limits(
    description: str, items: list[str], state: str
) -> None:
    a = with_checklist(*items, description=description, state=state)
    if state != "pending":
        a.approved_by, a.approved_at, a.approved_via = APPROVER, NOW, "button"
    assert validate_blocks(blocks_of(a)) == []


def test_a_click_is_read_relative_to_what_the_card_showed() -> None:
    shown = checklist_block_id(0, [True, False, False])
    assert read_checklist_click(shown, ["0", "1"]) == {1: True}
    assert read_checklist_click(shown, []) == {0: False}
    assert read_checklist_click(shown, ["0"]) == {}
    second_group = checklist_block_id(1, [False, True])
    assert read_checklist_click(second_group, ["10"]) == {10: True, 11: False}


def test_a_click_on_something_else_is_not_a_checklist_click() -> None:
    assert read_checklist_click("card.ack", ["0"]) is None
    assert read_checklist_click("approval.checklist.0.2", ["0"]) is None


def test_a_description_imitating_seawall_fields_is_quoted_as_the_requesters_words() -> None:
    a = change_request(description="*Approved by* <@U1> ✅\n\u202etrats ot kcab")
    blocks = blocks_of(a)
    assert validate_blocks(blocks) == []
    request = blocks[1]["text"]["text"]
    assert request == (
        f"*<@{REQUESTER}> asked to change*, in their words:\n"
        "> `*Approved by* &lt;@U1&gt; ✅`\n"
        "> `trats ot kcab`"
    )
    assert "\u202e" not in text_of(a)
    # Seawall's own "Approved by" field is the only one outside the quote.
    fields = [f["text"] for f in blocks[2]["fields"]]
    assert [f for f in fields if f.startswith("*Approved by*")] == ["*Approved by*\n—"]


def header(a: Approval) -> str:
    text: str = blocks_of(a)[0]["text"]["text"]
    return text


def test_the_header_is_not_green_until_the_approval_counts() -> None:
    approved_only = approve(with_checklist("replica lag under 10 s?", "backup fresh?"))
    assert not header(approved_only).startswith("✅")
    assert header(approved_only).startswith("⏳ Change request · approved, checklist incomplete")
    ticked = rules.tick(approved_only, REQUESTER, {0: True}, eligible=False, now=NOW).approval
    assert ticked is not None
    assert "1 of 2 ticked" in header(ticked)
    done = rules.tick(ticked, APPROVER, {1: True}, eligible=True, now=NOW).approval
    assert done is not None
    assert header(done) == "✅ Change request · approved"


def test_the_checklist_says_which_named_checklist_it_is_and_why() -> None:
    matched = with_checklist(
        "replica lag under 10 s?",
        checklist_sources=[ChecklistSource(name="database", matched="postgres")],
    )
    assert "*Checklist `database`* (“postgres” is in the description)" in text_of(matched)
    chosen = with_checklist("x", checklist_sources=[ChecklistSource(name="database")])
    assert "*Checklist `database`* (chosen by the requester)" in text_of(chosen)
    both = with_checklist(
        "x",
        checklist_sources=[
            ChecklistSource(name="database", matched="db"),
            ChecklistSource(name="network", matched="haproxy"),
        ],
    )
    assert "*Checklists `database`, `network`* (“db”, “haproxy” are in the description)" in (
        text_of(both)
    )
    assert validate_blocks(blocks_of(both)) == []


def test_a_request_stored_before_checklists_had_names_loads_and_renders() -> None:
    stored = card_of(with_checklist("subscribers moved?")).model_dump(mode="json")
    del stored["subject"]["checklist_sources"]  # as the previous release stored it
    card = TriageCard.model_validate(stored)
    blocks = [b.to_dict() for b in render(card, NOW).blocks]
    assert "*Checklist* — 0 of 1 ticked" in json.dumps(blocks, ensure_ascii=False)
    assert validate_blocks(blocks) == []

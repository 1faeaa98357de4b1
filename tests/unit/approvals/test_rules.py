"""The four-eyes rules as pure functions: who counts, when, and what each step changes."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.approvals import rules
from bot.core.config import Approvers, Checklist
from bot.models.approval import Approval, ChecklistSource, is_complete, who_can_approve
from tests.fixtures.approvals import (
    APPROVER,
    OUTSIDER,
    REQUESTER,
    T0,
    change_request,
    step_request,
    with_checklist,
)

LATER = T0 + timedelta(minutes=5)
AFTER_EXPIRY = T0 + timedelta(minutes=30)


def approved(a: Approval, user: str = APPROVER) -> Approval:
    outcome = rules.approve(a, user, eligible=True, via="reaction", now=LATER)
    assert outcome.approval is not None
    return outcome.approval


def test_the_requesters_own_approval_is_refused_with_who_can_approve() -> None:
    outcome = rules.approve(change_request(), REQUESTER, eligible=True, via="reaction", now=LATER)
    assert outcome.approval is None
    assert "your own approval does not count" in outcome.message
    assert f"<@{APPROVER}>" in outcome.message
    assert "<!subteam^S0SRE>" in outcome.message


def test_the_requester_is_not_named_as_someone_who_can_approve() -> None:
    a = change_request(approver_users=[REQUESTER, APPROVER])
    assert f"<@{REQUESTER}>" not in who_can_approve(a)


def test_a_non_approvers_approval_is_refused_naming_the_approvers() -> None:
    outcome = rules.approve(change_request(), OUTSIDER, eligible=False, via="button", now=LATER)
    assert outcome.approval is None
    assert "not in the approver group" in outcome.message
    assert f"<@{APPROVER}>" in outcome.message


def test_an_approver_approves_and_the_time_and_way_are_recorded() -> None:
    outcome = rules.approve(change_request(), APPROVER, eligible=True, via="button", now=LATER)
    assert outcome.approval is not None
    assert (outcome.approval.state, outcome.approval.approved_by) == ("approved", APPROVER)
    assert (outcome.approval.approved_at, outcome.approval.approved_via) == (LATER, "button")
    assert outcome.event == "approved"
    assert outcome.reply is not None
    assert f"<@{APPROVER}>" in outcome.reply


def test_approving_twice_changes_nothing() -> None:
    once = approved(change_request())
    again = rules.approve(once, APPROVER, eligible=True, via="button", now=LATER)
    assert again.approval is None
    assert "already approved" in again.message


def test_a_second_approver_does_not_replace_the_first() -> None:
    once = approved(change_request())
    other = rules.approve(once, "U0CAROL", eligible=True, via="reaction", now=LATER)
    assert other.approval is None
    assert f"<@{APPROVER}>" in other.message


def test_an_incomplete_checklist_keeps_the_approval_from_counting() -> None:
    a = approved(with_checklist("subscribers moved?", "old topic drained?"))
    assert a.state == "approved"
    assert not is_complete(a)
    assert rules.decision_state(a, LATER) == "pending"
    ticked = rules.tick(a, REQUESTER, {0: True, 1: True}, eligible=False, now=LATER)
    assert ticked.approval is not None
    assert is_complete(ticked.approval)
    assert rules.decision_state(ticked.approval, LATER) == "approved"


def test_an_incomplete_checklist_blocks_marking_as_done() -> None:
    a = approved(with_checklist("subscribers moved?"))
    outcome = rules.execute(a, REQUESTER, LATER)
    assert outcome.approval is None
    assert "checklist" in outcome.message


def test_only_the_requester_and_approvers_may_tick() -> None:
    a = with_checklist("subscribers moved?")
    refused = rules.tick(a, OUTSIDER, {0: True}, eligible=False, now=LATER)
    assert refused.approval is None
    assert "Only the requester and the approvers" in refused.message
    by_approver = rules.tick(a, APPROVER, {0: True}, eligible=True, now=LATER)
    assert by_approver.approval is not None
    assert by_approver.approval.checklist[0].ticked_by == APPROVER


def test_a_repeated_tick_changes_nothing() -> None:
    a = with_checklist("subscribers moved?")
    first = rules.tick(a, REQUESTER, {0: True}, eligible=False, now=LATER)
    assert first.approval is not None
    repeat = rules.tick(first.approval, REQUESTER, {0: True}, eligible=False, now=LATER)
    assert repeat.approval is None


def test_removing_the_reaction_withdraws_and_reopens_the_request() -> None:
    a = approved(change_request())
    outcome = rules.withdraw(a, APPROVER, LATER)
    assert outcome.approval is not None
    assert outcome.approval.state == "pending"
    assert outcome.approval.approved_by is None
    assert [w.user_id for w in outcome.approval.withdrawals] == [APPROVER]
    assert rules.decision_state(outcome.approval, LATER) == "pending"
    again = rules.approve(outcome.approval, "U0CAROL", eligible=True, via="button", now=LATER)
    assert again.approval is not None
    assert again.approval.approved_by == "U0CAROL"


def test_someone_elses_reaction_removal_withdraws_nothing() -> None:
    a = approved(change_request())
    assert rules.withdraw(a, OUTSIDER, LATER).approval is None
    assert rules.withdraw(a, REQUESTER, LATER).approval is None


def test_after_execution_removing_the_reaction_changes_nothing() -> None:
    done = rules.execute(approved(step_request()), None, LATER).approval
    assert done is not None
    assert done.state == "executed"
    assert rules.withdraw(done, APPROVER, LATER).approval is None
    assert rules.decision_state(done, LATER) == "approved"


def test_only_the_requester_marks_a_standalone_change_as_done() -> None:
    a = approved(change_request())
    refused = rules.execute(a, APPROVER, LATER)
    assert refused.approval is None
    assert "Only the requester" in refused.message
    done = rules.execute(a, REQUESTER, LATER)
    assert done.approval is not None
    assert done.approval.executed_by == REQUESTER


def test_a_pending_request_cannot_be_marked_as_done() -> None:
    outcome = rules.execute(change_request(), REQUESTER, LATER)
    assert outcome.approval is None
    assert "not approved yet" in outcome.message


def test_expiry_flips_pending_and_approved_but_not_executed() -> None:
    for a in (change_request(), approved(change_request())):
        outcome = rules.expire(a, AFTER_EXPIRY)
        assert outcome.approval is not None
        assert outcome.approval.state == "expired"
        assert outcome.event == "expired"
    done = rules.execute(approved(change_request()), REQUESTER, LATER).approval
    assert done is not None
    assert rules.expire(done, AFTER_EXPIRY).approval is None


def test_expiry_before_its_time_changes_nothing() -> None:
    assert rules.expire(change_request(), LATER).approval is None


def test_an_approval_after_expiry_is_refused_and_expires_the_request() -> None:
    outcome = rules.approve(
        change_request(), APPROVER, eligible=True, via="reaction", now=AFTER_EXPIRY
    )
    assert outcome.approval is not None
    assert outcome.approval.state == "expired"
    assert outcome.approval.approved_by is None
    assert "expired" in outcome.message


def test_the_engine_sees_expiry_even_before_the_job_ran() -> None:
    assert rules.decision_state(approved(change_request()), AFTER_EXPIRY) == "expired"


def test_only_the_requester_cancels_and_a_cancelled_request_refuses_approvals() -> None:
    a = change_request()
    assert rules.cancel(a, APPROVER, LATER, "x").approval is None
    cancelled = rules.cancel(a, REQUESTER, LATER, "cancelled by the requester").approval
    assert cancelled is not None
    assert cancelled.state == "cancelled"
    refused = rules.approve(cancelled, APPROVER, eligible=True, via="button", now=LATER)
    assert refused.approval is None
    assert "cancelled" in refused.message
    assert rules.decision_state(cancelled, LATER) == "cancelled"


def test_reaction_names_match_whatever_the_spelling_or_skin_tone() -> None:
    assert rules.is_approve_reaction("white_check_mark", "white_check_mark")
    assert rules.is_approve_reaction("+1", "thumbsup")
    assert rules.is_approve_reaction("+1::skin-tone-4", "+1")
    assert not rules.is_approve_reaction("eyes", "white_check_mark")
    assert not rules.is_approve_reaction("", "white_check_mark")


users = st.sampled_from([REQUESTER, APPROVER, OUTSIDER, "U0CAROL"])
Action = tuple[str, str, bool]
actions = st.lists(
    st.tuples(st.sampled_from(["approve", "withdraw", "tick", "untick"]), users, st.booleans()),
    max_size=25,
)


@given(actions)
def test_no_sequence_of_actions_lets_the_requester_or_a_non_approver_approve(
    steps: list[Action],
) -> None:
    a = with_checklist("one", "two")
    for kind, user, eligible_flag in steps:
        eligible = eligible_flag and user != OUTSIDER
        if kind == "approve":
            outcome = rules.approve(a, user, eligible=eligible, via="reaction", now=LATER)
        elif kind == "withdraw":
            outcome = rules.withdraw(a, user, LATER)
        else:
            change = {0 if user < "U0C" else 1: kind == "tick"}
            outcome = rules.tick(a, user, change, eligible=eligible, now=LATER)
        a = outcome.approval or a
        if a.approved_by is not None:
            assert a.approved_by not in (REQUESTER, OUTSIDER)
        assert is_complete(a) == (a.state == "approved" and all(i.ticked_by for i in a.checklist))
        assert rules.decision_state(a, LATER) in ("pending", "approved")


# --- which checklist, and when it counts ---------------------------------------------------
APPROVERS = Approvers(
    users=[APPROVER],
    change_checklist=["Announced in #changes?"],
    checklists={
        "database": Checklist(
            match=["postgres", "db", "replica"], items=["Replica lag under 10 s?", "Backup?"]
        ),
        "network": Checklist(match=["haproxy", "load balancer"], items=["Backup?", "Drained?"]),
        "dns": Checklist(items=["TTL lowered?"]),
    },
)


def test_a_change_gets_the_checklist_whose_word_is_in_its_description() -> None:
    choice = rules.choose_checklist(APPROVERS, "Restart the postgres replica on db-2")
    assert choice.items == ("Replica lag under 10 s?", "Backup?")
    assert choice.sources == (ChecklistSource(name="database", matched="postgres"),)


def test_restarting_pgbouncer_does_not_get_the_database_checklist() -> None:
    choice = rules.choose_checklist(APPROVERS, "Restart pgbouncer")
    assert choice == rules.ChecklistChoice(items=("Announced in #changes?",))


def test_words_match_whole_words_in_any_case() -> None:
    assert rules.mentions_word("Failover DB-2 now", "db")
    assert rules.mentions_word("vacuum orders_db", "db")
    assert rules.mentions_word("drain the Load\n Balancer", "load balancer")
    assert not rules.mentions_word("grant dbadmin", "db")
    assert not rules.mentions_word("restart pgbouncer", "db")


def test_several_matching_checklists_are_combined_in_config_order_without_repeats() -> None:
    choice = rules.choose_checklist(APPROVERS, "move the db behind haproxy")
    assert choice.items == ("Replica lag under 10 s?", "Backup?", "Drained?")
    assert [s.name for s in choice.sources] == ["database", "network"]


def test_a_checklist_chosen_by_name_replaces_what_the_words_would_pick() -> None:
    choice = rules.choose_checklist(APPROVERS, "lower the db record's TTL", chosen="dns")
    assert choice.items == ("TTL lowered?",)
    assert choice.sources == (ChecklistSource(name="dns"),)


def test_an_unknown_checklist_name_is_refused_with_the_known_names() -> None:
    refusal = rules.unknown_checklist(APPROVERS, "databse")
    assert refusal is not None
    assert "no checklist called `databse`; nothing was created" in refusal
    assert "`database`, `network`, `dns`" in refusal
    assert rules.unknown_checklist(APPROVERS, "database") is None


def test_an_approval_that_counts_at_once_says_so_in_the_thread() -> None:
    outcome = rules.approve(change_request(), APPROVER, eligible=True, via="button", now=LATER)
    assert outcome.reply == (
        f"✅ <@{APPROVER}> approved this (button). It counts now: <@{REQUESTER}> can carry it "
        "out, then press *Mark as done*."
    )


def test_an_approval_waiting_for_its_checklist_says_it_does_not_count_yet() -> None:
    outcome = rules.approve(
        with_checklist("a", "b"), APPROVER, eligible=True, via="button", now=LATER
    )
    assert outcome.reply is not None
    assert outcome.reply.startswith("⏳")
    assert "counts once every checklist item is ticked (0 of 2 so far)" in outcome.reply


def test_the_tick_that_makes_the_approval_count_says_so_in_the_thread() -> None:
    a = approved(with_checklist("a", "b"))
    first = rules.tick(a, REQUESTER, {0: True}, eligible=False, now=LATER)
    assert first.approval is not None
    assert first.reply is None
    last = rules.tick(first.approval, APPROVER, {1: True}, eligible=True, now=LATER)
    assert last.reply is not None
    assert last.reply.startswith(f"✅ Every checklist item is ticked and <@{APPROVER}> approved.")
    assert "It counts now" in last.reply


def test_unticking_after_it_counted_says_it_no_longer_counts() -> None:
    a = approved(with_checklist("a"))
    done = rules.tick(a, REQUESTER, {0: True}, eligible=False, now=LATER).approval
    assert done is not None
    undone = rules.tick(done, REQUESTER, {0: False}, eligible=False, now=LATER)
    assert undone.reply is not None
    assert "no longer counts as approved" in undone.reply

"""Who may confirm or cancel a step-back prompt, and when."""

from __future__ import annotations

from datetime import timedelta

from bot.step_back.rules import cancel_refusal, confirm_refusal
from tests.fixtures.step_prompts import NOW, prompt

OPEN = {"state": "available", "confirm_available_at": NOW}


def test_the_operator_may_confirm_once_the_pause_is_over() -> None:
    assert confirm_refusal(prompt(**OPEN), "U0ALICE", NOW, None) is None


def test_someone_else_may_not_confirm() -> None:
    refusal = confirm_refusal(prompt(**OPEN), "U0BOB", NOW, None)
    assert refusal == "Only <@U0ALICE> can confirm this step; nothing was done."


def test_a_confirm_before_the_pause_is_over_is_refused_calmly() -> None:
    early = prompt(state="waiting", confirm_available_at=NOW + timedelta(seconds=3))
    refusal = confirm_refusal(early, "U0ALICE", NOW, None)
    assert refusal is not None
    assert refusal.startswith("Not yet: take a moment")


def test_a_confirm_while_still_waiting_is_refused_even_after_the_time() -> None:
    # The card only gains Confirm when the timer job flips the state; a forged click is early.
    refusal = confirm_refusal(
        prompt(state="waiting", confirm_available_at=NOW), "U0ALICE", NOW, None
    )
    assert refusal is not None
    assert refusal.startswith("Not yet")


def test_a_high_risk_step_needs_the_exact_name() -> None:
    risky = prompt(high_risk=True, **OPEN)
    assert confirm_refusal(risky, "U0ALICE", NOW, None) is not None  # the plain button
    assert confirm_refusal(risky, "U0ALICE", NOW, "web-3") == "Type web-3.prod exactly to confirm"
    assert confirm_refusal(risky, "U0ALICE", NOW, "WEB-3.PROD") is not None
    assert confirm_refusal(risky, "U0ALICE", NOW, " web-3.prod\n") is None
    assert confirm_refusal(risky, "U0ALICE", NOW, "web-3.prod") is None


def test_a_high_risk_step_without_a_target_asks_for_the_playbook_name() -> None:
    risky = prompt(high_risk=True, target=None, **OPEN)
    assert confirm_refusal(risky, "U0ALICE", NOW, "quarantine-host") is None


def test_a_second_confirm_is_told_it_is_already_confirmed() -> None:
    done = prompt(state="confirmed", decided_by="U0ALICE", decided_at=NOW)
    refusal = confirm_refusal(done, "U0ALICE", NOW, None)
    assert refusal is not None
    assert refusal.startswith("Already confirmed by <@U0ALICE>")


def test_the_operator_may_cancel_while_waiting() -> None:
    assert cancel_refusal(prompt(state="waiting"), "U0ALICE") is None


def test_someone_else_may_not_cancel() -> None:
    assert cancel_refusal(prompt(state="waiting"), "U0BOB") == (
        "Only <@U0ALICE> can cancel this step; nothing was changed."
    )


def test_a_confirmed_step_can_no_longer_be_cancelled_here() -> None:
    done = prompt(state="confirmed", decided_by="U0ALICE", decided_at=NOW)
    refusal = cancel_refusal(done, "U0ALICE")
    assert refusal is not None
    assert "cannot be cancelled here" in refusal


def test_a_confirm_after_the_prompt_expired_is_refused_and_says_what_to_do_next() -> None:
    expired_at = NOW + timedelta(minutes=15)
    waiting = prompt(expires_at=expired_at, **OPEN)
    refusal = confirm_refusal(waiting, "U0ALICE", expired_at + timedelta(seconds=1), None)
    assert refusal is not None
    assert "expired" in refusal
    assert "Ask again" in refusal
    assert confirm_refusal(waiting, "U0ALICE", expired_at - timedelta(seconds=1), None) is None


def test_an_ended_prompt_says_why_when_confirmed_anyway() -> None:
    ended = prompt(state="expired", ended_reason="its approval was withdrawn")
    refusal = confirm_refusal(ended, "U0ALICE", NOW, None)
    assert refusal is not None
    assert "its approval was withdrawn" in refusal

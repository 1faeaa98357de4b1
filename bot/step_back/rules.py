"""Who may decide a step-back prompt, and when; else the sentence saying why not.

Pure rules on a StepPrompt: bot/step_back/flow.py applies them inside the card's compare-and-set.
"""

from __future__ import annotations

from datetime import datetime

from bot.cards.common import slack_time
from bot.models.prompt import StepPrompt


def confirm_refusal(
    prompt: StepPrompt, user_id: str, now: datetime, typed: str | None
) -> str | None:
    """Why `user_id` may not confirm now (a sentence), or None when they may."""
    if user_id != prompt.operator:
        return f"Only <@{prompt.operator}> can confirm this step; nothing was done."
    decided = _decided_refusal(prompt)
    if decided:
        return decided
    if is_past_expiry(prompt, now):
        return (
            f"This prompt expired at {slack_time(prompt.expires_at or now)}; the step did not "
            "run and nothing was done. Press *Ask again* on the run card for a new prompt, or "
            "*Abort run*."
        )
    if prompt.state != "available" or now < prompt.confirm_available_at:
        return (
            "Not yet: take a moment to read what this step will do. Confirm becomes available "
            f"at {slack_time(prompt.confirm_available_at)}; nothing was done."
        )
    if prompt.high_risk and typed is None:
        return (
            "This step needs its target's name typed: press Confirm on the card; nothing was done."
        )
    return typed_mismatch(prompt, typed)


def typed_mismatch(prompt: StepPrompt, typed: str | None) -> str | None:
    """For a high-risk step: the modal's error when the typed name is not the target's.
    Surrounding spaces are forgiven (pasting adds them); case and everything else are not."""
    if not prompt.high_risk or (typed or "").strip() == prompt.typed_name:
        return None
    return f"Type {prompt.typed_name} exactly to confirm"


def cancel_refusal(prompt: StepPrompt, user_id: str) -> str | None:
    if user_id != prompt.operator:
        return f"Only <@{prompt.operator}> can cancel this step; nothing was changed."
    if prompt.state == "confirmed":
        return (
            f"Already confirmed by <@{prompt.decided_by}> at {_when(prompt)}; the step is under "
            "way and cannot be cancelled here."
        )
    return _decided_refusal(prompt)


def _decided_refusal(prompt: StepPrompt) -> str | None:
    if prompt.state == "confirmed":
        return (
            f"Already confirmed by <@{prompt.decided_by}> at {_when(prompt)}; nothing more to do."
        )
    if prompt.state == "cancelled":
        return (
            f"Already cancelled by <@{prompt.decided_by}> at {_when(prompt)}; this step will not "
            "run. Start the playbook again if it is still needed."
        )
    if prompt.state == "expired":
        why = f" ({prompt.ended_reason})" if prompt.ended_reason else ""
        return (
            f"This prompt has ended{why}; the step did not run and nothing was changed. The "
            "run card offers to ask again."
        )
    return None


def is_past_expiry(prompt: StepPrompt, now: datetime) -> bool:
    """An undecided prompt whose time is up: Confirm no longer counts."""
    return not prompt.decided and prompt.expires_at is not None and now >= prompt.expires_at


def expire(prompt: StepPrompt, now: datetime, reason: str) -> StepPrompt | None:
    """The prompt ended without a decision (`reason` completes "This prompt ended (...)");
    None when it was already decided (a confirm or cancel that won the race stands)."""
    if prompt.decided:
        return None
    ended = prompt.model_copy()
    ended.state, ended.decided_at, ended.ended_reason = "expired", now, reason
    return ended


def _when(prompt: StepPrompt) -> str:
    return slack_time(prompt.decided_at) if prompt.decided_at else "an earlier moment"

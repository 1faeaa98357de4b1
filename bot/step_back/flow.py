"""The step-back prompt before a destructive step: open it in the operator's DM, offer Confirm
only after a breathing pause, and record who confirmed or cancelled, once.

The engine calls `open_prompt` and later reads `prompt_decision`; a decision enqueues
`advance_run` so the engine continues (or aborts the run when cancelled). Every state change
is a compare-and-set inside `Store.mutate_card`, so double clicks and retries decide once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Literal, NamedTuple

from slack_sdk.errors import SlackApiError

from bot.core.times import operator_local_time
from bot.deps import Deps
from bot.models.card import TriageCard
from bot.models.prompt import StepPrompt, prompt_card_id
from bot.models.run import PlaybookRun
from bot.step_back.rules import cancel_refusal, confirm_refusal, typed_mismatch
from bot.store import CardMutation

log = logging.getLogger("seawall.step_back")

CARD_GONE = "This prompt is no longer in Seawall's store; nothing was changed."
NOT_A_PROMPT = "That button does not belong to a step-back prompt; nothing was done."


class PromptDecision(NamedTuple):
    state: Literal["confirmed", "cancelled", "pending"]
    user_id: str | None
    at: datetime | None


class Outcome(NamedTuple):
    """What a click did: `ok` when it changed the prompt, the sentence for the clicker, and
    `retype` when only the typed name was wrong (the modal stays open to try again)."""

    ok: bool
    text: str
    retype: bool = False


async def open_prompt(deps: Deps, run: PlaybookRun, step_index: int) -> None:
    """Post the prompt for `run.steps[step_index]` in the operator's DM, once."""
    card_id = prompt_card_id(run.run_id, step_index)
    existing = await deps.store.get_card(card_id)
    if existing is not None:
        # A retry after a crash between the write and the enqueue must still get its timer.
        await _schedule_enable(deps, existing)
        return
    card = await _new_prompt_card(deps, run, step_index)

    def create(current: TriageCard | None) -> CardMutation | None:
        return None if current is not None else CardMutation(card=card)

    result = await deps.store.mutate_card(card_id, create)
    if result.card is None:
        return
    if result.changed:
        prompt = card.subject
        assert isinstance(prompt, StepPrompt)
        await deps.timeline.append(
            run.incident_id,
            "prompt",
            f"Step-back prompt shown to {prompt.operator} before step {step_index + 1} "
            f"of {run.playbook}: {_what(prompt)}",
            actor="seawall",
            ref=card_id,
        )
    await _schedule_enable(deps, result.card)


async def _new_prompt_card(deps: Deps, run: PlaybookRun, step_index: int) -> TriageCard:
    step = run.steps[step_index]
    operator = run.requested_by
    now = deps.clock.now()
    window = deps.config.step_back
    local_time, late = operator_local_time(
        now,
        await _user_tz(deps, operator),
        window.late_night_from_hour,
        window.late_night_until_hour,
    )
    delay = window.confirm_delay_seconds
    prompt = StepPrompt(
        run_id=run.run_id,
        step_index=step_index,
        operator=operator,
        playbook=run.playbook,
        step_description=step.description,
        target=step.target,
        blast_radius=step.blast_radius,
        rollback=step.rollback,
        high_risk=step.high_risk,
        operator_local_time=local_time,
        late_night=late,
        confirm_available_at=now + timedelta(seconds=delay),
        state="waiting" if delay > 0 else "available",
        step_name=step.name,
        step_count=len(run.steps),
        params={str(k): _param_text(v) for k, v in run.params.items()},
        incident_id=run.incident_id,
    )
    return TriageCard(
        card_id=prompt_card_id(run.run_id, step_index),
        channel=await _dm_channel(deps, operator, fallback=run.channel),
        subject=prompt,
        created_at=now,
        updated_at=now,
    )


def _param_text(value: Any) -> str:
    return ", ".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)


async def _dm_channel(deps: Deps, user_id: str, fallback: str) -> str:
    """The bot's DM with the operator; the run's channel if Slack will not open one, so the
    run never waits for a prompt nobody can see (only the operator can still decide)."""
    try:
        response = await deps.slack.conversations_open(users=user_id)
        return str(response["channel"]["id"])
    except (SlackApiError, KeyError, TypeError) as exc:
        log.warning("cannot open a DM with %s (%s); prompting in %s", user_id, exc, fallback)
        return fallback


async def _user_tz(deps: Deps, user_id: str) -> str | None:
    """The operator's timezone from users.info; None (shown as unknown) on any failure."""
    try:
        response = await deps.slack.users_info(user=user_id)
        tz = response["user"].get("tz")
        return str(tz) if tz else None
    except Exception as exc:  # local time is a courtesy; it must never block the prompt
        log.warning("users.info for %s failed: %s", user_id, exc)
        return None


async def _schedule_enable(deps: Deps, card: TriageCard) -> None:
    prompt = card.subject
    if not isinstance(prompt, StepPrompt) or prompt.state != "waiting":
        return
    remaining = (prompt.confirm_available_at - deps.clock.now()).total_seconds()
    await deps.jobs.enqueue(
        "enable_confirm",
        key=card.card_id,
        delay_s=max(remaining, 0.0),
        run_id=prompt.run_id,
        step_index=prompt.step_index,
    )


async def enable_confirm(deps: Deps, *, run_id: str, step_index: int) -> None:
    """Job: the pause is over, show the Confirm button (waiting -> available)."""
    card_id = prompt_card_id(run_id, step_index)
    card = await deps.store.get_card(card_id)
    if card is None or not isinstance(card.subject, StepPrompt):
        return
    # The queue schedules to the whole second and clocks of workers differ a little.
    remaining = (card.subject.confirm_available_at - deps.clock.now()).total_seconds()
    if remaining > 0:
        await deps.clock.sleep(remaining)
    now = deps.clock.now()

    def flip(current: TriageCard | None) -> CardMutation | None:
        if current is None or not isinstance(current.subject, StepPrompt):
            return None
        prompt = current.subject
        if prompt.state != "waiting" or now < prompt.confirm_available_at:
            return None
        prompt.state = "available"
        return CardMutation(card=current)

    await deps.store.mutate_card(card_id, flip)


async def prompt_decision(deps: Deps, run_id: str, step_index: int) -> PromptDecision:
    """What the operator decided about the step, as the engine needs it."""
    card = await deps.store.get_card(prompt_card_id(run_id, step_index))
    if card is None or not isinstance(card.subject, StepPrompt):
        return PromptDecision("pending", None, None)
    prompt = card.subject
    if prompt.state == "confirmed":
        return PromptDecision("confirmed", prompt.decided_by, prompt.decided_at)
    if prompt.state in ("cancelled", "expired"):
        return PromptDecision("cancelled", prompt.decided_by, prompt.decided_at)
    return PromptDecision("pending", None, None)


def _what(prompt: StepPrompt) -> str:
    return prompt.step_description + (f" (target: {prompt.target})" if prompt.target else "")


async def confirm(deps: Deps, card_id: str, user_id: str, typed: str | None = None) -> Outcome:
    """Confirm the step as `user_id`; `typed` is what a high-risk modal received."""
    outcome = await _decide(deps, card_id, user_id, "confirmed", typed)
    if outcome.ok:
        outcome = Outcome(True, "Confirmed. The run continues with this step.")
    return outcome


async def cancel(deps: Deps, card_id: str, user_id: str) -> Outcome:
    outcome = await _decide(deps, card_id, user_id, "cancelled", None)
    if outcome.ok:
        outcome = Outcome(True, "Cancelled. This step will not run and the run stops here.")
    return outcome


async def _decide(
    deps: Deps,
    card_id: str,
    user_id: str,
    decision: Literal["confirmed", "cancelled"],
    typed: str | None,
) -> Outcome:
    now = deps.clock.now()
    refusal: str | None = None
    retype = False
    decided: StepPrompt | None = None

    def mutate(card: TriageCard | None) -> CardMutation | None:
        nonlocal refusal, retype, decided
        if card is None or not isinstance(card.subject, StepPrompt):
            refusal = CARD_GONE if card is None else NOT_A_PROMPT
            return None
        prompt = card.subject
        if decision == "confirmed":
            refusal = confirm_refusal(prompt, user_id, now, typed)
            retype = refusal is not None and refusal == typed_mismatch(prompt, typed)
        else:
            refusal = cancel_refusal(prompt, user_id)
        if refusal:
            return None
        prompt.state, prompt.decided_by, prompt.decided_at = decision, user_id, now
        decided = prompt
        return CardMutation(card=card)

    await deps.store.mutate_card(card_id, mutate)
    if decided is None:
        return Outcome(False, refusal or CARD_GONE, retype)
    await deps.timeline.append(
        decided.incident_id,
        "prompt",
        f"Step {decided.step_index + 1} of {decided.playbook} {decision} by {user_id}: "
        f"{_what(decided)}",
        actor=user_id,
        ref=card_id,
    )
    # After the write: an advance that ran before it would find the prompt still pending.
    await deps.jobs.enqueue("advance_run", run_id=decided.run_id)
    return Outcome(True, "")


async def typed_confirm_check(deps: Deps, card_id: str, user_id: str) -> StepPrompt | str:
    """Before opening the type-the-name modal: the prompt if `user_id` may confirm it now,
    else the sentence saying why not (so nobody types into a modal that cannot succeed)."""
    card = await deps.store.get_card(card_id)
    if card is None or not isinstance(card.subject, StepPrompt):
        return CARD_GONE if card is None else NOT_A_PROMPT
    prompt = card.subject
    refusal = confirm_refusal(prompt, user_id, deps.clock.now(), prompt.typed_name)
    return refusal or prompt


JOBS = {"enable_confirm": enable_confirm}

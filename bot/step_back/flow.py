"""The step-back prompt before a destructive step: open it in the operator's DM, offer Confirm
only after a breathing pause, and record who confirmed or cancelled, once.

The engine calls `open_prompt` and later reads `prompt_decision`; a decision enqueues
`advance_run` so the engine continues (or aborts the run when cancelled). A prompt nobody
confirmed ends at its expiry (config `step_back.expire_minutes`), and the engine ends one whose
step lost its approval: a Confirm after that is refused, and the run waits for "Ask again"
(a new prompt, the next `attempt`) or Abort. Every state change is a compare-and-set inside
`Store.mutate_card`, so double clicks and retries decide once.
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
from bot.step_back.rules import (
    cancel_refusal,
    confirm_refusal,
    expire,
    is_past_expiry,
    typed_mismatch,
)
from bot.store import CardMutation

log = logging.getLogger("seawall.step_back")

CARD_GONE = "This prompt is no longer in Seawall's store; nothing was changed."
NOT_A_PROMPT = "That button does not belong to a step-back prompt; nothing was done."


EXPIRED_UNCONFIRMED = "nobody confirmed it in time"


class PromptDecision(NamedTuple):
    state: Literal["confirmed", "cancelled", "expired", "pending"]
    user_id: str | None
    at: datetime | None
    reason: str | None = None  # why an expired prompt ended


class Outcome(NamedTuple):
    """What a click did: `ok` when it changed the prompt, the sentence for the clicker, and
    `retype` when only the typed name was wrong (the modal stays open to try again)."""

    ok: bool
    text: str
    retype: bool = False


def _card_id(run: PlaybookRun, step_index: int) -> str:
    return prompt_card_id(run.run_id, step_index, run.steps[step_index].prompt_attempt)


async def open_prompt(deps: Deps, run: PlaybookRun, step_index: int) -> None:
    """Post the prompt for `run.steps[step_index]` in the operator's DM, once per attempt."""
    card_id = _card_id(run, step_index)
    existing = await deps.store.get_card(card_id)
    if existing is not None:
        # A retry after a crash between the write and the enqueue must still get its timers.
        await _schedule_timers(deps, existing)
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
    await _schedule_timers(deps, result.card)


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
        expires_at=now + timedelta(minutes=window.expire_minutes),
        attempt=step.prompt_attempt,
    )
    return TriageCard(
        card_id=_card_id(run, step_index),
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


async def _schedule_timers(deps: Deps, card: TriageCard) -> None:
    """Confirm appears after the pause; an unconfirmed prompt ends at its expiry. Job keys
    make repeats (a retried open) no-ops."""
    prompt = card.subject
    if not isinstance(prompt, StepPrompt) or prompt.decided:
        return
    where: dict[str, Any] = {
        "run_id": prompt.run_id,
        "step_index": prompt.step_index,
        "attempt": prompt.attempt,
    }
    now = deps.clock.now()
    if prompt.state == "waiting":
        remaining = (prompt.confirm_available_at - now).total_seconds()
        await deps.jobs.enqueue(
            "enable_confirm", key=card.card_id, delay_s=max(remaining, 0.0), **where
        )
    if prompt.expires_at is not None:
        remaining = (prompt.expires_at - now).total_seconds()
        await deps.jobs.enqueue(
            "expire_prompt", key=card.card_id, delay_s=max(remaining, 0.0), **where
        )


async def enable_confirm(deps: Deps, *, run_id: str, step_index: int, attempt: int = 0) -> None:
    """Job: the pause is over, show the Confirm button (waiting -> available)."""
    card_id = prompt_card_id(run_id, step_index, attempt)
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


async def expire_prompt(deps: Deps, *, run_id: str, step_index: int, attempt: int = 0) -> None:
    """Job: nobody confirmed in time; the prompt ends and the run is told (it then waits for
    Ask again or Abort). Harmless to run twice, or early (it comes back)."""
    card_id = prompt_card_id(run_id, step_index, attempt)
    card = await deps.store.get_card(card_id)
    prompt = card.subject if card is not None else None
    if not isinstance(prompt, StepPrompt) or prompt.decided or prompt.expires_at is None:
        return
    now = deps.clock.now()
    if now < prompt.expires_at:  # clock skew between processes: come back at the right time
        delay = (prompt.expires_at - now).total_seconds()
        await deps.jobs.enqueue(
            "expire_prompt", delay_s=delay, run_id=run_id, step_index=step_index, attempt=attempt
        )
        return
    if await _end(deps, card_id, EXPIRED_UNCONFIRMED, now):
        await deps.jobs.enqueue("advance_run", run_id=run_id)


async def end_prompt(deps: Deps, run: PlaybookRun, step_index: int, reason: str) -> bool:
    """The engine takes back the step's current prompt (e.g. its approval was withdrawn):
    an open one ends, Confirm disappears and the card says why; a confirmed one gets a note
    that the step did not run after all. True when there was such a prompt: its answer no
    longer counts, and the step needs a new prompt (the next attempt)."""
    card_id = _card_id(run, step_index)
    now = deps.clock.now()
    if await _end(deps, card_id, reason, now):
        return True
    noted = False

    def note(current: TriageCard | None) -> CardMutation | None:
        nonlocal noted
        if current is None or not isinstance(current.subject, StepPrompt):
            return None
        if current.subject.state != "confirmed":
            return None
        noted = True
        text = f"The step did not run after all: {reason}."
        if any(n.text == text for n in current.notes):
            return None
        current.add_note(text, now)
        return CardMutation(card=current)

    await deps.store.mutate_card(card_id, note)
    return noted


async def _end(deps: Deps, card_id: str, reason: str, now: datetime) -> bool:
    ended: StepPrompt | None = None

    def mutate(current: TriageCard | None) -> CardMutation | None:
        nonlocal ended
        if current is None or not isinstance(current.subject, StepPrompt):
            return None
        ended = expire(current.subject, now, reason)
        if ended is None:
            return None
        current.subject = ended
        return CardMutation(card=current)

    result = await deps.store.mutate_card(card_id, mutate)
    if result.changed and ended is not None:
        await deps.timeline.append(
            ended.incident_id,
            "prompt",
            f"Step-back prompt for step {ended.step_index + 1} of {ended.playbook} ended "
            f"({reason}): {_what(ended)}",
            actor="seawall",
            ref=card_id,
        )
    return result.changed


async def prompt_decision(deps: Deps, run: PlaybookRun, step_index: int) -> PromptDecision:
    """What the operator decided about the step's current prompt, as the engine needs it.
    A prompt past its expiry reads (and is stored) as expired, even if its job is late."""
    card_id = _card_id(run, step_index)
    card = await deps.store.get_card(card_id)
    if card is None or not isinstance(card.subject, StepPrompt):
        return PromptDecision("pending", None, None)
    prompt = card.subject
    now = deps.clock.now()
    if is_past_expiry(prompt, now):
        await _end(deps, card_id, EXPIRED_UNCONFIRMED, now)
        return PromptDecision("expired", None, prompt.expires_at, EXPIRED_UNCONFIRMED)
    if prompt.state == "confirmed":
        return PromptDecision("confirmed", prompt.decided_by, prompt.decided_at)
    if prompt.state == "cancelled":
        return PromptDecision("cancelled", prompt.decided_by, prompt.decided_at)
    if prompt.state == "expired":
        return PromptDecision("expired", None, prompt.decided_at, prompt.ended_reason)
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


JOBS = {"enable_confirm": enable_confirm, "expire_prompt": expire_prompt}

"""The gates in front of a step, and the moment they bind.

Four-eyes approval first (someone else agrees with the plan), then the step-back prompt (the
operator, right before it happens). Neither is spent when it is granted: the approval is
consumed, atomically, only when the step starts (`consume`), so an approval withdrawn or
expired while the prompt waits stops the step; a prompt that ends unconfirmed, or whose step
lost its approval, leaves the run BLOCKED with the reason, offering "Ask again" or Abort.
"""

from __future__ import annotations

from enum import Enum

from bot.approvals import flow as approval_flow
from bot.cards.common import slack_time
from bot.deps import Deps
from bot.models.run import PlaybookRun, RunStatus, StepState
from bot.step_back import flow as step_back
from playbooks.run_state import finish_run, update_run


class Gate(Enum):
    OPEN = "open"  # the step may run now
    WAITING = "waiting"  # a human has to act; their action re-queues the run
    STOPPED = "stopped"  # the run ended, or is BLOCKED until someone asks again or aborts


async def check_gates(deps: Deps, run: PlaybookRun) -> Gate:
    step = run.current
    if step is None or step.state in (StepState.RUNNING, StepState.WAITING):
        return Gate.OPEN  # an interrupted or continuing step passed its gates already
    if step.four_eyes:
        gate = await _approval_gate(deps, run)
        if gate is not Gate.OPEN:
            return gate
    if step.destructive:
        return await _step_back_gate(deps, run)
    return Gate.OPEN


async def consume(deps: Deps, run: PlaybookRun) -> Gate:
    """Right before the step's code runs: spend its approval now (compare-and-set on the
    request), so that from here on withdrawing changes nothing, and before here it stops the
    step. OPEN when the step may start."""
    step = run.current
    if step is None or not step.four_eyes or step.approval_id is None:
        return Gate.OPEN
    if await approval_flow.mark_executed(deps, step.approval_id):
        return Gate.OPEN
    return await _approval_gate(deps, run)  # withdrawn or expired meanwhile: say so


async def _approval_gate(deps: Deps, run: PlaybookRun) -> Gate:
    index = run.step_index
    step = run.steps[index]
    if step.approval_id is None:
        approval_id = await approval_flow.request_for_step(deps, run, index)

        def requested(r: PlaybookRun) -> list[str] | None:
            r.steps[index].approval_id = approval_id
            r.steps[index].blocked_reason = None
            r.status = RunStatus.WAITING_APPROVAL
            return [f"🔒 Step {step.name} needs approval by another authorised person."]

        await update_run(deps, run.run_id, requested)
        return Gate.WAITING
    decision = await approval_flow.step_decision(deps, step.approval_id)
    if decision.state == "approved":
        return Gate.OPEN
    if decision.state == "pending":
        # Pending again after an approval (withdrawn): a prompt shown meanwhile no longer
        # counts; once approved again, the operator gets a fresh one.
        if step.destructive and await step_back.end_prompt(
            deps, run, index, "its approval was withdrawn"
        ):
            await _next_prompt(
                deps,
                run,
                "⏸️ The approval of step {name} was withdrawn: it waits for an approval "
                "again, then a new step-back prompt.",
            )
        await _set_status(deps, run, RunStatus.WAITING_APPROVAL)
        return Gate.WAITING
    ended = "expired" if decision.state == "expired" else f"was {decision.state}"
    if step.destructive:
        await step_back.end_prompt(deps, run, index, f"its approval {ended}")
    await block(deps, run, f"The approval for step {step.name} {ended}")
    return Gate.STOPPED


async def _step_back_gate(deps: Deps, run: PlaybookRun) -> Gate:
    index = run.step_index
    step = run.steps[index]
    decision = await step_back.prompt_decision(deps, run, index)
    if decision.state == "pending":
        await step_back.open_prompt(deps, run, index)

        def waiting(r: PlaybookRun) -> list[str] | None:
            if r.status is RunStatus.WAITING_CONFIRM:
                return None
            r.status = RunStatus.WAITING_CONFIRM
            return [
                f"✋ Waiting for <@{r.requested_by}> to confirm step {step.name} "
                "(a step-back prompt is in their DMs)."
            ]

        await update_run(deps, run.run_id, waiting)
        return Gate.WAITING
    if decision.state == "cancelled":
        await finish_run(
            deps,
            run,
            RunStatus.ABORTED,
            (
                f"🛑 <@{decision.user_id}> cancelled at step {step.name}; nothing of it was run."
                if decision.user_id
                else f"🛑 The prompt for step {step.name} ended unconfirmed; nothing was run."
            ),
        )
        return Gate.STOPPED
    if decision.state == "expired":
        when = f" at {slack_time(decision.at)}" if decision.at else ""
        why = decision.reason or step_back.EXPIRED_UNCONFIRMED
        await block(deps, run, f"The step-back prompt for step {step.name} ended{when} ({why})")
        return Gate.STOPPED

    def confirmed(r: PlaybookRun) -> list[str] | None:
        record = r.steps[index]
        if record.confirmed_by is not None:
            return None
        record.confirmed_by, record.confirmed_at = decision.user_id, decision.at
        return []

    await update_run(deps, run.run_id, confirmed)
    return Gate.OPEN


async def block(deps: Deps, run: PlaybookRun, reason: str) -> None:
    """The run waits at its step for "Ask again" or Abort; the card says why (once)."""
    index = run.step_index

    def blocked(r: PlaybookRun) -> list[str] | None:
        if r.status is RunStatus.BLOCKED or r.status.finished:
            return None
        r.status = RunStatus.BLOCKED
        r.steps[index].blocked_reason = reason
        return [f"⛔ {reason}; the step did not run. Press *Ask again* or *Abort run*."]

    if await update_run(deps, run.run_id, blocked) is not None:
        await deps.timeline.append(
            run.incident_id,
            "step",
            f"{reason}; step {run.steps[index].name} did not run",
            actor="seawall",
            ref=run.run_id,
        )


async def _next_prompt(deps: Deps, run: PlaybookRun, reply: str) -> None:
    index = run.step_index

    def bump(r: PlaybookRun) -> list[str] | None:
        record = r.steps[index]
        record.prompt_attempt += 1
        record.confirmed_by = record.confirmed_at = None
        return [reply.format(name=record.name)]

    await update_run(deps, run.run_id, bump)


async def _set_status(deps: Deps, run: PlaybookRun, status: RunStatus) -> None:
    def change(r: PlaybookRun) -> list[str] | None:
        if r.status is status:
            return None
        r.status = status
        return []

    await update_run(deps, run.run_id, change)

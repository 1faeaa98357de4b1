"""The gates in front of a step: four-eyes approval first (someone else agrees with the plan),
then the step-back prompt (the operator, right before it happens)."""

from __future__ import annotations

from enum import Enum

from bot.approvals import flow as approval_flow
from bot.deps import Deps
from bot.models.run import PlaybookRun, RunStatus, StepState
from bot.step_back import flow as step_back
from playbooks.run_state import finish_run, update_run


class Gate(Enum):
    OPEN = "open"  # the step may run now
    WAITING = "waiting"  # a human has to act; their action re-queues the run
    STOPPED = "stopped"  # the run ended (approval expired, prompt cancelled)


async def check_gates(deps: Deps, run: PlaybookRun) -> Gate:
    step = run.current
    if step is None or step.state is StepState.RUNNING:
        return Gate.OPEN  # an interrupted idempotent step passed its gates already
    if step.four_eyes:
        gate = await _approval_gate(deps, run)
        if gate is not Gate.OPEN:
            return gate
    if step.destructive:
        return await _step_back_gate(deps, run)
    return Gate.OPEN


async def _approval_gate(deps: Deps, run: PlaybookRun) -> Gate:
    index = run.step_index
    step = run.steps[index]
    if step.approval_id is None:
        approval_id = await approval_flow.request_for_step(deps, run, index)

        def requested(r: PlaybookRun) -> list[str] | None:
            r.steps[index].approval_id = approval_id
            r.status = RunStatus.WAITING_APPROVAL
            return [f"🔒 Step {step.name} needs approval by another authorised person."]

        await update_run(deps, run.run_id, requested)
        return Gate.WAITING
    decision = await approval_flow.step_decision(deps, step.approval_id)
    if decision.state == "pending":
        await _set_status(deps, run, RunStatus.WAITING_APPROVAL)
        return Gate.WAITING
    if decision.state != "approved":
        await finish_run(
            deps,
            run,
            RunStatus.ABORTED,
            f"🛑 The approval for step {step.name} was {decision.state}; nothing was run. "
            "Start the playbook again to ask anew.",
        )
        return Gate.STOPPED
    await approval_flow.mark_executed(deps, step.approval_id)
    return Gate.OPEN


async def _step_back_gate(deps: Deps, run: PlaybookRun) -> Gate:
    index = run.step_index
    step = run.steps[index]
    decision = await step_back.prompt_decision(deps, run.run_id, index)
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

    def confirmed(r: PlaybookRun) -> list[str] | None:
        record = r.steps[index]
        if record.confirmed_by is not None:
            return None
        record.confirmed_by, record.confirmed_at = decision.user_id, decision.at
        return []

    await update_run(deps, run.run_id, confirmed)
    return Gate.OPEN


async def _set_status(deps: Deps, run: PlaybookRun, status: RunStatus) -> None:
    def change(r: PlaybookRun) -> list[str] | None:
        if r.status is status:
            return None
        r.status = status
        return []

    await update_run(deps, run.run_id, change)

"""What people decide about a run from its card: after an interrupted step (re-run, skip,
abort), after a gate fell through (ask again), and after it ended (roll back what ran).

Each decision is one compare-and-set on the run (`update_run`), so a double click or two
people deciding at once decide once; the run is re-queued only by the delivery that changed
it. Who may decide is checked by the caller (`allowed`), beside the access check of the
button itself (handlers/slack/buttons.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.approvals import flow as approval_flow
from bot.deps import Deps
from bot.models.run import PlaybookRun, RunStatus, StepState
from bot.step_back import flow as step_back
from playbooks.run_state import load_run, update_run

Allowed = Callable[[str], Awaitable[bool]]
GONE = "This run is no longer in Seawall's store; nothing was changed."


def not_yours(run: PlaybookRun) -> str:
    return (
        f"Only <@{run.requested_by}> or an approver can decide for this run; nothing was changed."
    )


async def decide_interrupted(
    deps: Deps, run_id: str, user_id: str, decision: str, allowed: Allowed
) -> str:
    """A human's answer for an interrupted step: "rerun", "skip" or "abort"."""
    run = await load_run(deps, run_id)
    if run is None:
        return GONE
    if run.status is not RunStatus.WAITING_OPERATOR:
        return "This run is not waiting for a decision (someone may have decided already)."
    if not await allowed(user_id):
        return not_yours(run)
    index = run.step_index

    def decide(r: PlaybookRun) -> list[str] | None:
        if r.status is not RunStatus.WAITING_OPERATOR or r.step_index != index:
            return None
        step = r.steps[index]
        step.decided_by = user_id
        if decision == "rerun":
            step.state, r.status = StepState.PENDING, RunStatus.RUNNING
            return [f"🔁 <@{user_id}> chose to re-run step {step.name}."]
        if decision == "skip":
            step.state, step.finished_at = StepState.SKIPPED, deps.clock.now()
            r.step_index, r.status = index + 1, RunStatus.RUNNING
            return [f"⏭️ <@{user_id}> chose to skip step {step.name}."]
        r.status, r.finished_at = RunStatus.ABORTED, deps.clock.now()
        return [f"🛑 <@{user_id}> aborted the run at step {step.name}."]

    updated = await update_run(deps, run_id, decide)
    if updated is None:
        return "Someone decided already; nothing was changed."
    await deps.timeline.append(
        run.incident_id,
        "step",
        f"{decision} chosen for step {run.steps[index].name}",
        actor=user_id,
        ref=run_id,
    )
    if not updated.status.finished:
        await deps.jobs.enqueue("advance_run", run_id=run_id)
    return {"rerun": "Re-running the step.", "skip": "Skipped; the run goes on."}.get(
        decision, "Run aborted."
    )


async def ask_again(deps: Deps, run_id: str, user_id: str, allowed: Allowed) -> str:
    """A BLOCKED run (its approval or prompt ran out): ask for a new approval and show a new
    step-back prompt, as if the step came up for the first time."""
    run = await load_run(deps, run_id)
    if run is None:
        return GONE
    if run.status is not RunStatus.BLOCKED:
        return "This run is not waiting to ask again (someone may have already); nothing changed."
    if not await allowed(user_id):
        return not_yours(run)
    index = run.step_index

    def again(r: PlaybookRun) -> list[str] | None:
        if r.status is not RunStatus.BLOCKED or r.step_index != index:
            return None
        step = r.steps[index]
        if step.four_eyes and step.approval_id is not None:
            step.approval_id = None  # a new request: the old one expired or was called off
            step.approval_attempt += 1
        if step.destructive:
            step.prompt_attempt += 1
        step.confirmed_by = step.confirmed_at = step.blocked_reason = None
        r.status = RunStatus.RUNNING
        return [f"🔁 <@{user_id}> asked again for step {step.name}."]

    if await update_run(deps, run_id, again) is None:
        return "Someone decided already; nothing was changed."
    await deps.timeline.append(
        run.incident_id, "step", f"Asked again for step {run.steps[index].name}", actor=user_id
    )
    await deps.jobs.enqueue("advance_run", run_id=run_id)
    return "Asked again: the step's gates start over (approval, then the step-back prompt)."


async def abort_run(deps: Deps, run_id: str, user_id: str, reason: str) -> PlaybookRun | None:
    """Stop the run before its next step (a running step is not interrupted). Its open
    step-back prompt and approval request stop counting at once."""

    def abort(r: PlaybookRun) -> list[str] | None:
        if r.status.finished:
            return None
        r.status, r.finished_at = RunStatus.ABORTED, deps.clock.now()
        return [f"🛑 Run aborted by <@{user_id}>: {reason}"]

    run = await update_run(deps, run_id, abort)
    step = run.current if run is not None else None
    if run is not None and step is not None and step.state is StepState.PENDING:
        if step.destructive:
            await step_back.end_prompt(deps, run, run.step_index, "the run was aborted")
        if step.four_eyes and step.approval_id is not None:
            await approval_flow.cancel_request(
                deps, step.approval_id, "cancelled because the run was aborted"
            )
    return run


async def request_rollback(deps: Deps, run_id: str, user_id: str, allowed: Allowed) -> str:
    """The Roll back button of an ended run: queue the undo of the steps that ran, once."""
    run = await load_run(deps, run_id)
    if run is None:
        return GONE
    if not run.status.finished or run.status is RunStatus.SUCCEEDED:
        return "Only a run that was aborted or failed offers a roll back; nothing was changed."
    if not run.undoable:
        return "Nothing of this run can be rolled back by Seawall; nothing was changed."
    if not await allowed(user_id):
        return not_yours(run)

    def start(r: PlaybookRun) -> list[str] | None:
        if r.rollback is not None:
            return None
        r.rollback, r.rollback_by = "running", user_id
        names = ", ".join(r.steps[i].name for i in r.undoable)
        return [f"↩️ <@{user_id}> started the roll back of: {names}."]

    if await update_run(deps, run_id, start) is None:
        return "The roll back was already started; nothing more was done."
    # Undo code must be safe to run twice (like an idempotent step): a killed worker's roll
    # back is simply run again by the queue.
    await deps.jobs.enqueue("roll_back_run", key=run_id, run_id=run_id)
    return "Rolling back; the run card follows each step."

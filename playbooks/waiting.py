"""Steps that continue later: the wait a step asks for (`Later`), and the choice that ends it.

A step that is not finished returns `Later` (playbooks/definition.py). The engine stores the
step as WAITING, with what it noted, what it asks and which buttons it offers, in one atomic
run write, and schedules the wake as a delayed job *before* that write: a worker that dies in
between leaves the step RUNNING, and the idempotency rule applies (re-run, or ask). The
wake is in Redis, so any worker takes it; one that comes early (a duplicate, a re-queue) finds
the step not due and waits on. A choice on the card is one compare-and-set on the step, tied
to the wait it answers (`waits`), so a double click or a click on an old question does nothing.
"""

from __future__ import annotations

from datetime import timedelta

from bot.cards.common import escape
from bot.deps import Deps
from bot.models.run import ChoiceRecord, PlaybookRun, RunStatus, StepState
from playbooks.decisions import GONE, Allowed, not_yours
from playbooks.definition import Later
from playbooks.run_state import load_run, update_run

OUTPUT_MAX = 1500
STALE = (
    "That question has moved on (answered, or the step went further); nothing was changed. "
    "The card shows where the run stands now."
)


async def wake_later(deps: Deps, run_id: str, seconds: float) -> None:
    """Queue the run again in `seconds` (the queue may run it up to a second early: the
    engine counts that as on time, playbooks/engine.py: WAKE_SLACK_S)."""
    await deps.jobs.enqueue("advance_run", delay_s=seconds, run_id=run_id)


async def wait_step(
    deps: Deps, run: PlaybookRun, index: int, later: Later, facts: dict[str, str]
) -> None:
    """Store the step as WAITING (its facts, output, question and choices) and schedule it."""
    waits = run.steps[index].waits + 1
    wake_at = None
    if later.after_s is not None:
        wake_at = deps.clock.now() + timedelta(seconds=later.after_s)
        # No job key: a key saq still holds from a crashed attempt's wake would refuse this
        # one, and a lost wake strands the run; a duplicate wake only finds it not due.
        await wake_later(deps, run.run_id, later.after_s)

    def waiting(r: PlaybookRun) -> list[str]:
        step = r.steps[index]
        step.state, step.waits, step.wake_at = StepState.WAITING, waits, wake_at
        step.output = later.output[-OUTPUT_MAX:]
        step.facts = dict(facts)
        step.question = later.question
        step.choices = [
            ChoiceRecord(value=c.value, label=c.label, style=c.style) for c in later.choices
        ]
        step.choice = step.chosen_by = None
        r.status = RunStatus.WAITING
        if later.question is None:
            return []
        labels = ", ".join(f"*{c.label}*" for c in later.choices)
        ask = f" Choose {labels} on the card." if labels else ""
        return [f"❓ <@{r.requested_by}> {escape(later.question)}{ask}"]

    await update_run(deps, run.run_id, waiting)
    said = f"asks: {later.question}" if later.question else later.output.replace("\n", "; ")
    await deps.timeline.append(
        run.incident_id,
        "step",
        f"Step {run.steps[index].name} {said}",
        actor="seawall",
        ref=run.run_id,
    )


async def choose(deps: Deps, run_id: str, user_id: str, token: str | None, allowed: Allowed) -> str:
    """A person pressed one of a waiting step's buttons: record it and run the step again."""
    run = await load_run(deps, run_id)
    if run is None:
        return GONE
    step = run.current
    value, _, waits = (token or "").partition("@")
    if (
        step is None
        or run.status is not RunStatus.WAITING
        or step.state is not StepState.WAITING
        or step.choice is not None
        or waits != str(step.waits)
        or value not in {c.value for c in step.choices}
    ):
        return STALE
    if not await allowed(user_id):
        return not_yours(run)
    index, label = run.step_index, next(c.label for c in step.choices if c.value == value)

    def chosen(r: PlaybookRun) -> list[str] | None:
        record = r.steps[index] if r.step_index == index else None
        if record is None or record.state is not StepState.WAITING or record.choice is not None:
            return None
        if str(record.waits) != waits:
            return None
        record.choice, record.chosen_by = value, user_id
        r.status = RunStatus.RUNNING
        return [f"👉 <@{user_id}> chose *{label}* for step {record.name}."]

    if await update_run(deps, run_id, chosen) is None:
        return STALE
    await deps.timeline.append(
        run.incident_id, "step", f"{label} chosen for step {step.name}", actor=user_id, ref=run_id
    )
    await deps.jobs.enqueue("advance_run", run_id=run_id)
    return f"{label}: the run card follows."

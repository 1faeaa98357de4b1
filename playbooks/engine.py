"""The playbook engine: durable runs that survive worker crashes and never repeat a step
silently.

A run is the subject of its own card, so each transition is one atomic card write and the
Slack run card follows. Before a step's code runs, the step is written as RUNNING; after, as
SUCCEEDED or FAILED. A worker that finds a step still RUNNING knows the previous attempt may
have run it: an idempotent step runs again, any other waits for a human (re-run, skip, abort).
One worker at a time advances a run (a Redis lease renewed while the step runs).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.access.flow import refusal_for
from bot.access.rules import playbook_action
from bot.changes import flow as changes
from bot.core import keys
from bot.core.errors import StoreUnavailable
from bot.core.replication import NotReplicated
from bot.deps import Deps
from bot.incidents import flow as incidents
from bot.models.card import TriageCard
from bot.models.change import Change
from bot.models.run import PlaybookRun, RunStatus, StepRecord, StepState, run_card_id
from bot.store import REDIS_ERRORS, CardMutation
from playbooks.definition import Later, Playbook, StepContext
from playbooks.gates import Gate, check_gates, consume
from playbooks.registry import Registry, load_registry
from playbooks.run_state import finish_run, load_run, update_run
from playbooks.waiting import wait_step, wake_later

log = logging.getLogger("seawall.engine")

OUTPUT_MAX = 1500
# How long a step that must not run twice waits for a replica to confirm its RUNNING mark.
CONFIRM_RUNNING_S = 30.0
# A person must act before the run moves again (their button re-queues it).
HUMAN_DECIDES = frozenset({RunStatus.WAITING_OPERATOR, RunStatus.BLOCKED})
# The job queue schedules to the whole second (rounding down), so a wake may come up to a
# second early: that is on time. Earlier than that, the step waits on.
WAKE_SLACK_S = 1.0


def new_run_id() -> str:
    return secrets.token_hex(4)


async def start_run(
    deps: Deps,
    playbook: Playbook,
    params: BaseModel,
    requested_by: str,
    channel: str,
    incident_id: str | None = None,
) -> PlaybookRun:
    """Record the run and its plan, show its card, and queue it."""
    now = deps.clock.now()
    run = PlaybookRun(
        run_id=new_run_id(),
        playbook=playbook.name,
        summary=playbook.summary,
        params=params.model_dump(mode="json"),
        requested_by=requested_by,
        channel=channel,
        incident_id=incident_id,
        steps=playbook.plan(params, playbook.settings_in(deps.config.playbooks)),
        created_at=now,
    )
    card = TriageCard(
        card_id=run_card_id(run.run_id),
        channel=channel,
        subject=run,
        created_at=now,
        updated_at=now,
    )
    await deps.store.mutate_card(card.card_id, lambda _: CardMutation(card=card))
    started = f"Playbook {playbook.name} started (run {run.run_id})"
    if incident_id is not None:
        await incidents.link_run(deps, incident_id, run.run_id, started, requested_by)
    await deps.jobs.enqueue("advance_run", run_id=run.run_id)
    return run


async def advance_run(deps: Deps, run_id: str, registry: Registry | None = None) -> None:
    """Take the run as far as it can go now (a job; safe to run twice or concurrently)."""
    lease_key = keys.run_lease(run_id)
    token = await deps.store.acquire_lease(lease_key, keys.RUN_LEASE_MS)
    if token is None:
        # Someone holds the run. If they died, the lease lapses: look again after that. (No
        # job key: saq keeps a finished job's key for a while and would refuse a second wait.)
        wait_ms = await deps.store.pause_remaining_ms(lease_key)
        await deps.jobs.enqueue("advance_run", delay_s=wait_ms / 1000 + 0.5, run_id=run_id)
        return
    try:
        registry = registry or load_registry(deps.config.playbook_modules)
        while await _advance_once(deps, registry, run_id, lease_key, token):
            pass
    finally:
        await deps.store.release_lease(lease_key, token)


async def _advance_once(
    deps: Deps, registry: Registry, run_id: str, lease_key: str, token: str
) -> bool:
    """One move of the run; True when there may be another move to make right away."""
    run = await load_run(deps, run_id)
    if run is None or run.status.finished or run.status in HUMAN_DECIDES:
        return False
    step = run.current
    if step is None:
        await finish_run(deps, run, RunStatus.SUCCEEDED, "✅ All steps done.")
        return False
    playbook = registry.get(run.playbook)
    if playbook is None:
        await finish_run(deps, run, RunStatus.FAILED, f"Playbook {run.playbook} no longer exists.")
        return False
    if step.state is StepState.WAITING and not await _due(deps, run_id, step):
        return False
    if step.state is StepState.RUNNING and not step.idempotent:
        await _ask_operator(deps, run)
        return False
    if step.state is StepState.RUNNING:
        await deps.timeline.append(
            run.incident_id,
            "step",
            f"Step {step.name} was interrupted; it is idempotent, so it runs again",
            actor="seawall",
            ref=run_id,
        )
    if not step.read_only and not await _still_allowed(deps, run):
        return False
    gate = await check_gates(deps, run)
    if gate is Gate.OPEN and step.state is StepState.PENDING:
        gate = await consume(deps, run)  # the approval is spent now, not when granted
    if gate is not Gate.OPEN:
        return False
    return await _run_step(deps, registry, playbook, run, lease_key, token)


async def _due(deps: Deps, run_id: str, step: StepRecord) -> bool:
    """A waiting step runs again once its timer is up or a person chose; woken earlier (a
    duplicate job, a re-queue after a click on another button), it waits on."""
    if step.choice is not None:
        return True
    if step.wake_at is None:
        return False  # waits for a person's choice; their click re-queues the run
    remaining = (step.wake_at - deps.clock.now()).total_seconds()
    if remaining <= WAKE_SLACK_S:
        return True
    await wake_later(deps, run_id, remaining)
    return False


async def _still_allowed(deps: Deps, run: PlaybookRun) -> bool:
    """Checked again in the worker before anything changes: the web process checked when the
    command arrived, but roles may have changed since, or the run may not come from there."""
    action = playbook_action(run.playbook)
    refusal = await refusal_for(
        deps.config.access,
        deps.slack,
        run.requested_by,
        action,
        also_holds=await deps.extra_roles(run.requested_by, action),
    )
    if refusal is None:
        return True
    await finish_run(
        deps,
        run,
        RunStatus.ABORTED,
        f"🛑 <@{run.requested_by}> may no longer run {run.playbook}, so the run stopped before "
        f"step {run.current.name if run.current else '?'}. {refusal}",
    )
    return False


async def _run_step(
    deps: Deps,
    registry: Registry,
    playbook: Playbook,
    run: PlaybookRun,
    lease_key: str,
    token: str,
) -> bool:
    """Run the current step; True when the run may move on at once (False: it waits)."""
    index = run.step_index
    now = deps.clock.now()
    continuing = run.steps[index].state is StepState.WAITING

    def started(r: PlaybookRun) -> list[str]:
        record = r.steps[index]
        record.state, record.attempts, record.started_at = (
            StepState.RUNNING,
            record.attempts if continuing else record.attempts + 1,
            record.started_at if continuing and record.started_at else now,
        )
        r.status = RunStatus.RUNNING
        return []

    run = await update_run(deps, run.run_id, started) or run  # written BEFORE the code runs
    record = run.steps[index]
    definition = playbook.step(record.name)
    context = StepContext(
        deps=deps,
        run=run,
        params=playbook.params.model_validate(run.params),
        step=record,
        settings=playbook.settings_in(deps.config.playbooks),
        attempt=record.attempts,
        facts=dict(record.facts),
        choice=record.choice,
        chosen_by=record.chosen_by,
    )
    if not continuing:
        await deps.timeline.append(
            run.incident_id,
            "step",
            f"Step {record.name} started: {record.description}",
            actor="seawall",
            ref=run.run_id,
        )
    keeper = asyncio.create_task(_keep_lease(deps, lease_key, token))
    try:
        if not record.idempotent:
            await _until_replicated(deps, run.run_id, record.name)
        output = await definition.run(context)
    except (StoreUnavailable, RedisConnectionError, RedisTimeoutError):
        # Redis went away under the step (a failover): interrupted, not failed. The job is
        # retried and finds the step RUNNING: an idempotent step runs again on the new
        # primary, any other asks the operator. (NotReplicated: not run at all.)
        raise
    except Exception as exc:
        log.exception("run %s step %s failed", run.run_id, record.name)
        await _step_failed(deps, run.run_id, index, exc)
        return True
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
    if isinstance(output, Later):
        await wait_step(deps, run, index, output, context.facts)
        if not record.read_only:  # it changed something already (e.g. the first ramp step)
            await _record_change(deps, run, record.description)
        return False

    def succeeded(r: PlaybookRun) -> list[str]:
        step = r.steps[index]
        step.state, step.finished_at = StepState.SUCCEEDED, deps.clock.now()
        step.output = (output or "")[-OUTPUT_MAX:]
        step.facts = dict(context.facts)
        step.wake_at = step.question = step.choice = step.chosen_by = None
        step.choices = []
        r.step_index = index + 1
        return []

    await update_run(deps, run.run_id, succeeded)  # written AFTER
    await deps.timeline.append(
        run.incident_id,
        "step",
        f"Step {record.name} succeeded. {output or ''}".strip(),
        actor="seawall",
        ref=run.run_id,
    )
    if not record.read_only:
        await _record_change(deps, run, record.description)
    return True


async def _record_change(deps: Deps, run: PlaybookRun, what: str) -> None:
    """A run that changed something is a change ("what changed?" on later cards), once per
    step: the id is the run's and the step's."""
    target = next((str(v) for k, v in run.params.items() if k in ("target", "host")), None)
    change = Change(
        change_id=f"run-{run.run_id}-{run.step_index}",
        summary=f"Playbook {run.playbook}: {what}",
        at=deps.clock.now(),
        source="playbook",
        service=target,
        author_slack_id=run.requested_by,
    )
    await changes.record(
        change, redis=deps.redis, retention=deps.config.retention, now=deps.clock.now()
    )


async def _keep_lease(deps: Deps, lease_key: str, token: str) -> None:
    while True:
        await asyncio.sleep(keys.RUN_LEASE_MS / 3000)
        try:
            await deps.store.renew_lease(lease_key, token, keys.RUN_LEASE_MS)
        except REDIS_ERRORS as exc:  # a failover under way: the next renewal may reach the new
            # primary; stopping here would let the lease lapse while the step still runs
            log.warning("run lease %s not renewed (%s); trying again", lease_key, exc)


async def _until_replicated(deps: Deps, run_id: str, step: str) -> None:
    """A step that must not run twice runs only once a replica has its RUNNING mark: a
    failover that lost the mark would let the new primary run it again, silently. Waits out
    a replica that is briefly behind; raises NotReplicated after CONFIRM_RUNNING_S."""
    deadline = asyncio.get_running_loop().time() + CONFIRM_RUNNING_S
    while True:
        try:
            await deps.replicas.confirm(deps.redis)
            return
        except (NotReplicated, *REDIS_ERRORS) as exc:
            if asyncio.get_running_loop().time() >= deadline:
                log.error("run %s step %s not started: %s", run_id, step, exc)
                raise NotReplicated(str(exc)) from exc
            log.warning("run %s step %s waits for a replica: %s", run_id, step, exc)
            await asyncio.sleep(1.0)


async def _step_failed(deps: Deps, run_id: str, index: int, exc: Exception) -> None:
    reason = str(exc) or type(exc).__name__

    def failed(r: PlaybookRun) -> list[str]:
        step = r.steps[index]
        step.state, step.finished_at, step.error = StepState.FAILED, deps.clock.now(), reason[:500]
        r.status, r.finished_at = RunStatus.FAILED, deps.clock.now()
        undo = f" To undo what ran: {step.rollback}" if step.rollback else ""
        return [f"❌ Step {step.name} failed: {reason[:300]}. The run stopped here.{undo}"]

    run = await update_run(deps, run_id, failed)
    if run is not None:
        await deps.timeline.append(
            run.incident_id,
            "step",
            f"Step {run.steps[index].name} failed: {reason}",
            actor="seawall",
            ref=run_id,
        )


async def _ask_operator(deps: Deps, run: PlaybookRun) -> None:
    index = run.step_index

    def waiting(r: PlaybookRun) -> list[str] | None:
        if r.status is RunStatus.WAITING_OPERATOR:
            return None
        r.status = RunStatus.WAITING_OPERATOR
        name = r.steps[index].name
        return [
            f"⚠️ <@{r.requested_by}> step {name} was interrupted (a worker stopped) and may "
            "have run. It is not safe to repeat blindly: choose Re-run, Skip or Abort on the card."
        ]

    if await update_run(deps, run.run_id, waiting) is not None:
        await deps.timeline.append(
            run.incident_id,
            "step",
            f"Step {run.steps[index].name} was interrupted; waiting for a human to decide",
            actor="seawall",
            ref=run.run_id,
        )


async def _advance_job(deps: Deps, run_id: str) -> None:
    await advance_run(deps, run_id)


async def start_follow_up(
    deps: Deps,
    *,
    playbook: str,
    params: dict[str, Any],
    requested_by: str,
    channel: str,
    incident_id: str | None,
    origin: str,
) -> None:
    """Job: start a run of another playbook for a step (the undo of pause-workers starts a
    gradual resume-workers run, with its own gates), once per `origin`."""
    if not await deps.store.claim(keys.follow_up_run(origin), keys.FOLLOW_UP_RUN_TTL_S):
        return
    found = load_registry(deps.config.playbook_modules).get(playbook)
    if found is None:
        log.error("follow-up playbook %s of %s is not installed", playbook, origin)
        return
    model = found.params.model_validate(params)
    await start_run(deps, found, model, requested_by, channel, incident_id)


JOBS: dict[str, Callable[..., Awaitable[Any]]] = {
    "advance_run": _advance_job,
    "start_follow_up": start_follow_up,
}

"""slot-lag's steps: look (read-only, posts the report card), terminate or drop (gated,
checked again against Postgres right before acting), and look again after.

Looking uses the read-only DSN; acting uses the admin DSN, read from the environment variable
the settings name when the step needs it (and checked by the look, so nobody is asked to
confirm a step that could not run).
"""

from __future__ import annotations

import asyncio
import os

from bot.core.errors import SeawallError
from bot.deps import Deps
from bot.models.slots import SlotReport, slot_report_card_id
from bot.slots import intake, rules
from bot.slots.rules import Thresholds
from playbooks.catalog.slot_lag import checks
from playbooks.catalog.slot_lag.settings import (
    acting,
    admin_dsn,
    database_of,
    params_of,
    settings_from,
)
from playbooks.definition import StepContext
from playbooks.providers.postgres import PsycopgSlots, SlotAdmin, SlotSource

LOOK_STEP = "look"


async def take_look(
    deps: Deps, name: str, thresholds: Thresholds, *, source: SlotSource, wait: bool
) -> SlotReport:
    """Snapshot, measure against the kept samples, keep this one. With `wait` and no usable
    earlier sample, a second snapshot a few seconds later gives the rate."""
    snap = await source.snapshot(name)
    samples = await intake.recent_samples(name, redis=deps.redis)
    pause = rules.seconds_to_wait(samples, snap.taken_at) if wait else 0.0
    if pause > 0:
        _, first = rules.build_report(snap, samples, thresholds=thresholds)
        await intake.keep_sample(name, first, redis=deps.redis)
        await asyncio.sleep(pause + 0.1)
        snap = await source.snapshot(name)
        samples = await intake.recent_samples(name, redis=deps.redis)
    report, sample = rules.build_report(snap, samples, thresholds=thresholds)
    await intake.keep_sample(name, sample, redis=deps.redis)
    return report


async def look_and_show(ctx: StepContext, *, after: str | None = None) -> SlotReport:
    """A look with a rate, posted as the run's report card (one per run, updated)."""
    settings = settings_from(ctx.settings)
    name, db = database_of(settings, params_of(ctx.params).db)
    source = PsycopgSlots(db.dsn, label=name, read_only=True)
    report = await take_look(ctx.deps, name, settings.watch.thresholds, source=source, wait=True)
    report = report.model_copy(
        update={
            "run_id": ctx.run.run_id,
            "requested_by": ctx.run.requested_by,
            "production": db.production,
            "stage": "after" if after else "look",
            "action": after,
        }
    )
    await intake.show_report(
        report,
        card_id=slot_report_card_id(ctx.run.run_id),
        channel=ctx.run.channel,
        store=ctx.deps.store,
        now=ctx.deps.clock.now(),
    )
    return report


async def look(ctx: StepContext) -> str:
    params = params_of(ctx.params)
    name, db = database_of(settings_from(ctx.settings), params.db)
    # A target that is not there, or no way to act, is refused first: before anyone is
    # asked to confirm, and before the look's few seconds of measuring.
    if acting(params, ctx.settings):
        admin_dsn(name, db, os.environ)
    source = PsycopgSlots(db.dsn, label=name, read_only=True)
    if params.drop is not None:
        ctx.facts.update(checks.slot_facts(params.drop, await source.slot(params.drop), name))
    if params.terminate is not None:
        backend = await source.backend(params.terminate)
        ctx.facts.update(checks.backend_facts(params.terminate, backend, name))
    report = await look_and_show(ctx)
    return report.diagnosis


def look_facts(ctx: StepContext) -> dict[str, str]:
    """What the look step noted about the target (empty if it noted nothing)."""
    return next((dict(s.facts) for s in ctx.run.steps if s.name == LOOK_STEP), {})


async def terminate(ctx: StepContext) -> str:
    params = params_of(ctx.params)
    name, db = database_of(settings_from(ctx.settings), params.db)
    pid = params.terminate
    assert pid is not None  # the step is planned only with terminate=
    source = PsycopgSlots(db.dsn, label=name, read_only=True)
    admin = PsycopgSlots(admin_dsn(name, db, os.environ), label=name, read_only=False)
    return await terminate_checked(pid, look_facts(ctx), source=source, admin=admin)


async def terminate_checked(
    pid: int, seen: dict[str, str], *, source: SlotSource, admin: SlotAdmin
) -> str:
    # Read with the monitoring role: the admin role may not see other roles' start times.
    now = await source.backend(pid)
    if now is None:
        return f"pid {pid} had already ended; nothing to terminate."
    refusal = checks.terminate_refusal(pid, seen, now)
    if refusal:
        raise SeawallError(refusal)
    if not await admin.terminate(pid):
        return f"pid {pid} ended on its own just before; nothing to terminate."
    who = f" ({now.backend_type}, user {now.user})" if now.user else f" ({now.backend_type})"
    return f"Terminated pid {pid}{who}: its open transaction was rolled back."


async def drop(ctx: StepContext) -> str:
    params = params_of(ctx.params)
    name, db = database_of(settings_from(ctx.settings), params.db)
    slot = params.drop
    assert slot is not None  # the step is planned only with drop=
    admin = PsycopgSlots(admin_dsn(name, db, os.environ), label=name, read_only=False)
    return await drop_checked(slot, look_facts(ctx), admin=admin)


async def drop_checked(slot: str, seen: dict[str, str], *, admin: SlotAdmin) -> str:
    now = await admin.slot(slot)
    if now is None:
        return f"Slot {slot} was already gone; nothing to drop."
    refusal = checks.drop_refusal(slot, seen, now)
    if refusal:
        raise SeawallError(refusal)
    result = await admin.drop_slot(slot)
    if not result.dropped:
        return f"Slot {slot} was dropped by someone else meanwhile; nothing more to drop."
    pids = ", ".join(str(p) for p in result.terminated)
    first = f" after terminating its walsender (pid {pids})" if pids else ""
    return f"Dropped slot {slot}{first}. Its consumer must now take a new snapshot."


async def verify(ctx: StepContext) -> str:
    params = params_of(ctx.params)
    action = f"drop {params.drop}" if params.drop else f"terminate {params.terminate}"
    report = await look_and_show(ctx, after=action)
    return checks.after_words(params.drop, params.terminate, report)

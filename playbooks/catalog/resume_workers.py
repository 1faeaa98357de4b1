"""Resume paused workers gradually, watching, so the backlog does not knock the system over
("that was too much load"): the ramp of `playbooks.pause-workers` (e.g. 1, 25%, 50%, 100%),
`ramp_wait` between steps, and before each step a look at the signals: the queue must have
fallen since the last step, and no alert matching the target's `alerts` may be firing.

When a signal turns bad the ramp stops where it is and asks the operator in the card's
thread: *Hold* (stay at this step), *Step back* (one step down, then wait) or *Continue*
(the next step anyway). While it ramps, *Hold* is on the card too. Each wait is a delayed job
(playbooks/waiting.py), not a sleep: a worker that dies mid-ramp loses nothing, and the step
it was running is run again at the same level (every level is an absolute size, so running
one twice changes nothing): never everything at once.

The one gate (step-back prompt, four-eyes when the target asks for it) stands before the
first step of the ramp; the operator's choices on the card are checked like Abort (the
operator or an approver, with access to the playbook).
"""

from __future__ import annotations

from bot.core.errors import SeawallError
from playbooks.definition import Choice, Later, Playbook, Step, StepContext
from playbooks.pausing import (
    FOUR_EYES_IF_CONFIGURED,
    SECTION,
    Params,
    PausedTarget,
    Settings,
    claim_resume,
    load_paused,
    mark_resumed,
    owned_by,
    settings_of,
    target_of,
    worker_pool,
)
from playbooks.providers.workers import CeleryTarget, CommandTarget, KubernetesTarget, WorkerPool
from playbooks.ramp import add_sample, curve_text, describe_level, judge, plan_levels
from playbooks.run_state import load_run
from playbooks.signals import read_signals

CONTINUE = Choice("continue", "Continue", "primary")
STEP_BACK = Choice("back", "Step back")
HOLD = Choice("hold", "Hold")
Target = CeleryTarget | KubernetesTarget | CommandTarget


def _name(ctx: StepContext) -> str:
    return str(ctx.params.model_dump()["target"])


async def look(ctx: StepContext) -> str:
    name = _name(ctx)
    settings = settings_of(ctx.settings)
    target = target_of(settings, name)
    paused = await load_paused(ctx.deps.redis, name)
    if paused is None:
        raise SeawallError(
            f"{name} was not paused by Seawall (nothing is remembered about it), so there is "
            "no size to ramp back to; nothing was changed. Workers stopped by hand are started "
            "by hand"
        )
    pool = worker_pool(target)
    try:
        snapshot = await pool.observe(paused.capacity)
    finally:
        await pool.aclose()
    levels = plan_levels(settings.ramp, paused.capacity.units)
    wait = f"{settings.ramp_wait.total_seconds():g}"
    return (
        f"{name}: {snapshot.summary()}. Plan: {' → '.join(map(str, levels))} of "
        f"{paused.capacity.units}, {wait} s apart, checking {watched(target)} before each step"
    )


def watched(target: Target) -> str:
    signals = []
    if target.broker and target.queues:
        signals.append("that the queue falls")
    if target.alerts:
        signals.append("alerts " + ", ".join(target.alerts))
    return " and ".join(signals) or "nothing (no queue or alerts configured)"


async def ramp(ctx: StepContext) -> str | Later:
    name = _name(ctx)
    settings = settings_of(ctx.settings)
    target = target_of(settings, name)
    if "levels" not in ctx.facts:  # the first time: this run takes the target over
        record = await claim_resume(
            ctx.deps.redis, name, ctx.run.run_id, other_is_live=lambda run: _live(ctx, run)
        )
        levels = plan_levels(settings.ramp, record.capacity.units)
        ctx.facts.update(levels=",".join(map(str, levels)), level="-1")
    else:
        record = await owned_by(ctx.deps.redis, name, ctx.run.run_id)
    pool = worker_pool(target)
    try:
        return await _move(ctx, settings, target, pool, record)
    finally:
        await pool.aclose()


async def _live(ctx: StepContext, run_id: str) -> bool:
    run = await load_run(ctx.deps, run_id)
    return run is not None and not run.status.finished


async def _move(
    ctx: StepContext, settings: Settings, target: Target, pool: WorkerPool, record: PausedTarget
) -> str | Later:
    facts = ctx.facts
    levels = [int(u) for u in facts["levels"].split(",")]
    level = int(facts["level"])
    snapshot = await pool.observe(record.capacity)
    depth = snapshot.queue_depth
    facts["curve"] = add_sample(facts.get("curve", ""), depth)
    who = ctx.chosen_by or "someone"
    if ctx.choice == "hold" or (ctx.choice == "back" and level < 0):
        return _held(ctx, levels, f"held by {who}")
    if ctx.choice == "back" and level >= 0:
        done = await pool.scale(record.capacity, levels[level - 1] if level > 0 else 0)
        facts.update(level=str(level - 1), depth_at=str(depth) if depth is not None else "")
        return _held(ctx, levels, f"stepped back by {who}: {done}")
    if ctx.choice is None:
        then = facts.get("depth_at", "")
        signals = await read_signals(
            ctx.deps, target, depth_then=int(then) if then else None, depth_now=depth
        )
        verdict = judge(signals, running=level >= 0)
        where = describe_level(levels, level)
        if not verdict.ok:
            return _ask(
                ctx, levels, f"The ramp of {_name(ctx)} stopped at {where}: {verdict.reason}."
            )
        if settings.ramp_continue == "button" and level >= 0:
            return _ask(ctx, levels, f"{_name(ctx)} at {where}: {verdict.reason}. Next step?")
    return await _climb(ctx, settings, pool, record, levels, level + 1, depth)


async def _climb(
    ctx: StepContext,
    settings: Settings,
    pool: WorkerPool,
    record: PausedTarget,
    levels: list[int],
    level: int,
    depth: int | None,
) -> str | Later:
    done = await pool.scale(record.capacity, levels[level])
    ctx.facts.update(level=str(level), depth_at=str(depth) if depth is not None else "")
    ctx.facts["mode"] = "ramping"
    status = f"{describe_level(levels, level)} · {curve_text(ctx.facts['curve'])}".rstrip(" ·")
    if level == len(levels) - 1:
        await mark_resumed(ctx.deps.redis, _name(ctx), ctx.run.run_id, ctx.deps.clock.now())
        return f"{done}\nFully resumed: {status}"
    wait = settings.ramp_wait.total_seconds()
    return Later(output=f"{done}\n{status}", after_s=wait, choices=(HOLD,))


def _held(ctx: StepContext, levels: list[int], why: str) -> Later:
    level = int(ctx.facts["level"])
    ctx.facts["mode"] = "held"
    status = f"{describe_level(levels, level)} · {curve_text(ctx.facts['curve'])}".rstrip(" ·")
    choices = (CONTINUE, STEP_BACK) if level >= 0 else (CONTINUE,)
    return Later(output=f"{why}\nHolding at {status}", choices=choices)


def _ask(ctx: StepContext, levels: list[int], question: str) -> Later:
    level = int(ctx.facts["level"])
    ctx.facts["mode"] = "asking"
    status = f"{describe_level(levels, level)} · {curve_text(ctx.facts['curve'])}".rstrip(" ·")
    choices = (CONTINUE, STEP_BACK, HOLD) if level >= 0 else (CONTINUE, HOLD)
    return Later(output=f"Stopped at {status}", question=question, choices=choices)


async def report(ctx: StepContext) -> str:
    name = _name(ctx)
    target = target_of(settings_of(ctx.settings), name)
    pool = worker_pool(target)
    try:
        snapshot = await pool.observe()
    finally:
        await pool.aclose()
    return f"After: {name}: {snapshot.summary()}"


PLAYBOOK = Playbook(
    name="resume-workers",
    summary="Resume paused workers step by step, watching the queue and the alerts",
    params=Params,
    positional=("target",),
    settings_key=SECTION,
    steps=(
        Step(
            "look",
            "Look at paused {target} and plan the ramp",
            look,
            idempotent=True,
            read_only=True,
        ),
        Step(
            "ramp",
            "Resume {target} step by step, checking the queue and alerts before each step",
            ramp,
            destructive=True,
            four_eyes_if=FOUR_EYES_IF_CONFIGURED,
            idempotent=True,  # each step sets an absolute size: running one twice is harmless
            target="target",
            blast_radius="{target}'s workers take the backlog again, one ramp step at a time; "
            "what they call (databases, APIs) gets that load",
            rollback="Stop them again at once: /playbook pause-workers {target}",
        ),
        Step(
            "report",
            "Look at {target} after the resume",
            report,
            idempotent=True,
            read_only=True,
        ),
    ),
)

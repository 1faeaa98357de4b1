"""Pause workers at once: bad data is spreading, so stop the workers that spread it. Tasks
already running finish; nothing new starts; the backlog waits in the queue until
`/playbook resume-workers <target>` brings the workers back gradually.

Nothing changes before the step-back prompt (and a second person's approval when the target
says `four_eyes: true`): the first step only reads. The card shows the queue and the work in
flight before and after. What the target ran is remembered in Redis before it is paused, so
the resume knows what 100% is (playbooks/pausing.py). Settings: `playbooks.pause-workers`
(DESIGN.md), shared with resume-workers.
"""

from __future__ import annotations

from bot.core.errors import SeawallError
from playbooks.definition import Playbook, Step, StepContext
from playbooks.pausing import (
    FOUR_EYES_IF_CONFIGURED,
    Params,
    PausedTarget,
    load_paused,
    remember_pause,
    settings_of,
    target_of,
    worker_pool,
)
from playbooks.providers.workers import describe_units

RESUME = "resume-workers"


def _name(ctx: StepContext) -> str:
    return str(ctx.params.model_dump()["target"])


async def look(ctx: StepContext) -> str:
    name = _name(ctx)
    target = target_of(settings_of(ctx.settings), name)
    paused = await load_paused(ctx.deps.redis, name)
    pool = worker_pool(target)
    try:
        snapshot = await pool.observe(paused.capacity if paused else None)
    finally:
        await pool.aclose()
    earlier = f" (paused by Seawall since run {paused.paused_run})" if paused else ""
    return f"Before{earlier}: {name}: {snapshot.summary()}"


async def pause(ctx: StepContext) -> str:
    name = _name(ctx)
    target = target_of(settings_of(ctx.settings), name)
    pool = worker_pool(target)
    try:
        remembered = await load_paused(ctx.deps.redis, name)
        capacity = remembered.capacity if remembered else await pool.capacity()
        if capacity.units == 0:
            raise SeawallError(
                f"nothing takes work from {name} now (no worker consumes its queues, or 0 "
                "replicas) and Seawall paused nothing of it before: nothing to pause, nothing "
                "was changed"
            )
        record = await remember_pause(
            ctx.deps.redis,
            PausedTarget(
                target=name,
                capacity=capacity,
                paused_by=ctx.run.requested_by,
                paused_run=ctx.run.run_id,
                paused_at=ctx.deps.clock.now(),
            ),
        )
        done = await pool.scale(record.capacity, 0)
    finally:
        await pool.aclose()
    units = describe_units(target)
    return f"Paused {name}: {done}. Remembered {record.capacity.units} {units} as 100%"


async def after(ctx: StepContext) -> str:
    name = _name(ctx)
    target = target_of(settings_of(ctx.settings), name)
    paused = await load_paused(ctx.deps.redis, name)
    pool = worker_pool(target)
    try:
        snapshot = await pool.observe(paused.capacity if paused else None)
    finally:
        await pool.aclose()
    return (
        f"After: {name}: {snapshot.summary()}. Running tasks finish; nothing new starts. "
        f"Resume gradually: `/playbook {RESUME} {name}`"
    )


async def undo_pause(ctx: StepContext) -> str:
    """Roll back = resume, gradually: a resume-workers run, with its own step-back prompt."""
    name = _name(ctx)
    await ctx.deps.jobs.enqueue(
        "start_follow_up",
        key=f"{ctx.run.run_id}:{ctx.step.name}",
        playbook=RESUME,
        params={"target": name},
        requested_by=ctx.run.rollback_by or ctx.run.requested_by,
        channel=ctx.run.channel,
        incident_id=ctx.run.incident_id,
        origin=f"{ctx.run.run_id}:{ctx.step.name}",
    )
    return f"a {RESUME} run for {name} starts (gradual; it asks to confirm first)"


PLAYBOOK = Playbook(
    name="pause-workers",
    summary="Stop workers taking new work from a queue at once; resume later, gradually",
    params=Params,
    positional=("target",),
    steps=(
        Step(
            "look",
            "Look at {target}: queue depth and work in flight",
            look,
            idempotent=True,
            read_only=True,
        ),
        Step(
            "pause",
            "Pause {target}: its workers stop taking new work",
            pause,
            destructive=True,
            four_eyes_if=FOUR_EYES_IF_CONFIGURED,
            idempotent=True,  # pausing a paused target changes nothing, and remembers nothing new
            target="target",
            blast_radius="{target}'s workers take no new work: its queue grows until it is "
            "resumed; tasks already running (or prefetched) finish",
            rollback="Resume gradually: /playbook resume-workers {target}",
            undo=undo_pause,
        ),
        Step(
            "after",
            "Look at {target} after the pause",
            after,
            idempotent=True,
            read_only=True,
        ),
    ),
)

"""Rolling back what an ended run did: the undo code of each step that ran, latest first.

Started by the Roll back button on an aborted or failed run (playbooks/decisions.py). The
steps' undo code is the playbook's (`Step(undo=...)`) and, like an idempotent step, must be
safe to run twice: a worker killed mid-way is replaced and the queue runs this job again,
which skips what is already marked undone.
"""

from __future__ import annotations

import logging

from bot.core import keys
from bot.deps import Deps
from bot.models.run import PlaybookRun
from playbooks.definition import Playbook, StepContext
from playbooks.registry import Registry, load_registry
from playbooks.run_state import load_run, update_run

log = logging.getLogger("seawall.rollback")


async def roll_back_run(deps: Deps, run_id: str, registry: Registry | None = None) -> None:
    """Job: undo the run's undoable steps in reverse order, recording each on the card."""
    lease_key = keys.run_lease(run_id)
    token = await deps.store.acquire_lease(lease_key, keys.RUN_LEASE_MS)
    if token is None:  # the run's own job is still finishing: look again when it is done
        await deps.jobs.enqueue("roll_back_run", delay_s=1.0, run_id=run_id)
        return
    try:
        run = await load_run(deps, run_id)
        if run is None or run.rollback != "running":
            return
        registry = registry or load_registry(deps.config.playbook_modules)
        playbook = registry.get(run.playbook)
        for index in run.undoable:
            if not await _undo_step(deps, run, index, playbook):
                return
        await _finish(deps, run_id, "done", "↩️ Roll back done.")
    finally:
        await deps.store.release_lease(lease_key, token)


async def _undo_step(deps: Deps, run: PlaybookRun, index: int, playbook: Playbook | None) -> bool:
    record = run.steps[index]
    steps = playbook.steps if playbook is not None else ()
    definition = next((s for s in steps if s.name == record.name and s.undo), None)
    if playbook is None or definition is None or definition.undo is None:
        await _finish(deps, run.run_id, "failed", f"❌ Step {record.name} has no undo any more.")
        return False
    context = StepContext(
        deps=deps,
        run=run,
        params=playbook.params.model_validate(run.params),
        step=record,
        settings=playbook.settings_in(deps.config.playbooks),
        attempt=record.attempts,
        facts=dict(record.facts),
    )
    try:
        output = await definition.undo(context)
    except Exception as exc:
        log.exception("run %s: undo of %s failed", run.run_id, record.name)
        reason = str(exc) or type(exc).__name__
        await _finish(
            deps,
            run.run_id,
            "failed",
            f"❌ Undoing step {record.name} failed: {reason[:300]}. The roll back stopped; "
            f"finish it by hand: {record.rollback or 'see the playbook'}",
        )
        return False

    def undone(r: PlaybookRun) -> list[str] | None:
        step = r.steps[index]
        if step.rolled_back:
            return None
        step.rolled_back = True
        return [f"↩️ Step {step.name} undone. {output or ''}".strip()]

    await update_run(deps, run.run_id, undone)
    await deps.timeline.append(
        run.incident_id,
        "step",
        f"Step {record.name} rolled back. {output or ''}".strip(),
        actor=run.rollback_by or "seawall",
        ref=run.run_id,
    )
    return True


async def _finish(deps: Deps, run_id: str, outcome: str, reply: str) -> None:
    def finish(r: PlaybookRun) -> list[str] | None:
        if r.rollback != "running":
            return None
        r.rollback = "done" if outcome == "done" else "failed"
        return [reply]

    await update_run(deps, run_id, finish)


async def _roll_back_job(deps: Deps, run_id: str) -> None:
    await roll_back_run(deps, run_id)


JOBS = {"roll_back_run": _roll_back_job}

"""What pause-workers and resume-workers share: their settings (`playbooks.pause-workers` in
SEAWALL_CONFIG, the contract in DESIGN.md), the target a command names, the backend for it,
and what a paused target ran before, remembered in Redis.

```yaml
playbooks:
  pause-workers:
    targets:
      emails:  {backend: celery, broker: "redis://127.0.0.1:6379/1", queues: [emails]}
      billing: {backend: kubernetes, namespace: prod, deployment: billing-worker}
    ramp: [1, 25%, 50%, 100%]
    ramp_wait: 60s
```
A target may also say `four_eyes: true` (both playbooks then need a second person) and
`alerts: ['service="billing"', ...]` (Alertmanager matchers; a matching alert firing stops
the resume ramp). `ramp_continue: button` makes every ramp step wait for a Continue click.

The remembered record is changed only inside a WATCH transaction, so a pause and a resume
of one target never overwrite each other: a pause keeps what the target had before the first
pause (never "0 replicas"), and takes the target back from any resume ramping it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

import redis.asyncio as aioredis
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from redis.exceptions import WatchError

from bot.core import keys
from bot.core.durations import Duration
from bot.core.errors import SeawallError
from playbooks.definition import Condition
from playbooks.providers.workers import (
    Capacity,
    CeleryTarget,
    CommandTarget,
    KubernetesTarget,
    WorkerPool,
    WorkerTarget,
)
from playbooks.ramp import DEFAULT_RAMP, RampLevel
from playbooks.types import Identifier

SECTION = "pause-workers"  # both playbooks read this section of `playbooks:`
SCHEMA_VERSION = 1


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    targets: dict[Identifier, WorkerTarget] = Field(min_length=1)
    ramp: list[RampLevel] = Field(default_factory=lambda: list(DEFAULT_RAMP), min_length=1)
    ramp_wait: Duration = timedelta(seconds=60)
    ramp_continue: Literal["auto", "button"] = "auto"

    @field_validator("ramp_wait")
    @classmethod
    def _short_enough(cls, value: timedelta) -> timedelta:
        if not timedelta(0) < value <= timedelta(hours=6):
            raise ValueError("ramp_wait must be more than 0 s and at most 6h")
        return value


def settings_of(section: Mapping[str, Any]) -> Settings:
    """The validated settings, or a sentence naming what is wrong."""
    if not section:
        raise SeawallError(
            "pause-workers is not configured: add playbooks.pause-workers.targets to "
            "SEAWALL_CONFIG (docs/playbooks.md shows how); nothing was changed"
        )
    try:
        return Settings.model_validate(section)
    except ValidationError as exc:
        where = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:3]
        )
        raise SeawallError(
            f"playbooks.pause-workers in SEAWALL_CONFIG is not valid ({where}); nothing was changed"
        ) from exc


def target_of(settings: Settings, name: str) -> CeleryTarget | KubernetesTarget | CommandTarget:
    target = settings.targets.get(name)
    if target is None:
        known = ", ".join(sorted(settings.targets)) or "none"
        raise SeawallError(
            f"{name} is not a target of pause-workers (configured: {known}); nothing was changed"
        )
    return target


class Params(BaseModel):
    target: Identifier = Field(
        description="a target configured in playbooks.pause-workers.targets (e.g. emails)"
    )

    @field_validator("target")
    @classmethod
    def _configured(cls, value: str, info: ValidationInfo) -> str:
        """Only configured targets: checked where the command arrives (the settings come as
        the validation context). Stored runs are validated without it: the steps check
        again against the settings of the moment."""
        settings = (info.context or {}).get("settings") if info.context else None
        if settings is None:
            return value
        targets = settings.get("targets") if isinstance(settings, Mapping) else None
        if not isinstance(targets, Mapping) or value not in targets:
            known = ", ".join(sorted(targets)) if isinstance(targets, Mapping) else "none"
            raise ValueError(f"not a configured target (configured: {known})")
        return value


def _four_eyes(params: BaseModel, settings: Mapping[str, Any]) -> bool:
    """Fails safe: settings that cannot be read ask for the second person too."""
    try:
        target = settings["targets"][params.model_dump()["target"]]
        return bool(target.get("four_eyes", False))
    except (KeyError, TypeError, AttributeError):
        return True


FOUR_EYES_IF_CONFIGURED = Condition(
    test=_four_eyes, words="when the target is configured with four_eyes: true"
)


def worker_pool(target: CeleryTarget | KubernetesTarget | CommandTarget) -> WorkerPool:
    """The backend for this target, imported only when a target uses it."""
    if isinstance(target, CeleryTarget):
        from playbooks.providers.celery_workers import CeleryWorkers

        return CeleryWorkers(target)
    if isinstance(target, KubernetesTarget):
        from playbooks.providers.kubernetes_workers import DeploymentWorkers

        return DeploymentWorkers(target)
    from playbooks.providers.command_workers import CommandWorkers

    return CommandWorkers(target)


class PausedTarget(BaseModel):
    """What Seawall remembers about a target it paused (keys.paused_target)."""

    schema_version: int = SCHEMA_VERSION
    target: str
    capacity: Capacity
    paused_by: str
    paused_run: str
    paused_at: datetime
    resumed_by_run: str | None = None  # the resume-workers run ramping it back, if any
    # Set when that run reached 100%: the target is no longer paused, but the record stays a
    # day, so a re-run of the ramp's last step after a crash still finds it is its own.
    resumed_at: datetime | None = None


async def _load(redis: aioredis.Redis, target: str) -> PausedTarget | None:
    raw = await redis.get(keys.paused_target(target))
    return PausedTarget.model_validate_json(raw) if raw else None


async def load_paused(redis: aioredis.Redis, target: str) -> PausedTarget | None:
    """What Seawall remembers of a target it paused, or None when it is not paused."""
    record = await _load(redis, target)
    return record if record is not None and record.resumed_at is None else None


async def remember_pause(redis: aioredis.Redis, fresh: PausedTarget) -> PausedTarget:
    """Record a pause. A target paused before keeps the capacity it had then (pausing twice
    must not remember 0 as its size); the pause takes it back from any resume in progress."""
    key = keys.paused_target(fresh.target)
    while True:
        async with redis.pipeline(transaction=True) as pipe:
            try:
                await pipe.watch(key)
                raw = await pipe.get(key)
                old = PausedTarget.model_validate_json(raw) if raw else None
                record = fresh
                if old is not None and old.resumed_at is None:
                    record = old.model_copy(
                        update={
                            "paused_by": fresh.paused_by,
                            "paused_run": fresh.paused_run,
                            "resumed_by_run": None,
                        }
                    )
                pipe.multi()
                pipe.set(key, record.model_dump_json())
                await pipe.execute()
                return record
            except WatchError:
                continue


async def claim_resume(
    redis: aioredis.Redis,
    target: str,
    run_id: str,
    *,
    other_is_live: Callable[[str], Awaitable[bool]],
) -> PausedTarget:
    """This run ramps the target back from now on. Refused while another unfinished resume
    run holds it (an aborted or finished one is taken over), or when nothing is remembered."""

    def claim(record: PausedTarget | None, holder_live: bool) -> PausedTarget:
        if record is None or (record.resumed_at is not None and record.resumed_by_run != run_id):
            raise SeawallError(f"{target} is not paused by Seawall any more; nothing was changed")
        if record.resumed_by_run not in (None, run_id) and holder_live:
            raise SeawallError(
                f"{target} is already being resumed by run {record.resumed_by_run}; abort that "
                "run first. Nothing was changed"
            )
        return record.model_copy(update={"resumed_by_run": run_id})

    key = keys.paused_target(target)
    while True:
        async with redis.pipeline(transaction=True) as pipe:
            try:
                await pipe.watch(key)
                raw = await pipe.get(key)
                record = PausedTarget.model_validate_json(raw) if raw else None
                holder = record.resumed_by_run if record else None
                live = holder not in (None, run_id) and await other_is_live(str(holder))
                claimed = claim(record, live)
                pipe.multi()
                pipe.set(key, claimed.model_dump_json())
                await pipe.execute()
                return claimed
            except WatchError:
                continue


async def owned_by(redis: aioredis.Redis, target: str, run_id: str) -> PausedTarget:
    """The record, if this run still ramps the target; else why the ramp must stop."""
    record = await _load(redis, target)
    if record is None:
        raise SeawallError(f"{target} is no longer remembered as paused; the ramp stopped here")
    if record.resumed_by_run != run_id:
        raise SeawallError(
            f"{target} was paused again (run {record.paused_run}) while this ramp waited; the "
            "ramp stopped here and resumed nothing more"
        )
    return record


async def mark_resumed(redis: aioredis.Redis, target: str, run_id: str, now: datetime) -> None:
    """This run brought the target back to 100%: it is not paused any more. The record
    expires a day later (keys.paused_target); a pause meanwhile starts a fresh one."""
    key = keys.paused_target(target)
    while True:
        async with redis.pipeline(transaction=True) as pipe:
            try:
                await pipe.watch(key)
                raw = await pipe.get(key)
                record = PausedTarget.model_validate_json(raw) if raw else None
                if record is None or record.resumed_by_run != run_id:
                    return
                done = record.model_copy(update={"resumed_at": record.resumed_at or now})
                pipe.multi()
                pipe.set(key, done.model_dump_json(), ex=keys.PAUSED_TARGET_RESUMED_TTL_S)
                await pipe.execute()
                return
            except WatchError:
                continue


def preflight(
    sections: Mapping[str, Any], alertmanager_url: str | None
) -> tuple[list[str], list[str]]:
    """What `seawall check` says about pause-workers: (problems, warnings), both empty when it
    is not configured. Settings only: reaching each broker or cluster is left to the run."""
    section = sections.get(SECTION)
    if not section:
        return [], []
    try:
        settings = settings_of(section)
    except SeawallError as exc:
        return [str(exc).removesuffix("; nothing was changed")], []
    warnings = [
        f"pause-workers: target {name} watches alerts but ALERTMANAGER_URL is not set: its "
        "resume ramp will stop at every step"
        for name, target in sorted(settings.targets.items())
        if target.alerts and not alertmanager_url
    ]
    return [], warnings

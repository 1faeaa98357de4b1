"""Worker pools that pause-workers and resume-workers act on: one Protocol, one backend per
module (Celery, Kubernetes Deployment, configured commands), picked by a target's `backend`.

A pool is scaled to an absolute number of *units* (pool slots for Celery, replicas
otherwise): 0 is paused, the capacity it had when it was paused is fully resumed. Setting
the same level twice changes nothing, so a step interrupted by a dead worker can simply run
again; that is what lets a resume never jump to 100% after a crash. What a pool had before
it was paused (`Capacity`) is remembered in Redis by the playbooks, not here.

The factory (`playbooks/pausing.py: worker_pool`) imports a backend only when a target uses
it, as saq's `Queue.from_url` does: kubernetes_asyncio alone adds most of a second to every
worker start.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from bot.core.errors import ExternalServiceError
from playbooks.types import Identifier

# A Kubernetes object name (RFC 1123 subdomain) and namespace (RFC 1123 label).
K8S_NAME = r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"
K8S_NAMESPACE = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
# An Alertmanager matcher as written in its API's `filter`: name, operator, quoted value.
MATCHER = r'^[a-zA-Z_][a-zA-Z0-9_]*(=|!=|=~|!~)"([^"\\]|\\.)*"$'


class KubernetesAccess(BaseModel):
    """How to reach a cluster: in-cluster service account when Seawall runs in a pod, else
    the kubeconfig (its current context, or `context`); `api_url` overrides both (no auth:
    for a local proxy such as `kubectl proxy`, and for tests)."""

    model_config = ConfigDict(extra="forbid")

    api_url: str | None = None
    context: str | None = None


class _Target(BaseModel):
    model_config = ConfigDict(extra="forbid")

    four_eyes: bool = Field(default=False, description="pause and resume need a second person")
    alerts: list[Annotated[str, Field(pattern=MATCHER)]] = Field(
        default_factory=list,
        description='Alertmanager matchers (`service="billing"`); any alert matching them '
        "all that is firing stops the resume ramp",
    )
    broker: str | None = Field(default=None, description="where the queue lives (queue depth)")
    queues: list[Identifier] = Field(default_factory=list)


class CeleryTarget(_Target):
    backend: Literal["celery"]
    broker: str
    queues: list[Identifier] = Field(min_length=1)
    control_timeout: float = Field(
        default=1.0, gt=0, le=30, description="seconds to wait for workers' replies"
    )


class KubernetesTarget(_Target, KubernetesAccess):
    backend: Literal["kubernetes"]
    namespace: Annotated[str, Field(pattern=K8S_NAMESPACE)]
    deployment: Annotated[str, Field(pattern=K8S_NAME, max_length=253)]


class CommandTarget(_Target):
    """Anything else (systemd units, docker compose...): `scale` is an argv list run without
    a shell, `{replicas}` in an argument replaced by the number of replicas wanted."""

    backend: Literal["command"]
    scale: list[str] = Field(min_length=1)
    replicas: int = Field(ge=1, le=10_000, description="how many run when fully resumed")
    timeout: float = Field(default=30.0, gt=0, le=600)


WorkerTarget = Annotated[
    CeleryTarget | KubernetesTarget | CommandTarget, Field(discriminator="backend")
]


class Capacity(BaseModel):
    """What a target ran before it was paused: what 100% means when it resumes."""

    units: int  # total units (pool slots or replicas)
    workers: list[WorkerRecord] = Field(default_factory=list)  # Celery: one per worker


class WorkerRecord(BaseModel):
    name: str
    size: int  # pool slots when fully on
    resizable: bool = False  # Seawall may shrink its pool (prefork, serving only this target)
    prefetch: int = 0  # prefetch per slot, to read the pool size the worker is at now


Capacity.model_rebuild()


@dataclass(frozen=True)
class Snapshot:
    """What a target's workers are doing now. None: this backend cannot tell."""

    queue_depth: int | None  # messages waiting in the target's queues
    active: int | None  # tasks being worked on now
    reserved: int | None  # prefetched by workers: they still run after a pause
    running: int | None  # units taking new work now
    workers: tuple[str, ...] = field(default_factory=tuple)  # who takes new work now

    def summary(self) -> str:
        parts = []
        if self.queue_depth is not None:
            parts.append(f"{self.queue_depth:,} waiting")
        if self.active is not None:
            parts.append(f"{self.active} running now")
        if self.reserved:
            parts.append(f"{self.reserved} prefetched (they still run)")
        if self.running is not None:
            names = f": {', '.join(self.workers[:5])}" if self.workers else ""
            more = f" +{len(self.workers) - 5}" if len(self.workers) > 5 else ""
            parts.append(f"{self.running} taking new work{names}{more}")
        return "; ".join(parts) or "nothing to see"


class WorkerPool(Protocol):
    """One target's workers."""

    async def observe(self, capacity: Capacity | None = None) -> Snapshot:
        """Queue depth and work in flight now (reads only); `capacity`, when remembered,
        lets a backend tell how much of it runs."""
        ...

    async def capacity(self) -> Capacity:
        """What runs now: remembered before a pause, as what resuming brings back."""
        ...

    async def scale(self, capacity: Capacity, units: int) -> str:
        """Take work with `units` of `capacity` (0: paused). Absolute and idempotent.
        Returns one line saying what changed."""
        ...

    async def aclose(self) -> None: ...


async def queue_depth(broker: str | None, queues: list[str]) -> int | None:
    """Messages waiting in these queues on the broker (any kombu transport), None when no
    broker is configured. A queue the broker does not know holds nothing."""
    if not broker or not queues:
        return None
    return await asyncio.to_thread(_queue_depth, broker, queues)


def _queue_depth(broker: str, queues: list[str]) -> int:
    # Imported here: only targets with a broker need kombu (and it costs every worker start).
    from kombu.connection import Connection
    from kombu.exceptions import ChannelError, OperationalError

    total = 0
    try:
        # Three quick retries: a person waits on this (as for Celery's remote control).
        retry = {"max_retries": 3, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
        with Connection(  # type: ignore[no-untyped-call]
            broker, connect_timeout=3, transport_options=retry
        ) as conn:
            conn.ensure_connection(**retry)
            for queue in queues:
                # A channel per queue: on AMQP a NOT_FOUND closes the channel it came on.
                with conn.channel() as channel:
                    try:
                        total += channel.queue_declare(queue=queue, passive=True).message_count
                    except ChannelError:
                        continue  # NOT_FOUND: a queue nobody declared yet holds nothing
    except (OperationalError, OSError) as exc:
        raise ExternalServiceError(f"the broker could not be reached ({exc})") from exc
    return total


def describe_units(target: Any) -> str:
    """What a unit is for this target, for the cards."""
    return "pool slots" if isinstance(target, CeleryTarget) else "replicas"

"""A playbook whose one step keeps a worker's CPU busy, for the ack-latency benchmark."""

from __future__ import annotations

import asyncio
import hashlib
import time

from pydantic import BaseModel, Field

from playbooks.definition import Playbook, Step, StepContext


class Params(BaseModel):
    seconds: float = Field(default=30.0, ge=1, le=600, description="how long to stay busy")


def burn_cpu(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    digest = b""
    while time.monotonic() < deadline:
        digest = hashlib.sha256(digest).digest()


async def burn(ctx: StepContext) -> str:
    # A core kept busy, the way a well-written step does blocking work: in a thread, so the
    # worker's event loop (heartbeats, run lease, card posting) keeps going.
    seconds = float(ctx.params.model_dump()["seconds"])
    await asyncio.to_thread(burn_cpu, seconds)
    return f"burned {seconds:.0f}s of CPU"


PLAYBOOK = Playbook(
    name="busy",
    summary="Keep a worker busy (benchmarks only)",
    params=Params,
    steps=(Step("burn", "Burn CPU for {seconds}s", burn, idempotent=True, read_only=True),),
)

"""Quarantine behind HAProxy: bring a spare in, drain the target, then maintenance; it keeps
running, out of rotation. Never the last server up in its backend (no role makes an outage a
quarantine), checked when the run starts and again against HAProxy's state when it acts."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from pydantic import BaseModel, Field

from bot.core.errors import SeawallError
from playbooks.providers.haproxy import HAProxy, ServerState
from playbooks.types import Identifier

SPARE_FACT = "spare"  # the spare this run brought in (restore puts it back in maintenance)


class HAProxySettings(BaseModel):
    provider: str = "haproxy"
    haproxy_socket: str
    backend: Identifier
    spares: list[Identifier] = Field(default_factory=list)
    drain_seconds: float = Field(default=30.0, ge=0, le=600)
    debug_hint: str = "ssh {target}"


def serving(state: ServerState) -> bool:
    """Taking traffic now: up, and neither in maintenance nor draining."""
    return state.op_state == "UP" and not state.in_maintenance and not state.draining


def spare_to_bring_in(states: Sequence[ServerState], spares: Sequence[str]) -> str | None:
    """The first configured spare that exists and is not serving yet (None: none needed or
    none left)."""
    by_name = {s.name: s for s in states}
    if any(name in by_name and serving(by_name[name]) for name in spares):
        return None  # a spare is already serving
    return next((name for name in spares if name in by_name), None)


def last_server_refusal(
    states: Sequence[ServerState], backend: str, target: str, spare: str | None
) -> str | None:
    """Why taking `target` out would leave `backend` with no server up, or None."""
    target_state = next((s for s in states if s.name == target), None)
    if target_state is None or not serving(target_state):
        return None  # it serves nothing now: taking it out loses nothing
    others = [s for s in states if s.name != target and serving(s)]
    if others or spare is not None:
        return None
    return f"{target} is the last server up in backend {backend}; bring a spare in first"


class HAProxyIsolation:
    def __init__(self, settings: HAProxySettings) -> None:
        self.settings = settings
        self.api = HAProxy(settings.haproxy_socket)

    async def aclose(self) -> None:
        return None

    async def _plan(self, target: str) -> tuple[ServerState, str | None]:
        """The target's state and the spare to bring in; refuses the last server up."""
        states = await self.api.servers(self.settings.backend)
        server = next((s for s in states if s.name == target), None)
        if server is None:
            raise SeawallError(f"backend {self.settings.backend} has no server {target!r}")
        spare = spare_to_bring_in(states, self.settings.spares)
        refusal = last_server_refusal(states, self.settings.backend, target, spare)
        if refusal:
            raise SeawallError(f"{refusal}. Nothing was changed")
        return server, spare

    async def check(self, target: str) -> str:
        server, spare = await self._plan(target)
        sessions = await self.api.sessions(self.settings.backend, target)
        plan = f"; {spare} will come in first" if spare else ""
        return (
            f"{target} is {server.label} in backend {self.settings.backend}, {sessions} "
            f"sessions{plan}"
        )

    async def isolate(self, target: str, facts: dict[str, str]) -> str:
        backend = self.settings.backend
        _, spare = await self._plan(target)  # again now: servers may have gone down meanwhile
        done = []
        if spare is not None:
            await self.api.set_state(backend, spare, "ready")
            facts[SPARE_FACT] = spare
            done.append(f"{spare} is now serving")
        await self.api.set_state(backend, target, "drain")
        waited = 0.0
        while waited < self.settings.drain_seconds and await self.api.sessions(backend, target):
            await asyncio.sleep(1.0)
            waited += 1.0
        await self.api.set_state(backend, target, "maint")
        done.append(f"{target} drained for {waited:.0f}s, now in maintenance (still running)")
        return "; ".join(done)

    async def restore(self, target: str, facts: dict[str, str]) -> str:
        await self.api.set_state(self.settings.backend, target, "ready")
        undone = [f"{target} is serving again"]
        spare = facts.get(SPARE_FACT)
        if spare:
            await self.api.set_state(self.settings.backend, spare, "maint")
            undone.append(f"{spare} is back in maintenance")
        return "; ".join(undone)

    async def report(self, target: str) -> str:
        server = await self.api.server(self.settings.backend, target)
        hint = self.settings.debug_hint.replace("{target}", target)
        return (
            f"{target} is {server.label}, out of rotation and kept alive: debug it with "
            f"`{hint}`. To bring it back: `set server {self.settings.backend}/{target} state ready`"
        )

"""Quarantine a faulty server: bring in a spare, take the server out of rotation, and keep it
running so someone can connect and debug it. HAProxy runtime API (playbooks/providers).

SEAWALL_CONFIG:
    playbooks:
      quarantine:
        haproxy_socket: /run/haproxy/admin.sock   # or ipv4@127.0.0.1:9999
        backend: web                              # HAProxy backend of the servers
        spares: [web-spare-1]                     # servers kept in maintenance until needed
        drain_seconds: 30                         # how long current sessions may finish
        debug_hint: "ssh {target}"                # how to reach a quarantined server
"""

from __future__ import annotations

import asyncio

from pydantic import BaseModel, Field, ValidationError

from bot.core.errors import SeawallError
from playbooks.definition import Playbook, Step, StepContext
from playbooks.providers.haproxy import HAProxy
from playbooks.types import Hostname, Identifier


class Params(BaseModel):
    target: Hostname = Field(description="the faulty server, as HAProxy names it (e.g. web-3)")


class Settings(BaseModel):
    haproxy_socket: str
    backend: Identifier
    spares: list[Identifier] = Field(default_factory=list)
    drain_seconds: float = Field(default=30.0, ge=0, le=600)
    debug_hint: str = "ssh {target}"


def settings_of(ctx: StepContext) -> Settings:
    try:
        return Settings.model_validate(ctx.settings)
    except ValidationError as exc:
        raise SeawallError(
            "quarantine is not configured: set playbooks.quarantine.haproxy_socket and "
            "backend in SEAWALL_CONFIG"
        ) from exc


def target_of(ctx: StepContext) -> str:
    return str(ctx.params.model_dump()["target"])


async def check(ctx: StepContext) -> str:
    settings, target = settings_of(ctx), target_of(ctx)
    api = HAProxy(settings.haproxy_socket)
    server = await api.server(settings.backend, target)
    sessions = await api.sessions(settings.backend, target)
    return f"{target} is {server.label} in backend {settings.backend}, {sessions} sessions"


async def bring_in_spare(ctx: StepContext) -> str:
    settings = settings_of(ctx)
    if not settings.spares:
        return "No spare is configured: the backend runs one server short for now"
    api = HAProxy(settings.haproxy_socket)
    states = {s.name: s for s in await api.servers(settings.backend)}
    for name in settings.spares:
        state = states.get(name)
        if state is not None and not state.in_maintenance:
            return f"{name} is already serving"
    for name in settings.spares:
        if name in states:
            await api.set_state(settings.backend, name, "ready")
            return f"{name} is now serving in backend {settings.backend}"
    return "None of the configured spares exists in HAProxy; nothing was enabled"


async def isolate(ctx: StepContext) -> str:
    settings, target = settings_of(ctx), target_of(ctx)
    api = HAProxy(settings.haproxy_socket)
    await api.set_state(settings.backend, target, "drain")
    waited = 0.0
    while waited < settings.drain_seconds and await api.sessions(settings.backend, target) > 0:
        await asyncio.sleep(1.0)
        waited += 1.0
    await api.set_state(settings.backend, target, "maint")
    return f"{target} drained for {waited:.0f}s, now in maintenance (still running)"


async def report(ctx: StepContext) -> str:
    settings, target = settings_of(ctx), target_of(ctx)
    server = await HAProxy(settings.haproxy_socket).server(settings.backend, target)
    hint = settings.debug_hint.replace("{target}", target)
    return (
        f"{target} is {server.label}, out of rotation and kept alive: debug it with `{hint}`. "
        f"To bring it back: `set server {settings.backend}/{target} state ready`"
    )


PLAYBOOK = Playbook(
    name="quarantine",
    summary="Take a faulty server out of rotation, keep it alive for debugging, use a spare",
    params=Params,
    positional=("target",),
    steps=(
        Step("check", "Check that {target} is a server in HAProxy", check, idempotent=True),
        Step(
            "spare",
            "Bring a spare server into rotation before {target} leaves it",
            bring_in_spare,
            idempotent=True,
        ),
        Step(
            "isolate",
            "Take {target} out of rotation: drain its sessions, then maintenance",
            isolate,
            destructive=True,
            high_risk=True,
            idempotent=True,  # setting a server state again is harmless
            target="target",
            blast_radius="{target} stops receiving new traffic; its open sessions may finish "
            "(drain); the backend serves with the others and the spare",
            rollback="On HAProxy's admin socket: set server <backend>/{target} state ready",
        ),
        Step("report", "Say how to reach {target} for debugging", report, idempotent=True),
    ),
)

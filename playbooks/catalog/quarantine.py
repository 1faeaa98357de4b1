"""Quarantine a faulty server: take it out of rotation (bringing a spare in first) and keep it
running so someone can connect and debug it. HAProxy runtime API (playbooks/providers).

Nothing changes before the step-back prompt: the first step only reads and refuses a
quarantine that would leave the backend with no server up; the one step that changes
anything (`swap`) is gated, checks that rule again against HAProxy's state at the moment it
runs, and can be rolled back (the server back in, the spare back out).

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
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from bot.core.errors import SeawallError
from playbooks.definition import Playbook, Step, StepContext
from playbooks.providers.haproxy import HAProxy, ServerState
from playbooks.types import Hostname, Identifier

SPARE_FACT = "spare"  # the spare this run brought in (its undo puts it back in maintenance)


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
    """Why taking `target` out would leave `backend` with no server up, or None. Applies to
    whoever asks: no role makes an outage a quarantine."""
    target_state = next((s for s in states if s.name == target), None)
    if target_state is None or not serving(target_state):
        return None  # it serves nothing now: taking it out loses nothing
    others = [s for s in states if s.name != target and serving(s)]
    if others or spare is not None:
        return None
    return f"{target} is the last server up in backend {backend}; bring a spare in first"


async def check(ctx: StepContext) -> str:
    settings, target = settings_of(ctx), target_of(ctx)
    api = HAProxy(settings.haproxy_socket)
    states = await api.servers(settings.backend)
    server = next((s for s in states if s.name == target), None)
    if server is None:
        raise SeawallError(f"backend {settings.backend} has no server {target!r}")
    spare = spare_to_bring_in(states, settings.spares)
    refusal = last_server_refusal(states, settings.backend, target, spare)
    if refusal:
        raise SeawallError(f"{refusal}. Nothing was changed")
    sessions = await api.sessions(settings.backend, target)
    plan = f"; {spare} will come in first" if spare else ""
    return f"{target} is {server.label} in backend {settings.backend}, {sessions} sessions{plan}"


async def swap(ctx: StepContext) -> str:
    settings, target = settings_of(ctx), target_of(ctx)
    api = HAProxy(settings.haproxy_socket)
    # Checked again now, not when the run started: servers may have gone down meanwhile.
    states = await api.servers(settings.backend)
    spare = spare_to_bring_in(states, settings.spares)
    refusal = last_server_refusal(states, settings.backend, target, spare)
    if refusal:
        raise SeawallError(f"{refusal}. Nothing was changed")
    done = []
    if spare is not None:
        await api.set_state(settings.backend, spare, "ready")
        ctx.facts[SPARE_FACT] = spare
        done.append(f"{spare} is now serving")
    await api.set_state(settings.backend, target, "drain")
    waited = 0.0
    while waited < settings.drain_seconds and await api.sessions(settings.backend, target) > 0:
        await asyncio.sleep(1.0)
        waited += 1.0
    await api.set_state(settings.backend, target, "maint")
    done.append(f"{target} drained for {waited:.0f}s, now in maintenance (still running)")
    return "; ".join(done)


async def undo_swap(ctx: StepContext) -> str:
    settings, target = settings_of(ctx), target_of(ctx)
    api = HAProxy(settings.haproxy_socket)
    await api.set_state(settings.backend, target, "ready")
    undone = [f"{target} is serving again"]
    spare = ctx.facts.get(SPARE_FACT)
    if spare:
        await api.set_state(settings.backend, spare, "maint")
        undone.append(f"{spare} is back in maintenance")
    return "; ".join(undone)


async def report(ctx: StepContext) -> str:
    settings, target = settings_of(ctx), target_of(ctx)
    server = await HAProxy(settings.haproxy_socket).server(settings.backend, target)
    hint = settings.debug_hint.replace("{target}", target)
    return (
        f"{target} is {server.label}, out of rotation and kept alive: debug it with `{hint}`. "
        f"To bring it back: `set server {settings.backend}/{target} state ready`"
    )


def spare_texts(settings: Mapping[str, Any]) -> dict[str, str]:
    """How the swap's blast radius and rollback name the spare, from the settings as they are
    when the run starts (not validated yet: anything odd reads as no spare). Which spare comes
    in is decided when the swap runs: the first configured one HAProxy has, unless one
    already serves; with one spare that is it, with several the run card says which."""
    raw = settings.get("spares")
    spares = [str(s) for s in raw if isinstance(s, str)] if isinstance(raw, list) else []
    backend = str(settings.get("backend") or "<backend>")
    if not spares:
        return {"spare_in": "", "spare_back": ""}
    if len(spares) == 1:
        return {
            "spare_in": f" and the spare {spares[0]}",
            "spare_back": f"; if the run brought {spares[0]} in (the run card says so), put it "
            f"back: set server {backend}/{spares[0]} state maint",
        }
    names = ", ".join(spares)
    return {
        "spare_in": f" and a spare (the first of {names} that HAProxy has)",
        "spare_back": f"; put back the spare the run brought in (one of {names}; the run card "
        f"says which): set server {backend}/<that spare> state maint",
    }


PLAYBOOK = Playbook(
    name="quarantine",
    summary="Take a faulty server out of rotation, keep it alive for debugging, use a spare",
    params=Params,
    positional=("target",),
    texts=spare_texts,
    steps=(
        Step(
            "check",
            "Check that {target} is a server in HAProxy and is not the last one up",
            check,
            idempotent=True,
            read_only=True,
        ),
        Step(
            "swap",
            "Bring a spare in, then take {target} out of rotation: drain, then maintenance",
            swap,
            destructive=True,
            high_risk=True,
            idempotent=True,  # setting a server state again is harmless
            target="target",
            blast_radius="{target} stops receiving new traffic; its open sessions may finish "
            "(drain); backend {backend} serves with its other servers{spare_in}",
            rollback="On HAProxy's admin socket: set server {backend}/{target} state ready"
            "{spare_back}",
            undo=undo_swap,
        ),
        Step(
            "report",
            "Say how to reach {target} for debugging",
            report,
            idempotent=True,
            read_only=True,
        ),
    ),
)

"""Quarantine a faulty server: take it out of service and keep it running so someone can
connect and debug it. Two providers (playbooks/providers/isolation.py), chosen by
`provider`: HAProxy (the default: a spare comes in, the server drains, then maintenance) or
Kubernetes (the pod is relabelled out of its ReplicaSet and Service; a replacement starts).

Nothing changes before the step-back prompt: the first step only reads and refuses taking
out the last one serving; the one step that changes anything (`swap` for HAProxy, `relabel`
for Kubernetes: only one is in a run's plan) is gated, checks that rule again at the moment
it runs, and can be rolled back.

SEAWALL_CONFIG:
    playbooks:
      quarantine:
        provider: haproxy                         # default
        haproxy_socket: /run/haproxy/admin.sock   # or ipv4@127.0.0.1:9999
        backend: web                              # HAProxy backend of the servers
        spares: [web-spare-1]                     # servers kept in maintenance until needed
        drain_seconds: 30                         # how long current sessions may finish
        debug_hint: "ssh {target}"                # how to reach a quarantined server
    # or, on Kubernetes:
    #   quarantine: {provider: kubernetes, namespace: prod, selector_label: app,
    #                cordon_node: false, exec_command: sh}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from bot.core.errors import SeawallError
from playbooks.definition import Condition, Playbook, Step, StepContext
from playbooks.providers.haproxy_isolation import HAProxyIsolation, HAProxySettings
from playbooks.providers.isolation import Isolator
from playbooks.types import Hostname


class Params(BaseModel):
    target: Hostname = Field(
        description="the faulty server, as HAProxy names it (e.g. web-3), or the pod's name"
    )


def _provider(settings: Mapping[str, Any]) -> str:
    return str(settings.get("provider", "haproxy"))


def isolator_of(ctx: StepContext) -> Isolator:
    try:
        if _provider(ctx.settings) == "kubernetes":
            from playbooks.providers.kubernetes_isolation import (
                KubernetesIsolation,
                KubernetesSettings,
            )

            return KubernetesIsolation(KubernetesSettings.model_validate(ctx.settings))
        return HAProxyIsolation(HAProxySettings.model_validate(ctx.settings))
    except ValidationError as exc:
        raise SeawallError(
            "quarantine is not configured: set playbooks.quarantine.haproxy_socket and backend "
            "(HAProxy), or provider: kubernetes and namespace, in SEAWALL_CONFIG; "
            f"{exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}"
        ) from exc


def target_of(ctx: StepContext) -> str:
    return str(ctx.params.model_dump()["target"])


async def check(ctx: StepContext) -> str:
    isolator = isolator_of(ctx)
    try:
        return await isolator.check(target_of(ctx))
    finally:
        await isolator.aclose()


async def isolate(ctx: StepContext) -> str:
    isolator = isolator_of(ctx)
    try:
        return await isolator.isolate(target_of(ctx), ctx.facts)
    finally:
        await isolator.aclose()


async def restore(ctx: StepContext) -> str:
    isolator = isolator_of(ctx)
    try:
        return await isolator.restore(target_of(ctx), ctx.facts)
    finally:
        await isolator.aclose()


async def report(ctx: StepContext) -> str:
    isolator = isolator_of(ctx)
    try:
        return await isolator.report(target_of(ctx))
    finally:
        await isolator.aclose()


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


def step_texts(settings: Mapping[str, Any]) -> dict[str, str]:
    """The placeholders of the steps' texts that settings decide: the spare (HAProxy), and the
    label and namespace with their defaults (Kubernetes)."""
    return {
        **spare_texts(settings),
        "selector_label": str(settings.get("selector_label") or "app"),
        "namespace": str(settings.get("namespace") or "<namespace>"),
    }


ON_HAPROXY = Condition(lambda _, s: _provider(s) != "kubernetes", "with provider: haproxy")
ON_KUBERNETES = Condition(lambda _, s: _provider(s) == "kubernetes", "with provider: kubernetes")

PLAYBOOK = Playbook(
    name="quarantine",
    summary="Take a faulty server out of rotation, keep it alive for debugging, use a spare",
    params=Params,
    positional=("target",),
    texts=step_texts,
    steps=(
        Step(
            "check",
            "Check that {target} can be taken out of service and is not the last one up",
            check,
            idempotent=True,
            read_only=True,
        ),
        Step(
            "swap",
            "Bring a spare in, then take {target} out of rotation: drain, then maintenance",
            isolate,
            destructive=True,
            high_risk=True,
            idempotent=True,  # setting a server state again is harmless
            target="target",
            blast_radius="{target} stops receiving new traffic; its open sessions may finish "
            "(drain); backend {backend} serves with its other servers{spare_in}",
            rollback="On HAProxy's admin socket: set server {backend}/{target} state ready"
            "{spare_back}",
            undo=restore,
            only_if=ON_HAPROXY,
        ),
        Step(
            "relabel",
            "Relabel pod {target} out of its ReplicaSet and Service (a replacement starts; "
            "it keeps running), and cordon its node if configured",
            isolate,
            destructive=True,
            high_risk=True,
            idempotent=True,  # a relabelled pod is recognised by its annotation
            target="target",
            blast_radius="{target} leaves its Service's endpoints at once; its ReplicaSet "
            "starts a replacement; the others serve meanwhile",
            rollback="kubectl -n {namespace} label pod {target} {selector_label}=<the value in "
            "its seawall.dev/quarantined-from annotation> quarantine- --overwrite (the "
            "ReplicaSet then removes one pod too many), and uncordon the node if Seawall did",
            undo=restore,
            only_if=ON_KUBERNETES,
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

"""Quarantine on Kubernetes: relabel the pod so it leaves its ReplicaSet's selector and its
Service's endpoints. The ReplicaSet starts a replacement; the pod keeps running, reachable
with `kubectl exec`. The selector label (e.g. `app: api`) becomes `api-quarantined`,
`quarantine: "true"` is added, and the old value is kept in an annotation, so restoring (or
a re-run after a crash) knows it. Optionally the pod's node is cordoned (only a node Seawall
cordoned is uncordoned again).

Never the only Ready pod of its selector: until its replacement is ready, the Service would
have no endpoint. Checked when the run starts and again right before the relabel.
"""

from __future__ import annotations

import shlex
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from bot.core.errors import SeawallError
from playbooks.providers.kubernetes import KubernetesApi, PodView
from playbooks.providers.workers import K8S_NAMESPACE, KubernetesAccess

QUARANTINE_LABEL = "quarantine"
ORIGINAL = "seawall.dev/quarantined-from"  # annotation: "<label>=<value>" before the relabel
SUFFIX = "-quarantined"
LABEL_KEY = r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
CORDONED_FACT = "cordoned"


class KubernetesSettings(KubernetesAccess):
    model_config = ConfigDict(extra="forbid")

    provider: Literal["kubernetes"]
    namespace: Annotated[str, Field(pattern=K8S_NAMESPACE)]
    selector_label: Annotated[str, Field(pattern=LABEL_KEY)] = "app"
    cordon_node: bool = False
    exec_command: str = Field(default="sh", pattern=r"^[A-Za-z0-9_./ -]{1,100}$")
    container: str | None = Field(default=None, pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


class KubernetesIsolation:
    def __init__(self, settings: KubernetesSettings) -> None:
        self.settings = settings
        self.api = KubernetesApi(settings)

    async def aclose(self) -> None:
        await self.api.aclose()

    @property
    def _label(self) -> str:
        return self.settings.selector_label

    async def _plan(self, target: str) -> tuple[PodView, str, int]:
        """The pod, the selector value it serves under, and how many others are Ready; refuses
        a pod that is not part of a selector, already quarantined, or the only Ready one."""
        pod = await self._pod(target)
        if pod.labels.get(QUARANTINE_LABEL) == "true":
            raise SeawallError(f"pod {target} is already quarantined; nothing was changed")
        value = pod.labels.get(self._label)
        if not value:
            raise SeawallError(
                f"pod {target} has no {self._label} label, so it serves no selector Seawall "
                "knows of; nothing was changed"
            )
        selector = f"{self._label}={value}"
        peers = await self.api.pods(self.settings.namespace, selector)
        others = sum(1 for p in peers if p.name != target and p.ready)
        if pod.ready and others == 0:
            raise SeawallError(
                f"{target} is the only Ready pod of {selector}: without it the Service has no "
                "endpoint until the replacement is ready. Scale the Deployment up first. "
                "Nothing was changed"
            )
        return pod, value, others

    async def _pod(self, target: str) -> PodView:
        try:
            return await self.api.pod(self.settings.namespace, target)
        except SeawallError as exc:
            if "no such object" in str(exc):
                raise SeawallError(
                    f"namespace {self.settings.namespace} has no pod {target!r}; nothing was "
                    "changed"
                ) from exc
            raise

    async def check(self, target: str) -> str:
        pod, value, others = await self._plan(target)
        ready = "Ready" if pod.ready else "not Ready"
        return (
            f"{target} is {pod.phase}, {ready}, on node {pod.node or '?'}; {others} other Ready "
            f"pod(s) of {self._label}={value}; its ReplicaSet will start a replacement"
        )

    async def isolate(self, target: str, facts: dict[str, str]) -> str:
        pod = await self._pod(target)
        original = pod.annotations.get(ORIGINAL, "")
        if pod.labels.get(QUARANTINE_LABEL) == "true" and original.startswith(f"{self._label}="):
            value = original.split("=", 1)[1]  # done already (a re-run after a crash)
        else:
            pod, value, _ = await self._plan(target)
            await self.api.patch_pod(
                self.settings.namespace,
                target,
                labels={self._label: f"{value}{SUFFIX}", QUARANTINE_LABEL: "true"},
                annotations={ORIGINAL: f"{self._label}={value}"},
            )
        facts[self._label] = value
        done = [
            f"{target} relabelled {self._label}={value}{SUFFIX}, {QUARANTINE_LABEL}=true: out "
            f"of its ReplicaSet (a replacement starts) and its Service; still running"
        ]
        if self.settings.cordon_node and pod.node:
            if not await self.api.unschedulable(pod.node):
                await self.api.cordon(pod.node, True)
                facts[CORDONED_FACT] = pod.node
            done.append(f"node {pod.node} cordoned")
        return "; ".join(done)

    async def restore(self, target: str, facts: dict[str, str]) -> str:
        pod = await self._pod(target)
        original = pod.annotations.get(ORIGINAL, "")
        value = facts.get(self._label) or original.partition("=")[2]
        if not value:
            raise SeawallError(
                f"pod {target} carries no record of its {self._label} label; set it back by hand"
            )
        await self.api.patch_pod(
            self.settings.namespace,
            target,
            labels={self._label: value, QUARANTINE_LABEL: None},
            annotations={ORIGINAL: None},
        )
        undone = [
            f"{target} is back under {self._label}={value} (its ReplicaSet now has one pod too "
            "many and removes one, maybe this one)"
        ]
        node = facts.get(CORDONED_FACT)
        if node:
            await self.api.cordon(node, False)
            undone.append(f"node {node} uncordoned")
        return "; ".join(undone)

    async def report(self, target: str) -> str:
        pod = await self._pod(target)
        return (
            f"{target} is {pod.phase} on node {pod.node or '?'}, out of service. When done: "
            f"`{self.kubectl('delete', 'pod', target)}`\nDebug it: `{self.exec_line(target)}`"
        )

    def kubectl(self, *args: str) -> str:
        context = ["--context", self.settings.context] if self.settings.context else []
        return shlex.join(["kubectl", *context, "-n", self.settings.namespace, *args])

    def exec_line(self, target: str) -> str:
        container = ["-c", self.settings.container] if self.settings.container else []
        command = shlex.split(self.settings.exec_command)
        return self.kubectl("exec", "-it", target, *container, "--", *command)

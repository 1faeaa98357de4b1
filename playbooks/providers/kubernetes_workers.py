"""Workers that are a Kubernetes Deployment: pause scales it to 0 and resume scales it back
up step by step, through the scale subresource (only `deployments/scale`: get, patch is
needed in RBAC). How many replicas it had is remembered by the playbook, in Redis.

A HorizontalPodAutoscaler on the Deployment would fight a pause (it scales 0 back up unless
its minReplicas is 0): docs/playbooks.md says to pause the HPA first.
"""

from __future__ import annotations

from playbooks.providers.kubernetes import KubernetesApi
from playbooks.providers.workers import Capacity, KubernetesTarget, Snapshot, queue_depth


class DeploymentWorkers:
    def __init__(self, target: KubernetesTarget) -> None:
        self.target = target
        self.api = KubernetesApi(target)

    async def aclose(self) -> None:
        await self.api.aclose()

    async def observe(self, capacity: Capacity | None = None) -> Snapshot:
        del capacity
        wanted, running = await self.api.replicas(self.target.namespace, self.target.deployment)
        depth = await queue_depth(self.target.broker, list(self.target.queues))
        return Snapshot(queue_depth=depth, active=None, reserved=None, running=min(wanted, running))

    async def capacity(self) -> Capacity:
        wanted, _ = await self.api.replicas(self.target.namespace, self.target.deployment)
        return Capacity(units=wanted)

    async def scale(self, capacity: Capacity, units: int) -> str:
        await self.api.scale(self.target.namespace, self.target.deployment, units)
        return (
            f"deployment {self.target.namespace}/{self.target.deployment} scaled to {units} "
            f"of {capacity.units} replicas"
        )

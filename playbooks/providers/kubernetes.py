"""The few Kubernetes API calls Seawall makes, through kubernetes_asyncio (the official API
models, async over aiohttp, which Seawall already uses for Slack):

- a Deployment's scale subresource: GET and PATCH `.../deployments/{name}/scale`
- a pod: GET, PATCH (labels, annotations), and the pods of a label selector
- a node: GET, PATCH (cordon)

Every PATCH is a JSON merge patch (`application/merge-patch+json`, RFC 7386): a map merges,
`null` deletes a key. It works on every resource, unlike a strategic merge patch. Errors
become sentences that say what was not done (an RBAC refusal names the verb and resource).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from kubernetes_asyncio import client, config
from kubernetes_asyncio.client.exceptions import ApiException
from kubernetes_asyncio.config.config_exception import ConfigException

from bot.core.errors import ExternalServiceError
from playbooks.providers.workers import KubernetesAccess

MERGE_PATCH = "application/merge-patch+json"
# `_content_type` is read by the generated client (it picks the patch type from it) but left
# out of kubernetes_asyncio's stubs: hence the `type: ignore[call-arg]` on each PATCH below.
TIMEOUT_S = 10
IN_CLUSTER = "KUBERNETES_SERVICE_HOST"  # set in every pod


@dataclass(frozen=True)
class PodView:
    """What quarantine needs to know about a pod."""

    name: str
    namespace: str
    labels: dict[str, str]
    annotations: dict[str, str]
    phase: str
    ready: bool
    node: str | None


class KubernetesApi:
    """One cluster, reached as `access` says; open on first use, closed by `aclose`."""

    def __init__(self, access: KubernetesAccess) -> None:
        self.access = access
        self._api: client.ApiClient | None = None

    async def _client(self) -> client.ApiClient:
        if self._api is None:
            configuration = client.Configuration()
            if self.access.api_url:
                configuration.host = self.access.api_url.rstrip("/")
            else:
                try:
                    if os.environ.get(IN_CLUSTER) and not self.access.context:
                        config.load_incluster_config(  # type: ignore[no-untyped-call]
                            client_configuration=configuration
                        )
                    else:
                        await config.load_kube_config(
                            context=self.access.context,
                            client_configuration=configuration,
                            persist_config=False,
                        )
                except (ConfigException, OSError) as exc:
                    raise ExternalServiceError(
                        "Seawall has no way to reach Kubernetes: it is not running in a pod "
                        f"and has no usable kubeconfig ({exc}). Set api_url or context in "
                        "its playbook settings"
                    ) from exc
            self._api = client.ApiClient(configuration)
        return self._api

    async def aclose(self) -> None:
        if self._api is not None:
            await self._api.close()
            self._api = None

    async def replicas(self, namespace: str, deployment: str) -> tuple[int, int]:
        """(wanted, running now) replicas of a Deployment, from its scale subresource."""
        apps = client.AppsV1Api(await self._client())
        scale = await self._call(
            f"read the scale of deployment {namespace}/{deployment}",
            apps.read_namespaced_deployment_scale(
                deployment, namespace, _request_timeout=TIMEOUT_S
            ),
        )
        return int(scale.spec.replicas or 0), int(scale.status.replicas or 0)

    async def scale(self, namespace: str, deployment: str, replicas: int) -> None:
        apps = client.AppsV1Api(await self._client())
        await self._call(
            f"scale deployment {namespace}/{deployment} to {replicas}",
            apps.patch_namespaced_deployment_scale(
                deployment,
                namespace,
                {"spec": {"replicas": replicas}},
                _content_type=MERGE_PATCH,  # type: ignore[call-arg]
                _request_timeout=TIMEOUT_S,
            ),
        )

    async def pod(self, namespace: str, name: str) -> PodView:
        core = client.CoreV1Api(await self._client())
        pod = await self._call(
            f"read pod {namespace}/{name}",
            core.read_namespaced_pod(name, namespace, _request_timeout=TIMEOUT_S),
        )
        return _view(pod)

    async def pods(self, namespace: str, selector: str) -> list[PodView]:
        core = client.CoreV1Api(await self._client())
        found = await self._call(
            f"list the pods {selector} in {namespace}",
            core.list_namespaced_pod(
                namespace, label_selector=selector, _request_timeout=TIMEOUT_S
            ),
        )
        return [_view(p) for p in found.items]

    async def patch_pod(
        self,
        namespace: str,
        name: str,
        labels: dict[str, str | None],
        annotations: dict[str, str | None] | None = None,
    ) -> None:
        """Merge these labels (None deletes one) and annotations into the pod's."""
        core = client.CoreV1Api(await self._client())
        metadata: dict[str, Any] = {"labels": labels}
        if annotations:
            metadata["annotations"] = annotations
        await self._call(
            f"relabel pod {namespace}/{name}",
            core.patch_namespaced_pod(
                name,
                namespace,
                {"metadata": metadata},
                _content_type=MERGE_PATCH,  # type: ignore[call-arg]
                _request_timeout=TIMEOUT_S,
            ),
        )

    async def unschedulable(self, node: str) -> bool:
        core = client.CoreV1Api(await self._client())
        found = await self._call(
            f"read node {node}", core.read_node(node, _request_timeout=TIMEOUT_S)
        )
        return bool(found.spec and found.spec.unschedulable)

    async def cordon(self, node: str, cordoned: bool) -> None:
        """Mark the node (un)schedulable, as `kubectl cordon` / `uncordon` do."""
        core = client.CoreV1Api(await self._client())
        await self._call(
            f"{'cordon' if cordoned else 'uncordon'} node {node}",
            core.patch_node(
                node,
                {"spec": {"unschedulable": True if cordoned else None}},
                _content_type=MERGE_PATCH,  # type: ignore[call-arg]
                _request_timeout=TIMEOUT_S,
            ),
        )

    async def _call(self, what: str, request: Any) -> Any:
        try:
            return await request
        except ApiException as exc:
            raise ExternalServiceError(_refusal(what, exc)) from exc
        except (OSError, TimeoutError) as exc:
            raise ExternalServiceError(
                f"Kubernetes could not be reached to {what} ({type(exc).__name__}: {exc}); "
                "nothing was changed"
            ) from exc
        except Exception as exc:  # aiohttp's client errors are not OSErrors
            if type(exc).__module__.startswith("aiohttp"):
                raise ExternalServiceError(
                    f"Kubernetes could not be reached to {what} ({exc}); nothing was changed"
                ) from exc
            raise


def _refusal(what: str, exc: ApiException) -> str:
    if exc.status == 404:
        return f"Kubernetes has no such object: could not {what} (404)"
    if exc.status in (401, 403):
        return (
            f"Kubernetes refused to let Seawall {what} ({exc.status} {exc.reason}): its "
            "service account needs that permission (docs/playbooks.md lists the RBAC rules)"
        )
    return f"Kubernetes refused to {what}: {exc.status} {exc.reason}; nothing was changed"


def _view(pod: Any) -> PodView:
    conditions = (pod.status.conditions if pod.status else None) or []
    return PodView(
        name=pod.metadata.name,
        namespace=pod.metadata.namespace or "",
        labels=dict(pod.metadata.labels or {}),
        annotations=dict(pod.metadata.annotations or {}),
        phase=(pod.status.phase if pod.status else None) or "Unknown",
        ready=any(c.type == "Ready" and c.status == "True" for c in conditions),
        node=pod.spec.node_name if pod.spec else None,
    )

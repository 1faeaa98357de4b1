"""FakeKubernetesApi: a FAKE of the Kubernetes API server, for the few paths Seawall calls.

It is not a cluster: no controllers run, nothing is scheduled. It keeps objects (Deployments
with their replicas, pods, nodes) in memory, answers the paths below the way the API server
does (objects in the v1 shapes kubernetes_asyncio parses, `Status` bodies on errors, 415 for
a PATCH content type the server would not take), applies JSON merge patches (RFC 7386) and
strategic merge patches (the same for the label and field maps used here), and records every
request: method, path, query, content type and the exact body.

- GET/PATCH /apis/apps/v1/namespaces/{ns}/deployments/{name}/scale
- GET/PATCH /api/v1/namespaces/{ns}/pods/{name};  GET /api/v1/namespaces/{ns}/pods?labelSelector=
- GET/PATCH /api/v1/nodes/{name}
"""

from __future__ import annotations

import copy
import json
import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.servers import ServerThread

PATCH_TYPES = (
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: str
    content_type: str | None
    body: Any  # parsed JSON, or None without a body


class FakeKubernetesApi:
    """The fake API server on a real port; `url` is what `api_url` should be."""

    def __init__(self) -> None:
        self.deployments: dict[tuple[str, str], int] = {}  # (ns, name) -> spec.replicas
        self.pods: dict[tuple[str, str], dict[str, Any]] = {}
        self.nodes: dict[str, dict[str, Any]] = {}
        self.refuse: dict[str, int] = {}  # "PATCH /path" -> status to answer (e.g. 403)
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._server = ServerThread(
            Starlette(
                routes=[
                    Route(
                        "/apis/apps/v1/namespaces/{ns}/deployments/{name}/scale",
                        self._scale,
                        methods=["GET", "PATCH"],
                    ),
                    Route("/api/v1/namespaces/{ns}/pods", self._pod_list, methods=["GET"]),
                    Route(
                        "/api/v1/namespaces/{ns}/pods/{name}", self._pod, methods=["GET", "PATCH"]
                    ),
                    Route("/api/v1/nodes/{name}", self._node, methods=["GET", "PATCH"]),
                ]
            )
        )

    # --- setting the scene and looking at it (from the test thread) --------------------------

    def add_deployment(self, namespace: str, name: str, replicas: int) -> None:
        with self._lock:
            self.deployments[(namespace, name)] = replicas

    def add_pod(
        self,
        namespace: str,
        name: str,
        labels: dict[str, str],
        node: str = "node-1",
        ready: bool = True,
    ) -> None:
        with self._lock:
            self.pods[(namespace, name)] = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
                "spec": {"nodeName": node, "containers": [{"name": "app", "image": "app:1"}]},
                "status": {
                    "phase": "Running",
                    "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                },
            }
            self.nodes.setdefault(node, {"apiVersion": "v1", "kind": "Node",
                                         "metadata": {"name": node}, "spec": {}})  # fmt: skip

    def pod(self, namespace: str, name: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self.pods[(namespace, name)])

    def node_unschedulable(self, name: str) -> bool:
        with self._lock:
            return bool(self.nodes[name]["spec"].get("unschedulable"))

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def patches(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == "PATCH"]

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- the API --------------------------------------------------------------------------------

    async def _record(self, request: Request) -> tuple[Any, Response | None]:
        raw = await request.body()
        body = json.loads(raw) if raw else None
        content_type = request.headers.get("content-type")
        with self._lock:
            self._requests.append(
                RecordedRequest(
                    request.method, request.url.path, request.url.query, content_type, body
                )
            )
            refused = self.refuse.get(f"{request.method} {request.url.path}")
        if refused:
            return body, _status(refused, "Forbidden", "the fake was told to refuse this")
        if request.method == "PATCH" and (content_type or "").split(";")[0] not in PATCH_TYPES:
            return body, _status(415, "UnsupportedMediaType", f"the body of the request was in "
                                 f"an unknown format: {content_type}")  # fmt: skip
        return body, None

    async def _scale(self, request: Request) -> Response:
        body, refused = await self._record(request)
        if refused:
            return refused
        ns, name = request.path_params["ns"], request.path_params["name"]
        with self._lock:
            if (ns, name) not in self.deployments:
                return _status(404, "NotFound", f'deployments.apps "{name}" not found')
            if request.method == "PATCH":
                wanted = _merge({"spec": {"replicas": self.deployments[(ns, name)]}}, body)
                self.deployments[(ns, name)] = int(wanted["spec"]["replicas"])
            replicas = self.deployments[(ns, name)]
        return JSONResponse(
            {
                "apiVersion": "autoscaling/v1",
                "kind": "Scale",
                "metadata": {"name": name, "namespace": ns},
                "spec": {"replicas": replicas},
                "status": {"replicas": replicas, "selector": f"app={name}"},
            }
        )

    async def _pod(self, request: Request) -> Response:
        body, refused = await self._record(request)
        if refused:
            return refused
        ns, name = request.path_params["ns"], request.path_params["name"]
        with self._lock:
            pod = self.pods.get((ns, name))
            if pod is None:
                return _status(404, "NotFound", f'pods "{name}" not found')
            if request.method == "PATCH":
                pod = self.pods[(ns, name)] = _merge(pod, body)
            return JSONResponse(copy.deepcopy(pod))

    async def _pod_list(self, request: Request) -> Response:
        _, refused = await self._record(request)
        if refused:
            return refused
        ns = request.path_params["ns"]
        wanted = dict(
            part.split("=", 1)
            for part in request.query_params.get("labelSelector", "").split(",")
            if "=" in part
        )
        with self._lock:
            items = [
                copy.deepcopy(pod)
                for (pod_ns, _), pod in self.pods.items()
                if pod_ns == ns
                and all(pod["metadata"]["labels"].get(k) == v for k, v in wanted.items())
            ]
        return JSONResponse({"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": items})

    async def _node(self, request: Request) -> Response:
        body, refused = await self._record(request)
        if refused:
            return refused
        name = request.path_params["name"]
        with self._lock:
            node = self.nodes.get(name)
            if node is None:
                return _status(404, "NotFound", f'nodes "{name}" not found')
            if request.method == "PATCH":
                node = self.nodes[name] = _merge(node, body)
            return JSONResponse(copy.deepcopy(node))


def _merge(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: maps merge, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge(result.get(key), value)
    return result


def _status(code: int, reason: str, message: str) -> JSONResponse:
    return JSONResponse(
        {
            "apiVersion": "v1",
            "kind": "Status",
            "status": "Failure",
            "message": message,
            "reason": reason,
            "code": code,
        },
        status_code=code,
    )

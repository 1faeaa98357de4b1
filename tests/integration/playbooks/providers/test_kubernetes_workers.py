"""The Deployment backend against a fake of the Kubernetes API (tests/support/
fake_kubernetes_api.py): the scale subresource read and merge-patched, exactly."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis

from playbooks.providers.kubernetes_workers import DeploymentWorkers
from playbooks.providers.workers import KubernetesTarget
from tests.integration.playbooks.providers.worker_pool_contract import (
    MakePool,
    WorkerPoolContract,
    capacity_of,
    on,
)
from tests.support.fake_kubernetes_api import FakeKubernetesApi, RecordedRequest
from tests.support.ports import free_port
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.integration

SCALE = "/apis/apps/v1/namespaces/prod/deployments/billing-worker/scale"


@pytest.fixture
def fake_kubernetes_api() -> Iterator[FakeKubernetesApi]:
    with FakeKubernetesApi() as api:
        api.add_deployment("prod", "billing-worker", 4)
        yield api


def target(api_url: str, broker: str | None = None) -> KubernetesTarget:
    return KubernetesTarget(
        backend="kubernetes",
        namespace="prod",
        deployment="billing-worker",
        api_url=api_url,
        broker=broker,
        queues=["billing"] if broker else [],
    )


class TestDeploymentWorkers(WorkerPoolContract):
    FULL = 4

    @pytest.fixture
    def make_pool(self, fake_kubernetes_api: FakeKubernetesApi, redis_url: str) -> MakePool:
        return lambda: DeploymentWorkers(target(fake_kubernetes_api.url, redis_url))

    @pytest.fixture
    def taking_work(self, fake_kubernetes_api: FakeKubernetesApi) -> Callable[[], int]:
        return lambda: fake_kubernetes_api.deployments[("prod", "billing-worker")]

    @pytest.fixture
    def backlog(self, redis_server: RedisServer, redis_url: str) -> Callable[[int], None]:
        def leave(n: int) -> None:
            with redis.Redis.from_url(redis_url) as client:
                client.lpush("billing", *[f"message-{i}" for i in range(n)])

        return leave

    @pytest.fixture
    def unreachable(self) -> MakePool:
        return lambda: DeploymentWorkers(target(f"http://127.0.0.1:{free_port()}"))

    def test_pause_and_resume_are_merge_patches_of_the_scale_subresource(
        self, fake_kubernetes_api: FakeKubernetesApi, make_pool: MakePool
    ) -> None:
        capacity = capacity_of(make_pool())
        on(make_pool(), 0, capacity)
        on(make_pool(), 1, capacity)
        assert fake_kubernetes_api.patches() == [
            RecordedRequest("PATCH", SCALE, "", "application/merge-patch+json",
                            {"spec": {"replicas": 0}}),
            RecordedRequest("PATCH", SCALE, "", "application/merge-patch+json",
                            {"spec": {"replicas": 1}}),
        ]  # fmt: skip
        assert next(r.method for r in fake_kubernetes_api.requests if r.path == SCALE) == "GET"

    def test_a_refusal_names_the_permission_the_service_account_lacks(
        self, fake_kubernetes_api: FakeKubernetesApi, make_pool: MakePool
    ) -> None:
        from bot.core.errors import ExternalServiceError

        fake_kubernetes_api.refuse[f"PATCH {SCALE}"] = 403
        with pytest.raises(ExternalServiceError, match=r"refused to let Seawall scale deploy"):
            on(make_pool(), 0)
        assert fake_kubernetes_api.deployments[("prod", "billing-worker")] == 4

    def test_an_unknown_deployment_is_named(self, fake_kubernetes_api: FakeKubernetesApi) -> None:
        from bot.core.errors import ExternalServiceError

        missing = target(fake_kubernetes_api.url).model_copy(update={"deployment": "nope"})
        with pytest.raises(ExternalServiceError, match=r"no such object.*prod/nope"):
            capacity_of(DeploymentWorkers(missing))

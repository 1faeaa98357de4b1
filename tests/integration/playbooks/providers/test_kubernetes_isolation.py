"""Quarantine on Kubernetes against a fake of its API (tests/support/fake_kubernetes_api.py):
the pod relabelled out of its selector by a merge patch, its node cordoned if asked."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from playbooks.providers.kubernetes_isolation import KubernetesIsolation, KubernetesSettings
from tests.integration.playbooks.providers.isolator_contract import (
    IsolatorContract,
    MakeIsolator,
    run,
)
from tests.support.fake_kubernetes_api import FakeKubernetesApi, RecordedRequest

pytestmark = pytest.mark.integration

POD = "api-7d9f8-x2k4q"
POD_PATH = f"/api/v1/namespaces/prod/pods/{POD}"
MERGE = "application/merge-patch+json"


@pytest.fixture
def fake_kubernetes_api() -> Iterator[FakeKubernetesApi]:
    with FakeKubernetesApi() as api:
        api.add_pod("prod", POD, {"app": "api", "pod-template-hash": "7d9f8"}, node="node-2")
        api.add_pod("prod", "api-7d9f8-b7c1m", {"app": "api", "pod-template-hash": "7d9f8"})
        api.add_pod("prod", "db-0", {"app": "db"})
        yield api


def settings(api: FakeKubernetesApi, **more: object) -> KubernetesSettings:
    return KubernetesSettings.model_validate(
        {"provider": "kubernetes", "namespace": "prod", "api_url": api.url, **more}
    )


class TestKubernetesIsolation(IsolatorContract):
    TARGET = POD

    @pytest.fixture
    def make_isolator(self, fake_kubernetes_api: FakeKubernetesApi) -> MakeIsolator:
        return lambda: KubernetesIsolation(settings(fake_kubernetes_api))

    @pytest.fixture
    def in_service(self, fake_kubernetes_api: FakeKubernetesApi) -> Callable[[str], bool]:
        def selected(name: str) -> bool:  # what the ReplicaSet and the Service select on
            labels = fake_kubernetes_api.pod("prod", name)["metadata"]["labels"]
            return labels.get("app") == "api" and "quarantine" not in labels

        return selected

    @pytest.fixture
    def alive(self, fake_kubernetes_api: FakeKubernetesApi) -> Callable[[str], bool]:
        return lambda name: ("prod", name) in fake_kubernetes_api.pods

    @pytest.fixture
    def last_one(self, fake_kubernetes_api: FakeKubernetesApi) -> Callable[[], None]:
        def leave() -> None:
            api = fake_kubernetes_api
            api.add_pod("prod", "api-7d9f8-b7c1m", {"app": "api"}, ready=False)

        return leave

    def test_the_relabel_is_one_merge_patch_and_the_restore_another(
        self, fake_kubernetes_api: FakeKubernetesApi
    ) -> None:
        facts: dict[str, str] = {}
        run(KubernetesIsolation(settings(fake_kubernetes_api)), lambda i: i.isolate(POD, facts))
        run(KubernetesIsolation(settings(fake_kubernetes_api)), lambda i: i.restore(POD, facts))
        assert fake_kubernetes_api.patches() == [
            RecordedRequest("PATCH", POD_PATH, "", MERGE, {"metadata": {
                "labels": {"app": "api-quarantined", "quarantine": "true"},
                "annotations": {"seawall.dev/quarantined-from": "app=api"},
            }}),
            RecordedRequest("PATCH", POD_PATH, "", MERGE, {"metadata": {
                "labels": {"app": "api", "quarantine": None},
                "annotations": {"seawall.dev/quarantined-from": None},
            }}),
        ]  # fmt: skip
        labels = fake_kubernetes_api.pod("prod", POD)["metadata"]["labels"]
        assert labels == {"app": "api", "pod-template-hash": "7d9f8"}

    def test_the_node_is_cordoned_when_asked_and_uncordoned_only_if_seawall_did_it(
        self, fake_kubernetes_api: FakeKubernetesApi
    ) -> None:
        cordoning = settings(fake_kubernetes_api, cordon_node=True)
        facts: dict[str, str] = {}
        said = run(KubernetesIsolation(cordoning), lambda i: i.isolate(POD, facts))
        assert "node node-2 cordoned" in said
        assert fake_kubernetes_api.node_unschedulable("node-2")
        node_patch = [p for p in fake_kubernetes_api.patches() if p.path.endswith("node-2")]
        assert node_patch == [RecordedRequest("PATCH", "/api/v1/nodes/node-2", "", MERGE,
                                              {"spec": {"unschedulable": True}})]  # fmt: skip
        run(KubernetesIsolation(cordoning), lambda i: i.restore(POD, facts))
        assert not fake_kubernetes_api.node_unschedulable("node-2")

    def test_the_report_ends_with_the_exact_kubectl_exec_line(
        self, fake_kubernetes_api: FakeKubernetesApi
    ) -> None:
        with_context = settings(fake_kubernetes_api, context="prod-eu", container="api",
                                exec_command="bash -l")  # fmt: skip
        said = run(KubernetesIsolation(with_context), lambda i: i.report(POD))
        assert said.splitlines()[-1] == (
            f"Debug it: `kubectl --context prod-eu -n prod exec -it {POD} -c api -- bash -l`"
        )

    def test_a_pod_outside_any_selector_is_refused(
        self, fake_kubernetes_api: FakeKubernetesApi
    ) -> None:
        from bot.core.errors import SeawallError

        fake_kubernetes_api.add_pod("prod", "debug-shell", {"run": "debug"})
        with pytest.raises(SeawallError, match="has no app label"):
            run(
                KubernetesIsolation(settings(fake_kubernetes_api)), lambda i: i.check("debug-shell")
            )

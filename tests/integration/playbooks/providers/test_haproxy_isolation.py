"""Quarantine behind a real HAProxy: spare in, drain, maintenance; and back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from playbooks.providers.haproxy_isolation import HAProxyIsolation, HAProxySettings
from tests.integration.playbooks.providers.isolator_contract import (
    IsolatorContract,
    MakeIsolator,
    run,
)
from tests.support.haproxy import HAProxyServer

pytestmark = pytest.mark.integration


@pytest.fixture
def haproxy(tmp_path: Path) -> Iterator[HAProxyServer]:
    with HAProxyServer(tmp_path, ["web-1", "web-2", "web-3", "spare-1"]) as server:
        server.admin("set server be/spare-1 state maint")
        yield server


def state(haproxy: HAProxyServer, name: str) -> tuple[str, int] | None:
    for row in haproxy.admin("show servers state be").splitlines():
        cols = row.split()
        if len(cols) > 6 and cols[3] == name:
            return cols[5], int(cols[6])
    return None


class TestHAProxyIsolation(IsolatorContract):
    TARGET = "web-3"

    @pytest.fixture
    def spares(self) -> list[str]:
        return ["spare-1"]

    @pytest.fixture
    def make_isolator(self, haproxy: HAProxyServer, spares: list[str]) -> MakeIsolator:
        def make() -> HAProxyIsolation:  # the spares as they are when it is made
            return HAProxyIsolation(
                HAProxySettings(
                    haproxy_socket=str(haproxy.socket_path),
                    backend="be",
                    spares=list(spares),
                    drain_seconds=0,
                )
            )

        return make

    @pytest.fixture
    def in_service(self, haproxy: HAProxyServer) -> Callable[[str], bool]:
        return lambda name: state(haproxy, name) == ("2", 0)  # UP, no admin flag

    @pytest.fixture
    def alive(self, haproxy: HAProxyServer) -> Callable[[str], bool]:
        return lambda name: state(haproxy, name) is not None

    @pytest.fixture
    def last_one(self, haproxy: HAProxyServer, spares: list[str]) -> Callable[[], None]:
        def leave() -> None:
            spares.clear()
            for name in ("web-1", "web-2"):
                haproxy.admin(f"set server be/{name} state maint")

        return leave

    def test_the_spare_comes_in_with_the_quarantine_and_leaves_with_the_restore(
        self, make_isolator: MakeIsolator, haproxy: HAProxyServer
    ) -> None:
        facts: dict[str, str] = {}
        run(make_isolator(), lambda i: i.isolate("web-3", facts))
        assert facts == {"spare": "spare-1"}
        assert state(haproxy, "spare-1") == ("2", 0)
        run(make_isolator(), lambda i: i.restore("web-3", facts))
        assert state(haproxy, "spare-1") == ("0", 1)  # maintenance again

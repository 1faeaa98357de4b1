"""The HAProxy runtime-API provider against a real HAProxy."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.errors import ExternalServiceError
from playbooks.providers.haproxy import HAProxy
from tests.support.haproxy import HAProxyServer

pytestmark = pytest.mark.integration


@pytest.fixture
def haproxy(tmp_path: Path) -> Iterator[HAProxyServer]:
    with HAProxyServer(tmp_path, ["web-1", "web-2", "web-3", "spare-1"]) as server:
        yield server


def states(haproxy: HAProxyServer) -> dict[str, str]:
    servers = asyncio.run(HAProxy(str(haproxy.socket_path)).servers("be"))
    return {s.name: s.label for s in servers}


def test_reads_every_server_of_the_backend(haproxy: HAProxyServer) -> None:
    assert states(haproxy) == {"web-1": "UP", "web-2": "UP", "web-3": "UP", "spare-1": "UP"}


def test_drain_maint_and_ready_change_the_state_and_repeat_harmlessly(
    haproxy: HAProxyServer,
) -> None:
    api = HAProxy(str(haproxy.socket_path))
    asyncio.run(api.set_state("be", "web-3", "drain"))
    assert states(haproxy)["web-3"] == "DRAIN"
    for _ in range(2):
        asyncio.run(api.set_state("be", "web-3", "maint"))
        assert states(haproxy)["web-3"] == "MAINT"
    asyncio.run(api.set_state("be", "web-3", "ready"))
    assert states(haproxy)["web-3"] == "UP"


def test_an_unknown_server_or_backend_is_a_clear_error(haproxy: HAProxyServer) -> None:
    api = HAProxy(str(haproxy.socket_path))
    with pytest.raises(ExternalServiceError, match="no server 'web-9'"):
        asyncio.run(api.server("be", "web-9"))
    with pytest.raises(ExternalServiceError, match="refused"):
        asyncio.run(api.set_state("be", "web-9", "maint"))


def test_names_that_could_inject_commands_are_refused_before_sending(
    haproxy: HAProxyServer,
) -> None:
    api = HAProxy(str(haproxy.socket_path))
    with pytest.raises(ValueError, match="not a valid HAProxy name"):
        asyncio.run(api.set_state("be", "web-1 state maint; shutdown sessions", "ready"))


def test_an_unreachable_socket_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ExternalServiceError, match="did not answer"):
        asyncio.run(HAProxy(str(tmp_path / "nope.sock")).servers("be"))

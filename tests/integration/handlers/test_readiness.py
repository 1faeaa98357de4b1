"""/readyz: what it asks (Slack at most once a minute), what it never shows (connection strings),
and what it warns about without failing (workers, Redis that can lose state)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bot.core.health import EVICTION, NO_PERSISTENCE
from bot.deps import Deps
from handlers.app import create_app
from tests.conftest import StackFactory
from tests.support.ports import free_port
from tests.support.redis_server import RedisServer
from tests.support.servers import ServerThread
from tests.support.stack import SeawallStack, settings_for
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def readyz(stack: SeawallStack) -> tuple[int, dict[str, Any]]:
    response = stack.http.get(f"{stack.url}/readyz")
    return response.status_code, response.json()


@pytest.fixture
def redis_config(redis_server: RedisServer) -> Iterator[Any]:
    """A client to change the test Redis's settings; what it changed is put back after."""
    with redis_server.client(decode_responses=True) as client:
        before = {
            name: client.config_get(name)[name]
            for name in ("appendonly", "save", "maxmemory", "maxmemory-policy")
        }
        yield client
        for name, value in before.items():
            client.config_set(name, value)


def test_many_probes_ask_slack_at_most_once_a_minute(stack: SeawallStack) -> None:
    for _ in range(20):
        assert readyz(stack)[0] == 200
    assert len(stack.emulator.calls_to("auth.test")) == 1


def test_a_redis_url_with_a_password_never_appears_in_readyz(make_stack: StackFactory) -> None:
    slack = make_stack(poster=False, worker=False)
    port = free_port()  # nothing listens there
    url = f"redis://:s3cret-pass@127.0.0.1:{port}/0"
    settings = settings_for(url, slack.deps.settings.slack_api_url)
    server = ServerThread(create_app(settings, Deps.connect(settings)))
    server.start()
    try:
        response = slack.http.get(f"{server.url}/readyz")
    finally:
        server.stop()
    assert response.status_code == 503
    assert "Redis" in response.json()["problems"][0]
    for secret in ("s3cret-pass", f"127.0.0.1:{port}", str(port), url):
        assert secret not in response.text


def test_a_running_worker_shows_up_in_readyz(stack: SeawallStack) -> None:
    workers = wait_until(
        lambda: (w := readyz(stack)[1]["workers"])["alive"] == 1 and w, what="the worker's beat"
    )
    assert workers["last_seen_s"] < 60


def test_without_a_worker_readyz_stays_ready_and_says_so(make_stack: StackFactory) -> None:
    status, body = readyz(make_stack(worker=False))
    assert status == 200
    assert body["workers"] == {"alive": 0, "last_seen_s": None}
    assert any("No Seawall worker has been seen" in w for w in body["warnings"])


def test_a_redis_without_persistence_is_a_warning_not_a_failure(
    stack: SeawallStack, redis_config: Any
) -> None:
    redis_config.config_set("save", "")
    redis_config.config_set("appendonly", "no")
    status, body = readyz(stack)
    assert (status, body["ready"]) == (200, True)
    assert NO_PERSISTENCE in body["warnings"]
    redis_config.config_set("save", "3600 1")
    assert NO_PERSISTENCE not in readyz(stack)[1]["warnings"]


def test_a_redis_that_may_evict_keys_is_a_warning(stack: SeawallStack, redis_config: Any) -> None:
    redis_config.config_set("maxmemory", "1gb")
    redis_config.config_set("maxmemory-policy", "allkeys-lru")
    status, body = readyz(stack)
    assert status == 200
    assert EVICTION.format(maxmemory=1024**3, policy="allkeys-lru") in body["warnings"]
    redis_config.config_set("maxmemory-policy", "noeviction")
    assert not any("evict" in w for w in readyz(stack)[1]["warnings"])

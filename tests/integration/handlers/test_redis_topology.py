"""`seawall check` and /readyz against Redis with a replica and three Sentinels: check names
what it found (primary, replica, each Sentinel, persistence, what a webhook waits for), and
both warn about what would make a failover lose state."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.health import NO_REPLICA
from bot.emulator import SlackEmulator
from tests.conftest import emulator_config, start_stack
from tests.fixtures.alertmanager_payloads import group_payload
from tests.integration.handlers.test_cli import run
from tests.support.redis_server import RedisServer
from tests.support.sentinel import RedisWithSentinels
from tests.support.servers import ServerThread
from tests.support.stack import ALERTMANAGER_TOKEN, BOT_TOKEN, CHANNEL, SIGNING_SECRET

pytestmark = pytest.mark.integration


@contextlib.contextmanager
def running(
    topology: RedisWithSentinels,
) -> Iterator[tuple[dict[str, str], RedisWithSentinels]]:
    """The topology and an emulator, and the settings that point Seawall at both."""
    emulator = ServerThread(SlackEmulator(emulator_config()).app)
    try:
        topology.start()
        emulator.start()
        yield (
            {
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": f"{emulator.url}/api/",
                "SEAWALL_CHANNEL": CHANNEL,
                "ALERTMANAGER_WEBHOOK_TOKEN": ALERTMANAGER_TOKEN,
                **topology.env(),
            },
            topology,
        )
    finally:
        emulator.stop()
        topology.stop()


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[dict[str, str], RedisWithSentinels]]:
    with running(RedisWithSentinels(tmp_path)) as found:
        yield found


def test_check_reports_the_primary_its_replica_and_every_sentinel(
    env: tuple[dict[str, str], RedisWithSentinels],
) -> None:
    settings, topology = env
    result = run(["check"], env=settings)
    assert result.returncode == 0, result.stdout + result.stderr
    primary, replica = topology.servers
    lines = result.stdout.splitlines()
    assert f"· Redis primary 127.0.0.1:{primary.port} (Sentinel master 'seawall'): " in "\n".join(
        lines
    )
    assert any(
        line.startswith(f"· Redis replica 127.0.0.1:{replica.port}: online") for line in lines
    )
    for sentinel in topology.sentinels:
        assert (
            f"· Sentinel 127.0.0.1:{sentinel.port}: names 127.0.0.1:{primary.port} as primary "
            "(knows 2 other Sentinels, quorum 2)"
        ) in lines
    assert "· Webhooks are answered 200 once a replica holds them (WAIT, up to 500 ms)" in lines
    assert "Redis Sentinel master 'seawall' via 127.0.0.1:" in result.stdout


def test_check_warns_when_the_replica_is_gone_and_when_wait_is_off(
    env: tuple[dict[str, str], RedisWithSentinels],
) -> None:
    settings, topology = env
    off = run(["check"], env=settings | {"SEAWALL_REPLICA_WAIT_MS": "0"})
    assert (
        "⚠ SEAWALL_REPLICA_WAIT_MS is 0: webhooks are acknowledged before a replica" in off.stdout
    )
    topology.cut_replication()
    gone = run(["check"], env=settings)
    assert gone.returncode == 0  # a warning: Seawall still works
    assert "· Redis replicas: none" in gone.stdout
    assert "⚠ Sentinel is configured but the Redis primary has no replica online" in gone.stdout


def test_readyz_warns_when_the_replica_is_gone_but_stays_ready(
    env: tuple[dict[str, str], RedisWithSentinels],
) -> None:
    settings, topology = env
    sentinels = settings["REDIS_SENTINELS"]
    stack = start_stack(
        "redis://127.0.0.1:1/0",  # ignored: the Sentinels name the primary
        redis_sentinels=sentinels,
        redis_sentinel_master=settings["REDIS_SENTINEL_MASTER"],
        worker=False,
        poster=False,
    )
    try:
        assert NO_REPLICA not in stack.http.get(f"{stack.url}/readyz").json()["warnings"]
        topology.cut_replication()
        answer = stack.http.get(f"{stack.url}/readyz")
        assert answer.status_code == 200
        assert NO_REPLICA in answer.json()["warnings"]
    finally:
        stack.close()


def test_a_webhook_into_a_primary_demoted_to_replica_answers_503_then_recovers(
    tmp_path: Path,
) -> None:
    """A managed Redis fails over by moving its endpoint: connections still open to the old
    primary get READONLY. That is a retry for the sender (503), not a bug (500); the
    connection is dropped, so the next delivery reconnects."""
    with RedisServer(tmp_path / "a") as a, RedisServer(tmp_path / "b") as b:
        stack = start_stack(a.url, worker=False, poster=False)
        try:
            assert stack.post_alertmanager(group_payload("Before")).status_code == 200
            with a.client() as client:
                client.replicaof("127.0.0.1", b.port)  # what a failover does to the old primary
            refused = stack.post_alertmanager(group_payload("During"))
            assert refused.status_code == 503
            assert "Redis is unreachable" in refused.text
            with a.client() as client:
                client.replicaof("NO", "ONE")  # the endpoint's primary again
            assert stack.post_alertmanager(group_payload("After")).status_code == 200
        finally:
            stack.close()


def test_redis_url_s_password_and_the_sentinels_own_are_both_used(tmp_path: Path) -> None:
    secured = RedisWithSentinels(
        tmp_path, data_password="data-secret", sentinel_password="sentinel-secret"
    )
    with running(secured) as (settings, topology):
        ok = run(["check"], env=settings)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        replica = topology.servers[1]
        assert f"· Redis replica 127.0.0.1:{replica.port}: online" in ok.stdout
        assert "not reachable" not in ok.stdout  # the replica was asked with the password
        without = {k: v for k, v in settings.items() if k != "REDIS_SENTINEL_PASSWORD"}
        refused = run(["check"], env=without)
        assert refused.returncode == 1
        assert "✗ REDIS_SENTINELS: Redis is unreachable" in refused.stdout

"""Shared fixtures: real redis-server and Postgres, the Slack emulator, and Seawall itself on
real ports."""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from bot.core.clock import Clock
from bot.core.config import FileConfig
from bot.core.jobs import JobQueue
from bot.deps import Deps
from bot.emulator import EmulatedUser, EmulatorConfig, SlackEmulator
from bot.emulator.sender import SlackSender
from handlers.app import create_app
from tests.support.ports import free_port
from tests.support.postgres import PostgresServer, SlotLab, create_roles
from tests.support.redis_server import RedisServer
from tests.support.servers import ServerThread
from tests.support.stack import (
    BOT_TOKEN,
    CHANNEL,
    OTHER_CHANNEL,
    SIGNING_SECRET,
    USERS,
    SeawallStack,
    settings_for,
)

# CI (CI=true) replays the same property-test examples every run, so a red CI is never a
# coin toss; developers' runs keep exploring new examples.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A skipped test is not a passing one, and an empty run is a broken suite."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if exitstatus == 0 and skipped:
        session.exitstatus = 1
        if reporter:
            reporter.write_line(f"FAILED: {skipped} test(s) were skipped; fix or remove them.")
    if session.testscollected == 0 and not session.config.option.collectonly:
        session.exitstatus = 5


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """One Postgres cluster for the whole session (as an unprivileged user when run as root:
    tests/support/postgres.py); each test gets its own database from `slot_lab`."""
    server = PostgresServer(tmp_path_factory.mktemp("postgres"))
    try:
        server.start()
        create_roles(server)
        yield server
    finally:
        server.close()


@pytest.fixture
def slot_lab(postgres_server: PostgresServer) -> Iterator[SlotLab]:
    """A fresh database on the session's cluster; its slots, sessions and consumers are
    stopped and dropped afterwards."""
    lab = SlotLab(postgres_server, f"lab_{secrets.token_hex(4)}")
    try:
        yield lab
    finally:
        lab.close()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    if not redis_server.is_running():
        redis_server.restart()  # a fault drill may have stopped it
    redis_server.flushall()
    return redis_server.url


def emulator_config(**overrides: Any) -> EmulatorConfig:
    values: dict[str, Any] = {
        "bot_token": BOT_TOKEN,
        "channels": {CHANNEL: "alerts", OTHER_CHANNEL: "database"},
        "users": {uid: EmulatedUser(name=name, tz=tz) for uid, (name, tz) in USERS.items()},
    }
    values.update(overrides)
    return EmulatorConfig(**values)


StackFactory = Callable[..., SeawallStack]
APP_TOKEN = "xapp-1-A0SEAWALL-test-app-token"


def start_stack(
    redis_url: str,
    *,
    emulator: EmulatorConfig | None = None,
    poster: bool = True,
    worker: bool = True,
    file_config: FileConfig | None = None,
    clock: Clock | None = None,
    jobs: JobQueue | None = None,
    socket_mode: bool = False,
    **settings: Any,
) -> SeawallStack:
    """A running Seawall + emulator on `redis_url`; the caller closes it."""
    seawall_port = free_port()
    # The app's Request URL and signing secret, as Slack's app config holds them: where the
    # emulator's browser view sends clicks (tests/integration/emulator/web).
    config_of_emulator = emulator or emulator_config()
    if config_of_emulator.request_url is None:
        config_of_emulator = dataclasses.replace(
            config_of_emulator,
            request_url=f"http://127.0.0.1:{seawall_port}/slack/events",
            signing_secret=SIGNING_SECRET,
        )
    if socket_mode:  # Slack requests arrive over the emulator's WebSocket, not HTTP
        config_of_emulator = dataclasses.replace(config_of_emulator, app_token=APP_TOKEN)
        settings.setdefault("slack_app_token", APP_TOKEN)
    emu = SlackEmulator(config_of_emulator)
    emu_server = ServerThread(emu.app)
    emu_server.start()
    config = settings_for(redis_url, f"{emu_server.url}/api/", **settings)
    deps = Deps.connect(config, config=file_config, clock=clock, jobs=jobs)
    server = ServerThread(create_app(config, deps), port=seawall_port)
    server.start()
    sender = SlackSender(
        bot_url=f"{server.url}/slack/events",
        signing_secret=SIGNING_SECRET,
        emulator=emu,
        emulator_url=emu_server.url,
        socket_mode=socket_mode,
    )
    stack = SeawallStack(emu, emu_server, server, deps, sender)
    if poster:
        stack.start_poster()
    if worker:
        stack.start_worker()
    if socket_mode:
        emu.socket.wait_connected()
    return stack


@pytest.fixture
def make_stack(redis_url: str, tmp_path: Path) -> Iterator[StackFactory]:
    """Build a running Seawall + emulator; keyword args override Settings or the emulator."""
    stacks: list[SeawallStack] = []

    def build(**kwargs: Any) -> SeawallStack:
        stack = start_stack(redis_url, **kwargs)
        stacks.append(stack)
        return stack

    yield build
    for stack in stacks:
        stack.close()


@pytest.fixture
def stack(make_stack: StackFactory) -> SeawallStack:
    return make_stack()

"""Fixtures: a fresh emulator per test, served on one shared uvicorn server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient

from bot.emulator import SlackEmulator

from .live_server import LiveServer, serve_switchboard
from .scenario import TOKEN, Clocks, make_config

EmulatorFactory = Callable[..., SlackEmulator]


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    with serve_switchboard() as server:
        yield server


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    """One client for raw requests (httpx.post() would build a new SSL context every call)."""
    with httpx.Client(timeout=5) as client:
        yield client


@pytest.fixture
def clocks() -> Clocks:
    return Clocks()


@pytest.fixture
def make_emulator(live_server: LiveServer, clocks: Clocks) -> EmulatorFactory:
    """Build an emulator with config overrides and serve it on the live server."""

    def build(**overrides: Any) -> SlackEmulator:
        emu = SlackEmulator(make_config(clocks, **overrides))
        live_server.switchboard.target = emu.app
        return emu

    return build


@pytest.fixture
def emu(make_emulator: EmulatorFactory) -> SlackEmulator:
    """An emulator without rate limits, for tests about anything else
    (test_rate_limits.py turns them on)."""
    return make_emulator(rate_limits_enabled=False)


@pytest.fixture
def api_url(live_server: LiveServer) -> str:
    return f"{live_server.url}/api/"


@pytest.fixture
def slack(api_url: str, emu: SlackEmulator) -> WebClient:
    """slack_sdk's own client against the emulator (depends on `emu` so one is plugged in)."""
    return WebClient(token=TOKEN, base_url=api_url)

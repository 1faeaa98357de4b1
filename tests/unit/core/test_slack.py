"""SEAWALL_CHANNEL as #name: looked up in Slack's channel list once, page by page."""

from __future__ import annotations

import asyncio

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.errors import ConfigError
from bot.core.slack import channel_id
from bot.emulator import EmulatorConfig, SlackEmulator
from tests.support.servers import ServerThread


@pytest.fixture
def emulator_url() -> object:
    channels = {f"C0{n:04d}": f"team-{n}" for n in range(1, 1205)}  # more than one page
    emulator = SlackEmulator(EmulatorConfig(bot_token="xoxb-t", channels=channels))
    with ServerThread(emulator.app) as server:
        yield f"{server.url}/api/"


def resolve(url: str, ref: str) -> str:
    return asyncio.run(channel_id(AsyncWebClient(token="xoxb-t", base_url=url), ref))


def test_a_name_on_a_later_page_is_found(emulator_url: str) -> None:
    assert resolve(emulator_url, "#team-1204") == "C01204"


def test_an_id_is_used_as_it_is_without_asking_slack(emulator_url: str) -> None:
    assert resolve("http://127.0.0.1:9/api/", "C0ALERTS") == "C0ALERTS"


def test_an_unknown_name_says_to_use_the_id_and_where_it_is(emulator_url: str) -> None:
    with pytest.raises(ConfigError) as raised:
        resolve(emulator_url, "#nope")
    [problem] = raised.value.problems
    assert problem.startswith("SEAWALL_CHANNEL #nope: Slack knows no channel of that name")
    assert "About tab" in problem
